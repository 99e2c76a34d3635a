#include "core/vector_exp.h"

#include <cmath>
#include <cstring>

#if defined(TVK_HAVE_LIBMVEC) && defined(__AVX2__)
#include <immintrin.h>
extern "C" __m256d _ZGVdN4v_exp(__m256d x);  // glibc libmvec, AVX2 variant of exp
#define TVK_VECTOR_EXP 1
#endif

namespace tvk {

void exp_shifted(std::span<const double> in, double shift, std::span<double> out) {
  const std::size_t n = in.size();
#ifdef TVK_VECTOR_EXP
  const __m256d s = _mm256_set1_pd(shift);
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const __m256d x = _mm256_sub_pd(_mm256_loadu_pd(in.data() + i), s);
    _mm256_storeu_pd(out.data() + i, _ZGVdN4v_exp(x));
  }
  if (i < n) {  // the remainder through the same routine, padded with zeros
    alignas(32) double buffer[4] = {shift, shift, shift, shift};
    std::memcpy(buffer, in.data() + i, (n - i) * sizeof(double));
    const __m256d x = _mm256_sub_pd(_mm256_load_pd(buffer), s);
    _mm256_store_pd(buffer, _ZGVdN4v_exp(x));
    std::memcpy(out.data() + i, buffer, (n - i) * sizeof(double));
  }
#else
  for (std::size_t i = 0; i < n; ++i)
    out[i] = std::exp(in[i] - shift);
#endif
}

}  // namespace tvk
