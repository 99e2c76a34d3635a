#include "core/certified/top_p_search.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numeric>

namespace tvk {

std::vector<std::uint32_t> top_p_keys(std::span<const double> estimates, double p,
                                      std::vector<std::uint32_t>& order) {
  const std::size_t n = estimates.size();
  order.resize(n);
  std::iota(order.begin(), order.end(), std::uint32_t{0});
  std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
    if (estimates[a] != estimates[b]) return estimates[a] > estimates[b];
    return a < b;
  });
  if (n == 0) return {};
  const double top = estimates[order[0]];
  double total = 0.0;  // from the smallest weight up, for accuracy
  for (std::size_t r = n; r-- > 0;)
    total += std::exp(estimates[order[r]] - top);
  const double target = p * total;
  double head = 0.0;
  std::size_t m = 0;
  while (m < n) {
    head += std::exp(estimates[order[m]] - top);
    ++m;
    if (head >= target) break;
  }
  return {order.begin(), order.begin() + static_cast<std::ptrdiff_t>(m)};
}

}  // namespace tvk
