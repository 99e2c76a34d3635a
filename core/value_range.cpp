#include "core/value_range.h"

#include <algorithm>
#include <cmath>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace tvk {

bool ValueRange::finite() const {
  return !has_nan && std::isfinite(top) && std::isfinite(bottom);
}

ValueRange value_range(std::span<const double> values) {
  const std::size_t n = values.size();
  const double* v = values.data();
  double top = v[0], bottom = v[0];
  bool has_nan = std::isnan(v[0]);
  std::size_t i = 1;
#if defined(__AVX2__)
  // Four lanes, two accumulators each way. A NaN is tracked apart: max/min instructions drop
  // it depending on the operand order.
  if (n >= 9) {
    __m256d hi0 = _mm256_set1_pd(top), hi1 = hi0, lo0 = hi0, lo1 = hi0;
    __m256d nan = _mm256_setzero_pd();
    for (; i + 8 <= n; i += 8) {
      const __m256d a = _mm256_loadu_pd(v + i);
      const __m256d b = _mm256_loadu_pd(v + i + 4);
      hi0 = _mm256_max_pd(hi0, a);
      hi1 = _mm256_max_pd(hi1, b);
      lo0 = _mm256_min_pd(lo0, a);
      lo1 = _mm256_min_pd(lo1, b);
      nan = _mm256_or_pd(nan, _mm256_cmp_pd(a, b, _CMP_UNORD_Q));
    }
    alignas(32) double hi[4], lo[4];
    _mm256_store_pd(hi, _mm256_max_pd(hi0, hi1));
    _mm256_store_pd(lo, _mm256_min_pd(lo0, lo1));
    for (int lane = 0; lane < 4; ++lane) {
      top = std::max(top, hi[lane]);
      bottom = std::min(bottom, lo[lane]);
    }
    has_nan = has_nan || _mm256_movemask_pd(nan) != 0;
  }
#endif
  for (; i < n; ++i) {
    has_nan = has_nan || std::isnan(v[i]);
    top = std::max(top, v[i]);
    bottom = std::min(bottom, v[i]);
  }
  return {top, bottom, has_nan};
}

}  // namespace tvk
