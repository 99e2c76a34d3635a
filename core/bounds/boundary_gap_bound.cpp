// B1, single boundary gap: L̲ = k e^{s_(k)}, Ū = (n−k) e^{s_(k+1)}. Uses two logits and n, k.
#include "core/bounds/boundary_gap_bound.h"

#include <algorithm>
#include <cmath>

namespace tvk {

double BoundaryGapBound::value(const TailProfile& profile, std::size_t k) const {
  const std::size_t n = profile.n();
  if (k >= n) return 0.0;
  // Gap form 1 / (1 + k/(n−k) e^{Δ_k}): Δ_k >= 0, so no 0/0 even when both weights underflow.
  const double gap = profile.logit(k) - profile.logit(k + 1);
  return 1.0 / (1.0 + static_cast<double>(k) / static_cast<double>(n - k) * std::exp(gap));
}

void BoundaryGapBound::certify(const TailProfile& profile, std::span<const double> eps,
                               std::span<const std::size_t> k_eps, std::span<Certificate> out,
                               BoundScratch& /*scratch*/) const {
  const std::size_t n = profile.n();
  const auto w = profile.weights();
  for (std::size_t i = 0; i < eps.size(); ++i) {
    // B1_k <= eps  <=>  k w_k >= c (n−k) w_{k+1} with c = (1−eps)/eps, since e^{Δ_k} =
    // w_k / w_{k+1}. The weight test is only a filter: a k that fails it by more than a
    // 1e-9 relative margin (far above rounding) cannot pass the exact test, every other k
    // gets the exact value, so the result equals the plain scan's.
    const double c = (1.0 - eps[i]) / eps[i] * (1.0 - 1e-9);
    std::size_t k = std::max<std::size_t>(k_eps[i], 1);
    for (; k < n; ++k) {
      const double next = w[k];
      const bool filter_valid = next > 1e-290;  // away from underflow the ratio is exact enough
      if (filter_valid &&
          static_cast<double>(k) * w[k - 1] < c * static_cast<double>(n - k) * next) {
        continue;
      }
      if (value(profile, k) <= eps[i]) break;
    }
    out[i] = Certificate{k, k == n ? 0.0 : value(profile, k), profile.tau(k)};
  }
}

}  // namespace tvk
