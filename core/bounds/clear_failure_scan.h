#pragma once
//! \file Bounds scan k upward from k_eps until their value is <= eps, which at n = 4096 can
//! mean thousands of k. Most of them fail by a wide margin, which a cheap test in the weights
//! shows without the bound's division or exp; this skips such k, eight at a time with AVX2,
//! and leaves every other k to the exact test, so results are the plain scan's.

#include <cstddef>

#include "core/bounds/bound.h"

#if defined(__AVX2__)
#include <immintrin.h>
#define TVK_CLEAR_FAILURE_VECTORS 1
#endif

namespace tvk {

//! The first k in [k, n) for which `scalar(k, kd)` is false (kd = k as a double), or n.
//! `scalar` may only return true where the exact test would fail. With AVX2, `vector(k, kd)`
//! is the same test for k..k+3 (kd holding those k as doubles), returning a lane mask.
template <class Scalar, class Vector>
std::size_t skip_clear_failures(std::size_t k, std::size_t n, Scalar scalar,
                                [[maybe_unused]] Vector vector) {
#ifdef TVK_CLEAR_FAILURE_VECTORS
  const __m256d offsets = _mm256_setr_pd(0.0, 1.0, 2.0, 3.0);
  const __m256d four = _mm256_set1_pd(4.0);
  for (; k + 8 <= n; k += 8) {
    const __m256d kd = _mm256_add_pd(_mm256_set1_pd(static_cast<double>(k)), offsets);
    const __m256d failing = _mm256_and_pd(vector(k, kd), vector(k + 4, _mm256_add_pd(kd, four)));
    if (_mm256_movemask_pd(failing) != 15) break;
  }
#endif
  double kd = static_cast<double>(k);
  for (; k < n && scalar(k, kd); ++k, kd += 1.0) {
  }
  return k;
}

//! bound.certified_k(profile, eps, k) with the k that `scalar` / `vector` show to fail skipped.
template <class Scalar, class Vector>
std::size_t filtered_certified_k(const TopkBound& bound, const TailProfile& profile, double eps,
                                 std::size_t k, Scalar scalar, Vector vector) {
  const std::size_t n = profile.n();
  for (;; ++k) {
    k = skip_clear_failures(k, n, scalar, vector);
    if (k >= n || bound.value(profile, k) <= eps) return k;
  }
}

}  // namespace tvk
