#pragma once
//! \file What the uncertified baselines (THEORY §8: Quest, top-p, StreamingLLM) share: filling a
//! SearchResult's kept set from chosen keys, and reading a real-number key of a search section.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>
#include "core/numerics/eigen.h"

#include "core/certified/certified_search.h"

namespace tvk {

//! Scores `keys` exactly with `scorer` and stores them in `result` in descending logit order
//! (ties by index): kept_keys, kept_logits, kept. `logits` is scratch.
void store_kept(SearchResult& result, const KeyScorer& scorer, const Eigen::VectorXd& query,
                std::vector<std::uint32_t> keys, std::vector<double>& logits);

//! The result of an uncertified baseline over n keys once its kept set is stored: certified
//! false, bound NaN, scored = kept, stop kDenseFallback when every key is kept (kCertified
//! otherwise: SearchStop has no third value; `certified` says that nothing was certified),
//! cost from `cost` and `summaries_read`.
void finish_uncertified(SearchResult& result, std::size_t n, std::size_t summaries_read,
                        CostModel cost);

//! A finite real number written in full (e.g. "0.5", "1e-3"), or nullopt.
std::optional<double> parse_real(std::string_view text);

//! A real number in the closed range [minimum, maximum] (`lower_open` excludes the minimum),
//! `fallback` when absent; anything else is reported at the key ("must be a number in (0, 1],
//! got 'x'").
double read_real(SectionReader& reader, std::string_view key, double fallback, double minimum,
                 double maximum, bool lower_open);

}  // namespace tvk
