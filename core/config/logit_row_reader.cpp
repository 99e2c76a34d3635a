#include "core/config/logit_row_reader.h"

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iostream>

#include "core/error.h"

namespace tvk {
namespace {

bool is_separator(char c) {
  return c == ',' || std::isspace(static_cast<unsigned char>(c));
}

}  // namespace

std::vector<double> read_logit_row(std::istream& in, const std::string& source) {
  std::vector<double> row;
  std::string line;
  std::size_t line_number = 0, masked = 0;
  while (std::getline(in, line)) {
    ++line_number;
    std::size_t i = 0;
    while (i < line.size()) {
      if (is_separator(line[i])) {
        ++i;
        continue;
      }
      if (line[i] == '#') break;  // comment to the end of the line
      std::size_t j = i;
      while (j < line.size() && !is_separator(line[j]))
        ++j;
      const std::string token = line.substr(i, j - i);
      const std::string where = source + ":" + std::to_string(line_number) + ":" +
                                std::to_string(i + 1) + ": token " +
                                std::to_string(row.size() + 1) + " '" + token + "'";
      // from_chars rejects a leading '+', which users do write; skip it, but not in front of a
      // sign ("+-1" is not a number).
      const bool plus = token[0] == '+' && (token.size() < 2 || token[1] != '-');
      const char* begin = token.data() + (plus ? 1 : 0);
      const char* end = token.data() + token.size();
      double value = 0.0;
      const auto [ptr, ec] = std::from_chars(begin, end, value);
      if (ptr != end || begin == end ||
          (ec != std::errc() && ec != std::errc::result_out_of_range)) {
        throw InputError(where + " is not a number");
      }
      if (ec == std::errc::result_out_of_range) {
        throw InputError(where + " is out of the range of a double");
      }
      if (std::isnan(value)) throw InputError(where + ": NaN logits are not allowed");
      if (value == HUGE_VAL) {
        throw InputError(where + ": +inf logits are not allowed (-inf masks a key)");
      }
      if (value == -HUGE_VAL) ++masked;
      row.push_back(value);
      i = j;
    }
  }
  if (in.bad()) throw InputError(source + ": read error");
  if (row.empty()) throw InputError(source + ": the row is empty (expected logits)");
  if (masked == row.size()) {
    throw InputError(source + ": every key is masked (-inf); at least one logit is needed");
  }
  return row;
}

std::vector<double> read_logit_row_file(const std::string& path) {
  if (path == "-") return read_logit_row(std::cin, "<stdin>");
  std::ifstream file(path);
  if (!file) throw InputError(path + ": cannot open (" + std::strerror(errno) + ")");
  return read_logit_row(file, path);
}

}  // namespace tvk
