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
  const std::string text = to_csv_text(table);
  write_atomically(path, [&](const std::filesystem::path& tmp) {
    auto fail = [&](std::string_view action) {
      throw std::runtime_error(path.string() + ": cannot " + std::string(action) + " (" +
                               std::strerror(errno) + ")");
    };
    std::FILE* stream = std::fopen(tmp.string().c_str(), "wb");
    if (stream == nullptr) fail("create " + tmp.string());
    const bool written = std::fwrite(text.data(), 1, text.size(), stream) == text.size();
    const int saved_errno = errno;
    // fclose flushes: a full disk may only show here.
    if (std::fclose(stream) != 0 || !written) {
      if (!written) errno = saved_errno;
      fail("write CSV");
    }
  });
}

}  // namespace tvk
