#include "core/results/csv_writer.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string_view>

#include "core/results/atomic_file.h"

namespace tvk {

std::string to_csv_text(const Table& table) {
  return to_comma_separated_text(
      table, [](const Column& column) { return column.name; },
      // NaN (a missing value) is an empty field, which pandas and spreadsheets read as missing.
      [](double value) { return std::isnan(value) ? std::string() : format_shortest(value); });
}

void write_csv(const std::filesystem::path& path, const Table& table) {
  write_file_atomically(path, to_csv_text(table), "CSV");
}

}  // namespace tvk
