// Normal-generator kernels: four interleaved xoshiro256++ lanes and the ziggurat's fast path
// (core/random/normal_block.h describes the layout of the draws).
#include "core/kernels/isa/kernels.h"

#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace tvk::kernels::TVK_KERNEL_ISA {
namespace {

constexpr std::size_t kLanes = 4;
constexpr std::uint64_t kOneBits = 0x3ff0000000000000ULL;  // bits of 1.0

// One value per lane (GCC/Clang vector extensions: four 64-bit words; two SSE2 registers on
// baseline x86-64, one AVX2 register otherwise; the values are the same).
using Words = std::uint64_t __attribute__((vector_size(8 * kLanes)));

std::uint64_t layer_of(std::uint64_t word) {
  return (word >> 1) & 127u;
}

}  // namespace

void xoshiro_lanes(std::uint64_t* state, std::uint64_t* out, std::size_t groups) {
  Words s0, s1, s2, s3;
  __builtin_memcpy(&s0, state, sizeof s0);
  __builtin_memcpy(&s1, state + kLanes, sizeof s1);
  __builtin_memcpy(&s2, state + 2 * kLanes, sizeof s2);
  __builtin_memcpy(&s3, state + 3 * kLanes, sizeof s3);
  for (std::size_t g = 0; g < groups; ++g) {
    const Words sum = s0 + s3;
    const Words result = ((sum << 23) | (sum >> 41)) + s0;
    __builtin_memcpy(out + g * kLanes, &result, sizeof result);
    const Words t = s1 << 17;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = (s3 << 45) | (s3 >> 19);
  }
  __builtin_memcpy(state, &s0, sizeof s0);
  __builtin_memcpy(state + kLanes, &s1, sizeof s1);
  __builtin_memcpy(state + 2 * kLanes, &s2, sizeof s2);
  __builtin_memcpy(state + 3 * kLanes, &s3, sizeof s3);
}

void ziggurat_fast(const std::uint64_t* words, std::size_t count, const double* table_x,
                   double* values, std::uint8_t* rejected) {
#if defined(__AVX2__)
  // X[i] and X[i+1] of each lane come from one 16-byte load (AVX2's gathers are slow on
  // several CPUs); the layer indices are computed in scalar registers in parallel.
  const __m256i one_bits = _mm256_set1_epi64x(static_cast<long long>(kOneBits));
  const __m256d one = _mm256_set1_pd(1.0);
  for (std::size_t p = 0; p < count; p += kLanes) {
    const double* x0 = table_x + layer_of(words[p]);
    const double* x1 = table_x + layer_of(words[p + 1]);
    const double* x2 = table_x + layer_of(words[p + 2]);
    const double* x3 = table_x + layer_of(words[p + 3]);
    const __m256d t02 =
        _mm256_insertf128_pd(_mm256_castpd128_pd256(_mm_loadu_pd(x0)), _mm_loadu_pd(x2), 1);
    const __m256d t13 =
        _mm256_insertf128_pd(_mm256_castpd128_pd256(_mm_loadu_pd(x1)), _mm_loadu_pd(x3), 1);
    const __m256d width = _mm256_unpacklo_pd(t02, t13);
    const __m256d next_width = _mm256_unpackhi_pd(t02, t13);
    const __m256i w = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(words + p));
    const __m256d u = _mm256_sub_pd(
        _mm256_castsi256_pd(_mm256_or_si256(_mm256_srli_epi64(w, 12), one_bits)), one);
    const __m256d x = _mm256_mul_pd(u, width);
    const __m256d inside = _mm256_cmp_pd(x, next_width, _CMP_LT_OQ);
    _mm256_storeu_pd(values + p, _mm256_xor_pd(x, _mm256_castsi256_pd(_mm256_slli_epi64(w, 63))));
    rejected[p / kLanes] = static_cast<std::uint8_t>(~_mm256_movemask_pd(inside) & 15);
  }
#else
  // The same operations one lane at a time: u from the 52 high bits, x = u · X[layer], the sign
  // from bit 0.
  for (std::size_t p = 0; p < count; p += kLanes) {
    std::uint8_t mask = 0;
    for (std::size_t j = 0; j < kLanes; ++j) {
      const std::uint64_t w = words[p + j];
      const double u = __builtin_bit_cast(double, (w >> 12) | kOneBits) - 1.0;
      const double x = u * table_x[layer_of(w)];
      values[p + j] = __builtin_bit_cast(double, __builtin_bit_cast(std::uint64_t, x) ^ (w << 63));
      if (!(x < table_x[layer_of(w) + 1])) mask |= static_cast<std::uint8_t>(1u << j);
    }
    rejected[p / kLanes] = mask;
  }
#endif
}

}  // namespace tvk::kernels::TVK_KERNEL_ISA
