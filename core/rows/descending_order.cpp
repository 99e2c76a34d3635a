#include "core/rows/descending_order.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/kernels/kernel_set.h"

namespace tvk {
namespace {

constexpr std::size_t kSmallRow = 64;                 // below this a comparison sort is faster
constexpr int kDigitBits = kernels::kRadixDigitBits;  // 2 passes of 11 bits: a 22-bit key
constexpr int kKeyShift = 31 - 2 * kDigitBits;        // keys are computed in [0, 2^31)
constexpr double kKeySpan = 2147483520.0;             // < 2^31 − 1 with room for rounding

bool before(std::span<const double> values, std::uint32_t a, std::uint32_t b) {
  return values[a] > values[b] || (values[a] == values[b] && a < b);
}

// Sorts each run of equal coarse keys exactly. `packed` holds key << 32 | position in sorted
// order; runs are rare, and the kernel finds the next one a block at a time.
void fix_up_runs(std::span<const double> values, const std::uint64_t* packed,
                 std::vector<std::uint32_t>& order) {
  const std::size_t n = order.size();
  const auto next_equal_key = kernels::active_kernels().next_equal_key;
  auto same_key = [packed](std::size_t i) { return ((packed[i] ^ packed[i + 1]) >> 32) == 0; };
  auto less = [values](std::uint32_t a, std::uint32_t b) { return before(values, a, b); };
  for (std::size_t i = next_equal_key(packed, 0, n - 1); i < n - 1;) {
    std::size_t end = i + 2;
    while (end < n && same_key(end - 1))
      ++end;
    const auto first = order.begin() + static_cast<std::ptrdiff_t>(i);
    const auto stop = order.begin() + static_cast<std::ptrdiff_t>(end);
    if (!std::is_sorted(first, stop, less)) std::sort(first, stop, less);
    i = end < n - 1 ? next_equal_key(packed, end, n - 1) : n - 1;
  }
}

}  // namespace

void descending_order(std::span<const double> values, std::vector<std::uint32_t>& order,
                      SortScratch& scratch) {
  if (values.empty()) {
    order.clear();
    return;
  }
  descending_order(values, value_range(values), order, scratch);
}

void descending_order(std::span<const double> values, const ValueRange& range,
                      std::vector<std::uint32_t>& order, SortScratch& scratch) {
  const std::size_t n = values.size();
  order.resize(n);
  if (n < kSmallRow) {
    std::iota(order.begin(), order.end(), 0u);
    std::sort(order.begin(), order.end(),
              [values](std::uint32_t a, std::uint32_t b) { return before(values, a, b); });
    return;
  }
  auto& packed = scratch.packed_a;
  auto& packed_next = scratch.packed_b;
  packed.resize(n);
  packed_next.resize(n);

  // Keys in [0, 2^31): 0 for the largest value. A range that overflows or is zero gives scale 0
  // (every key equal), and the fix-up then sorts the whole row exactly.
  const double top = range.top;
  const double span = top - range.bottom;
  const double scale = span > 0 && std::isfinite(span) ? kKeySpan / span : 0.0;

  // The keys first (a vectorised kernel), then the radix passes (a kernel too): the histograms
  // of both digits and the packing of each key with its position, one 8-byte move per element
  // and pass.
  auto& keys = scratch.keys;
  keys.resize(n);
  kernels::active_kernels().sort_keys(values.data(), n, top, scale, kKeyShift, keys.data());
  const std::uint64_t* in = kernels::active_kernels().radix_order(keys.data(), n, packed.data(),
                                                                  packed_next.data(), order.data());

  // Exact fix-up inside runs of equal coarse keys (distinct doubles can share a key).
  fix_up_runs(values, in, order);
}

}  // namespace tvk
