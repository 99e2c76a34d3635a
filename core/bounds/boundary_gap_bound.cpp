// B1, single boundary gap: L̲ = k e^{s_(k)}, Ū = (n−k) e^{s_(k+1)}. Uses two logits and n, k.
#include "core/bounds/boundary_gap_bound.h"

#include "core/bounds/clear_failure_scan.h"

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
  const double nd = static_cast<double>(n);
  const double* w = profile.weights().data();
  for (std::size_t i = 0; i < eps.size(); ++i) {
    // B1_k <= eps  <=>  k w_k >= c (n−k) w_{k+1} with c = (1−eps)/eps, since e^{Δ_k} =
    // w_k / w_{k+1}. The weight test is only a filter: a k that fails it by more than a
    // 1e-9 relative margin (far above rounding) cannot pass the exact test, every other k
    // gets the exact value, so the result equals the plain scan's. Away from underflow
    // (w_{k+1} > 1e-290) the weight ratio is exact enough for that.
    const double c = (1.0 - eps[i]) / eps[i] * (1.0 - 1e-9);
    const std::size_t k = std::max<std::size_t>(k_eps[i], 1);
    const auto scalar = [w, c, nd](std::size_t kk, double kd) {
      const double next = w[kk];
      return next > 1e-290 && kd * w[kk - 1] < c * (nd - kd) * next;
    };
#ifdef TVK_CLEAR_FAILURE_VECTORS
    const auto vector = [w, c, nd](std::size_t kk, __m256d kd) {
      const __m256d next = _mm256_loadu_pd(w + kk);
      const __m256d lhs = _mm256_mul_pd(kd, _mm256_loadu_pd(w + kk - 1));
      const __m256d rhs = _mm256_mul_pd(
          _mm256_mul_pd(_mm256_set1_pd(c), _mm256_sub_pd(_mm256_set1_pd(nd), kd)), next);
      return _mm256_and_pd(_mm256_cmp_pd(next, _mm256_set1_pd(1e-290), _CMP_GT_OQ),
                           _mm256_cmp_pd(lhs, rhs, _CMP_LT_OQ));
    };
#else
    const auto vector = nullptr;
#endif
    out[i] = certificate(profile, filtered_certified_k(*this, profile, eps[i], k, scalar, vector));
  }
}

}  // namespace tvk
