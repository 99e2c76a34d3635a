#pragma once
//! \file Reads one row of logits from text: numbers separated by whitespace and/or commas,
//! `-inf` allowed as an explicit mask. Every error names the source, line:column and token.

#include <istream>
#include <string>
#include <vector>

namespace tvk {

//! Parses a row. `source` names the input in messages ("row.txt" or "<stdin>"). Throws
//! InputError for an empty row, a token that is not a number, NaN, +inf, or a row whose keys
//! are all masked, e.g. "row.txt:2:7: token 5 'abc' is not a number".
std::vector<double> read_logit_row(std::istream& in, const std::string& source);

//! Opens `path` ("-" = standard input) and parses it.
std::vector<double> read_logit_row_file(const std::string& path);

}  // namespace tvk
