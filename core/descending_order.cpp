#include "core/descending_order.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>

namespace tvk {
namespace {

constexpr std::size_t kSmallRow = 64;  // below this a comparison sort is faster
constexpr int kKeyShift = 10;          // 32-bit keys, the top 22 bits sorted in 2 passes

bool before(std::span<const double> values, std::uint32_t a, std::uint32_t b) {
  return values[a] > values[b] || (values[a] == values[b] && a < b);
}

}  // namespace

void descending_order(std::span<const double> values, std::vector<std::uint32_t>& order,
                      SortScratch& scratch) {
  const std::size_t n = values.size();
  order.resize(n);
  std::iota(order.begin(), order.end(), 0u);
  if (n < kSmallRow) {
    std::sort(order.begin(), order.end(),
              [values](std::uint32_t a, std::uint32_t b) { return before(values, a, b); });
    return;
  }
  auto& keys = scratch.keys_a;
  auto& keys_next = scratch.keys_b;
  auto& positions_next = scratch.positions_b;
  keys.resize(n);
  keys_next.resize(n);
  positions_next.resize(n);

  double top = values[0], bottom = values[0];
  for (std::size_t i = 1; i < n; ++i) {
    top = std::max(top, values[i]);
    bottom = std::min(bottom, values[i]);
  }
  // Keys in [0, 2^32): 0 for the largest value. A range that overflows or is zero gives scale 0
  // (every key equal), and the fix-up then sorts the whole row exactly.
  const double range = top - bottom;
  const double scale = range > 0 && std::isfinite(range) ? 4294967040.0 / range : 0.0;

  // One pass computes the keys and both digit histograms.
  std::array<std::array<std::uint32_t, 2048>, 2> counts{};
  for (std::size_t i = 0; i < n; ++i) {
    const auto key = static_cast<std::uint32_t>((top - values[i]) * scale) >> kKeyShift;
    keys[i] = key;
    ++counts[0][key & 2047u];
    ++counts[1][key >> 11];
  }
  std::uint32_t* key_in = keys.data();
  std::uint32_t* key_out = keys_next.data();
  std::uint32_t* pos_in = order.data();
  std::uint32_t* pos_out = positions_next.data();
  for (int d = 0; d < 2; ++d) {
    auto& count = counts[d];
    const int shift = 11 * d;
    if (count[(key_in[0] >> shift) & 2047u] == n) continue;  // one digit for all: no-op pass
    std::uint32_t offset = 0;
    for (auto& c : count) {
      const std::uint32_t here = c;
      c = offset;
      offset += here;
    }
    for (std::size_t i = 0; i < n; ++i) {  // stable: equal keys keep their order
      const std::uint32_t key = key_in[i];
      const std::uint32_t slot = count[(key >> shift) & 2047u]++;
      key_out[slot] = key;
      pos_out[slot] = pos_in[i];
    }
    std::swap(key_in, key_out);
    std::swap(pos_in, pos_out);
  }
  if (pos_in != order.data()) std::copy(pos_in, pos_in + n, order.data());
  const std::uint32_t* sorted_keys = key_in;

  // Exact fix-up inside runs of equal float keys (distinct doubles can share a float).
  for (std::size_t begin = 0; begin < n;) {
    std::size_t end = begin + 1;
    while (end < n && sorted_keys[end] == sorted_keys[begin])
      ++end;
    if (end - begin > 1) {
      auto less = [values](std::uint32_t a, std::uint32_t b) { return before(values, a, b); };
      if (!std::is_sorted(order.begin() + begin, order.begin() + end, less)) {
        std::sort(order.begin() + begin, order.begin() + end, less);
      }
    }
    begin = end;
  }
}

}  // namespace tvk
