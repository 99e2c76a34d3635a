// Bound-scan kernels: B1's and B2's clear-failure filters (core/bounds/clear_failure_scan.h).
// A filter may only skip k that the exact test would reject; the bound code tests the rest.
#include "core/kernels/isa/kernels.h"

#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace tvk::kernels::TVK_KERNEL_ISA {
namespace {

#if defined(__AVX2__)
// Steps k by 8 while `failing(k', kd)` (the filter for k'..k'+3, kd holding them as doubles)
// rejects all eight of k..k+7; returns the first k of a block it does not (or where fewer than
// 8 remain). A template of this file only: internal linkage, compiled for this set alone.
template <class Failing>
std::size_t skip_blocks_of_eight(std::size_t k, std::size_t n, Failing failing) {
  const __m256d offsets = _mm256_setr_pd(0.0, 1.0, 2.0, 3.0);
  const __m256d four = _mm256_set1_pd(4.0);
  for (; k + 8 <= n; k += 8) {
    const __m256d kd = _mm256_add_pd(_mm256_set1_pd(static_cast<double>(k)), offsets);
    const __m256d both = _mm256_and_pd(failing(k, kd), failing(k + 4, _mm256_add_pd(kd, four)));
    if (_mm256_movemask_pd(both) != 15) break;
  }
  return k;
}
#endif

}  // namespace

std::size_t b1_skip(const double* w, std::size_t k, std::size_t n, double c, double nd) {
  // Fails clearly: kd w[k−1] < c (n − k) w[k] (0-based weights), with w[k] above underflow.
#if defined(__AVX2__)
  const __m256d vc = _mm256_set1_pd(c), vn = _mm256_set1_pd(nd), tiny = _mm256_set1_pd(1e-290);
  k = skip_blocks_of_eight(k, n, [&](std::size_t kk, __m256d kd) {
    const __m256d next = _mm256_loadu_pd(w + kk);
    const __m256d lhs = _mm256_mul_pd(kd, _mm256_loadu_pd(w + kk - 1));
    const __m256d rhs = _mm256_mul_pd(_mm256_mul_pd(vc, _mm256_sub_pd(vn, kd)), next);
    return _mm256_and_pd(_mm256_cmp_pd(next, tiny, _CMP_GT_OQ),
                         _mm256_cmp_pd(lhs, rhs, _CMP_LT_OQ));
  });
#endif
  double kd = static_cast<double>(k);
  for (; k < n; ++k, kd += 1.0) {
    const double next = w[k];
    if (!(next > 1e-290 && kd * w[k - 1] < c * (nd - kd) * next)) break;
  }
  return k;
}

std::size_t b2_skip(const double* w, const double* head, std::size_t k, std::size_t n, double keep,
                    double margin, double nd) {
  // Fails clearly: (n − k) w[k] keep > margin head[k].
#if defined(__AVX2__)
  const __m256d vkeep = _mm256_set1_pd(keep), vmargin = _mm256_set1_pd(margin),
                vn = _mm256_set1_pd(nd);
  k = skip_blocks_of_eight(k, n, [&](std::size_t kk, __m256d kd) {
    const __m256d upper =
        _mm256_mul_pd(_mm256_mul_pd(_mm256_sub_pd(vn, kd), _mm256_loadu_pd(w + kk)), vkeep);
    const __m256d lower = _mm256_mul_pd(vmargin, _mm256_loadu_pd(head + kk));
    return _mm256_cmp_pd(upper, lower, _CMP_GT_OQ);
  });
#endif
  double kd = static_cast<double>(k);
  for (; k < n; ++k, kd += 1.0) {
    if (!((nd - kd) * w[k] * keep > margin * head[k])) break;
  }
  return k;
}

}  // namespace tvk::kernels::TVK_KERNEL_ISA
