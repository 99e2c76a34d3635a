#pragma once
// The float vectors of the decode kernels (decode_kernels.cpp, code_kernels.cpp), compiled once
// per instruction set inside its namespace: eight float lanes at every set (sixteen where AVX-512
// keeps the same per-lane order), exact binary16 conversion, and lane sums in one fixed order.
#include <cstddef>
#include <cstdint>
#if defined(__F16C__) || defined(__AVX2__)
#include <immintrin.h>
#endif

namespace tvk::kernels::TVK_KERNEL_ISA {
namespace {

using Eight = float __attribute__((vector_size(32)));
using EightBits = std::uint32_t __attribute__((vector_size(32)));
using EightInts = std::int32_t __attribute__((vector_size(32)));
using EightHalves = std::uint16_t __attribute__((vector_size(16)));

// Eight binary16 values to float, exactly. Without F16C: the magnitude bits shifted into a
// float's place give the value times 2^-112 (normal and subnormal halves alike), and the
// multiplication by 2^112 is exact; the cache holds finite halves only.
[[gnu::always_inline]] inline Eight load_halves(const std::uint16_t* p) {
#if defined(__F16C__)
  return __builtin_bit_cast(Eight,
                            _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
#else
  EightHalves h;
  __builtin_memcpy(&h, p, sizeof h);
  const EightBits bits = __builtin_convertvector(h, EightBits);
  const EightBits magnitude = (bits & 0x7fffu) << 13;
  const Eight value = __builtin_bit_cast(Eight, magnitude) * 0x1p112f;
  return __builtin_bit_cast(Eight, __builtin_bit_cast(EightBits, value) | ((bits & 0x8000u) << 16));
#endif
}

[[gnu::always_inline]] inline Eight load_floats(const float* p) {
  Eight v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}

[[gnu::always_inline]] inline float lane_sum(Eight v) {
  return ((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7]));
}

#if defined(__AVX__)
// lane_sum of four vectors at once, in lane_sum's order: ((0 + 1) + (2 + 3)) + ((4 + 5) + (6 + 7)).
[[gnu::always_inline]] inline __m128 reduce_four_floats(Eight a, Eight b, Eight c, Eight d) {
  const __m256 ab = _mm256_hadd_ps(__builtin_bit_cast(__m256, a), __builtin_bit_cast(__m256, b));
  const __m256 cd = _mm256_hadd_ps(__builtin_bit_cast(__m256, c), __builtin_bit_cast(__m256, d));
  const __m256 all = _mm256_hadd_ps(ab, cd);  // low: (0123) of a-d, high: (4567) of a-d
  return _mm_add_ps(_mm256_castps256_ps128(all), _mm256_extractf128_ps(all, 1));
}
#endif

// The int32 vector of a float vector's width.
template <class Vec>
struct IntsOf;
template <>
struct IntsOf<Eight> {
  using type = EightInts;
};

#if defined(__AVX2__)
// The query codes of H heads as int32 pairs (p[2t] low, p[2t + 1] high): one broadcast per
// channel pair multiplies sixteen keys' pair of codes at once (madd; code_kernels.cpp and
// tier_kernels.cpp).
template <int H>
struct QueryPairs {
  std::int32_t pair[H][32];
  QueryPairs(const std::int16_t* p, std::size_t d) {
    for (int h = 0; h < H; ++h) {
      for (std::size_t t = 0; t < d / 2; ++t) {
        const auto lo = static_cast<std::uint16_t>(p[static_cast<std::size_t>(h) * d + 2 * t]);
        const auto hi = static_cast<std::uint16_t>(p[static_cast<std::size_t>(h) * d + 2 * t + 1]);
        pair[h][t] = static_cast<std::int32_t>(static_cast<std::uint32_t>(lo) |
                                               (static_cast<std::uint32_t>(hi) << 16));
      }
    }
  }
};
#endif

#if defined(__AVX512F__)
using Sixteen = float __attribute__((vector_size(64)));
template <>
struct IntsOf<Sixteen> {
  using type = std::int32_t __attribute__((vector_size(64)));
};

// _mm512_cvtph_ps through its zero-masked form: the plain intrinsic starts from
// _mm512_undefined_ps, which GCC 12 reports as maybe-uninitialized (GCC bug 105593).
[[gnu::always_inline]] inline __m512 cvtph_sixteen(__m256i halves) {
  return _mm512_maskz_cvtph_ps(static_cast<__mmask16>(0xffff), halves);
}

// Two keys' eight binary16 channels as one vector: a's in lanes 0-7, b's in lanes 8-15.
[[gnu::always_inline]] inline Sixteen load_half_pair(const std::uint16_t* a,
                                                     const std::uint16_t* b) {
  const __m256i both = _mm256_inserti128_si256(
      _mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a))),
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(b)), 1);
  return __builtin_bit_cast(Sixteen, cvtph_sixteen(both));
}

// Sixteen binary16 values to float, exactly.
[[gnu::always_inline]] inline Sixteen load_sixteen_halves(const std::uint16_t* p) {
  return __builtin_bit_cast(Sixteen,
                            cvtph_sixteen(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))));
}

// lane_sum of eight vectors at once: result lane m = lane_sum(v[m]), the same additions in
// the same order ((0 + 1) + (2 + 3)) + ((4 + 5) + (6 + 7)).
[[gnu::always_inline]] inline Eight reduce_eight_floats(const Eight* v) {
  auto hadd = [](Eight x, Eight y) {
    return __builtin_bit_cast(
        Eight, _mm256_hadd_ps(__builtin_bit_cast(__m256, x), __builtin_bit_cast(__m256, y)));
  };
  const Eight a = hadd(v[0], v[1]), b = hadd(v[2], v[3]), c = hadd(v[4], v[5]),
              e = hadd(v[6], v[7]);
  const Eight ab = hadd(a, b), ce = hadd(c, e);
  // ab: lanes 0-3 the low halves' sums of keys 0-3, lanes 4-7 their high halves'; ce: 4-7.
  const Eight low = __builtin_shufflevector(ab, ce, 0, 1, 2, 3, 8, 9, 10, 11);
  const Eight high = __builtin_shufflevector(ab, ce, 4, 5, 6, 7, 12, 13, 14, 15);
  return low + high;
}
#endif

}  // namespace

}  // namespace tvk::kernels::TVK_KERNEL_ISA
