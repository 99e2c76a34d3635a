#include "core/text/text.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <stdexcept>

namespace tvk {

std::string format_shortest(double value) {
  if (std::isnan(value)) return "nan";  // to_chars may print "-nan"
  std::array<char, 64> buffer{};
  const auto [end, error] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
  if (error != std::errc()) throw std::runtime_error("format_shortest: to_chars failed");
  return std::string(buffer.data(), end);
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  // Full table: names are short, and the swap rule needs two rows back.
  const std::size_t rows = a.size() + 1;
  const std::size_t cols = b.size() + 1;
  std::vector<std::size_t> d(rows * cols);
  auto at = [&](std::size_t i, std::size_t j) -> std::size_t& { return d[i * cols + j]; };
  for (std::size_t i = 0; i < rows; ++i)
    at(i, 0) = i;
  for (std::size_t j = 0; j < cols; ++j)
    at(0, j) = j;
  for (std::size_t i = 1; i < rows; ++i) {
    for (std::size_t j = 1; j < cols; ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      std::size_t best = std::min({at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        best = std::min(best, at(i - 2, j - 2) + 1);
      }
      at(i, j) = best;
    }
  }
  return at(rows - 1, cols - 1);
}

std::string closest_name(std::string_view value, const std::vector<std::string>& candidates) {
  std::string best;
  std::size_t best_distance = 3;
  for (const auto& candidate : candidates) {
    if (candidate == value) continue;
    const std::size_t distance = edit_distance(value, candidate);
    const std::size_t longer = std::max(value.size(), candidate.size());
    if (distance <= 2 && distance < longer && distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  if (!best.empty()) return best;
  for (const auto& candidate : candidates) {
    const std::string_view c = candidate;
    if (c == value) continue;
    if ((value.size() >= 2 && c.starts_with(value)) || (c.size() >= 2 && value.starts_with(c))) {
      return candidate;
    }
  }
  return best;
}

}  // namespace tvk
