#pragma once
//! \file Text helpers every corner shares: the round-trip number text of results files and
//! messages, and the did-you-mean guess of an unknown name (config keys, model types, searches).

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace tvk {

//! The shortest text that reads back as the same double (std::to_chars): "0.1", "1", "-0",
//! "1e+300"; "inf" and "-inf"; "nan" for every NaN (the sign and payload of a NaN carry nothing).
std::string format_shortest(double value);

//! Optimal string alignment distance: an insertion, a deletion, a substitution or a swap of two
//! adjacent characters each cost 1 ("sigam" is one typo from "sigma").
std::size_t edit_distance(std::string_view a, std::string_view b);

//! The candidate a mistyped `value` most likely meant, or "" when none is close: the nearest
//! within two typos (and fewer typos than letters, so "x" does not suggest "n"; the first
//! candidate wins a tie), else the first candidate that `value` begins (or that begins `value`),
//! two letters at least. A candidate equal to `value` is never suggested.
std::string closest_name(std::string_view value, const std::vector<std::string>& candidates);

}  // namespace tvk
