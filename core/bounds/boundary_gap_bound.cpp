// B1, single boundary gap: L̲ = k e^{s_(k)}, Ū = (n−k) e^{s_(k+1)}. Uses two logits and n, k.
#include "core/bounds/boundary_gap_bound.h"

#include <cmath>

namespace tvk {

double BoundaryGapBound::value(const TailProfile& profile, std::size_t k) const {
  const std::size_t n = profile.n();
  if (k >= n) return 0.0;
  // Gap form 1 / (1 + k/(n−k) e^{Δ_k}): Δ_k >= 0, so no 0/0 even when both weights underflow.
  const double gap = profile.logit(k) - profile.logit(k + 1);
  return 1.0 / (1.0 + static_cast<double>(k) / static_cast<double>(n - k) * std::exp(gap));
}

}  // namespace tvk
