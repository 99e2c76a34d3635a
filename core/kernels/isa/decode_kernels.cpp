// Decode-step kernels over a 16-bit KV cache (core/certified/decode_attention.h): logits from
// binary16 keys, P·V over binary16 values, softmax weights, and the exact integer dot products
// of int16 queries with int8 key codes. Float lanes are eight wide at every instruction set,
// with one fixed summation order, so every set gives the same bits; integer sums are exact.
#include "core/kernels/isa/kernels.h"
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

namespace {

// H heads, two keys at a time: 2 H independent accumulators hide the add latency, and each
// key block is converted once for every head. Each (head, key) sum is the documented order:
// eight lanes of channels c mod 8, each in order of c, then lane_sum.
template <int H>
void half_logits_heads(const float* q, const std::uint16_t* keys, const std::uint32_t* rows,
                       std::size_t count, std::size_t d, float scale, float* out) {
  std::size_t i = 0;
#if defined(__AVX512F__)
  // Eight keys at a time, two per 16-lane vector (key 2m in lanes 0-7, key 2m + 1 in lanes
  // 8-15): the same eight lanes per key as below, at twice the width, and the 8 H sums
  // reduced together (reduce_eight_floats' order is lane_sum's).
  for (; i + 8 <= count; i += 8) {
    const std::uint16_t* k[8];
    for (int m = 0; m < 8; ++m)
      k[m] = keys + static_cast<std::size_t>(rows ? rows[i + m] : i + m) * d;
    if (rows == nullptr) {  // a stream: 32 keys (4 KB at d = 64) ahead
      for (std::size_t line = 0; line < 8 * d; line += 32)
        __builtin_prefetch(keys + (i + 32) * d + line);
    } else if (i + 16 <= count) {  // gathers: the rows of the next eight keys
      for (int m = 8; m < 16; ++m) {
        const std::uint16_t* ahead = keys + static_cast<std::size_t>(rows[i + m]) * d;
        __builtin_prefetch(ahead);
        __builtin_prefetch(ahead + d - 8);
      }
    }
    Sixteen s[H][4] = {};
    for (std::size_t c = 0; c < d; c += 8) {
      const Sixteen a0 = load_half_pair(k[0] + c, k[1] + c),
                    a1 = load_half_pair(k[2] + c, k[3] + c);
      const Sixteen a2 = load_half_pair(k[4] + c, k[5] + c),
                    a3 = load_half_pair(k[6] + c, k[7] + c);
      for (int h = 0; h < H; ++h) {
        const Eight q8 = load_floats(q + static_cast<std::size_t>(h) * d + c);
        const Sixteen qh =
            __builtin_shufflevector(q8, q8, 0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7);
        s[h][0] += qh * a0;
        s[h][1] += qh * a1;
        s[h][2] += qh * a2;
        s[h][3] += qh * a3;
      }
    }
    for (int h = 0; h < H; ++h) {
      Eight halves[8];
      for (int m = 0; m < 4; ++m) {
        halves[2 * m] = __builtin_shufflevector(s[h][m], s[h][m], 0, 1, 2, 3, 4, 5, 6, 7);
        halves[2 * m + 1] = __builtin_shufflevector(s[h][m], s[h][m], 8, 9, 10, 11, 12, 13, 14, 15);
      }
      const Eight sums = scale * reduce_eight_floats(halves);
      __builtin_memcpy(out + static_cast<std::size_t>(h) * count + i, &sums, sizeof sums);
    }
  }
#endif
  for (; i + 2 <= count; i += 2) {
    if (rows != nullptr && i + 10 <= count) {  // gathers: the rows of 8 keys ahead
      __builtin_prefetch(keys + static_cast<std::size_t>(rows[i + 8]) * d);
      __builtin_prefetch(keys + static_cast<std::size_t>(rows[i + 8]) * d + d - 8);
      __builtin_prefetch(keys + static_cast<std::size_t>(rows[i + 9]) * d);
      __builtin_prefetch(keys + static_cast<std::size_t>(rows[i + 9]) * d + d - 8);
    }
    const std::uint16_t* k0 = keys + static_cast<std::size_t>(rows ? rows[i] : i) * d;
    const std::uint16_t* k1 = keys + static_cast<std::size_t>(rows ? rows[i + 1] : i + 1) * d;
    Eight s0[H] = {}, s1[H] = {};
    for (std::size_t c = 0; c < d; c += 8) {
      const Eight a = load_halves(k0 + c), b = load_halves(k1 + c);
      for (int h = 0; h < H; ++h) {
        const Eight qh = load_floats(q + static_cast<std::size_t>(h) * d + c);
        s0[h] += qh * a;
        s1[h] += qh * b;
      }
    }
#if defined(__AVX__)
    // Two heads' pairs of sums reduced at once (reduce_four_floats: lane_sum's order).
    for (int h = 0; h < H; h += 2) {
      const int g = h + 1 < H ? h + 1 : h;
      const __m128 sums = reduce_four_floats(s0[h], s1[h], s0[g], s1[g]);
      out[static_cast<std::size_t>(h) * count + i] = scale * sums[0];
      out[static_cast<std::size_t>(h) * count + i + 1] = scale * sums[1];
      if (g != h) {
        out[static_cast<std::size_t>(g) * count + i] = scale * sums[2];
        out[static_cast<std::size_t>(g) * count + i + 1] = scale * sums[3];
      }
    }
#else
    for (int h = 0; h < H; ++h) {
      out[static_cast<std::size_t>(h) * count + i] = scale * lane_sum(s0[h]);
      out[static_cast<std::size_t>(h) * count + i + 1] = scale * lane_sum(s1[h]);
    }
#endif
  }
  for (; i < count; ++i) {
    const std::uint16_t* k0 = keys + static_cast<std::size_t>(rows ? rows[i] : i) * d;
    Eight s0[H] = {};
    for (std::size_t c = 0; c < d; c += 8) {
      const Eight a = load_halves(k0 + c);
      for (int h = 0; h < H; ++h)
        s0[h] += load_floats(q + static_cast<std::size_t>(h) * d + c) * a;
    }
    for (int h = 0; h < H; ++h)
      out[static_cast<std::size_t>(h) * count + i] = scale * lane_sum(s0[h]);
  }
}

}  // namespace

void half_logits(const float* q, std::size_t heads, const std::uint16_t* keys,
                 const std::uint32_t* rows, std::size_t count, std::size_t d, float scale,
                 float* out) {
  switch (heads) {
    case 1:
      return half_logits_heads<1>(q, keys, rows, count, d, scale, out);
    case 2:
      return half_logits_heads<2>(q, keys, rows, count, d, scale, out);
    case 3:
      return half_logits_heads<3>(q, keys, rows, count, d, scale, out);
    case 4:
      return half_logits_heads<4>(q, keys, rows, count, d, scale, out);
    default:
      for (std::size_t h = 0; h < heads; ++h)
        half_logits_heads<1>(q + h * d, keys, rows, count, d, scale, out + h * count);
  }
}

namespace {

// acc[h][c] += Σ_i w[h][i] v_c for H heads: each value row is converted once for every head.
// Channel blocks of 32 keep 4 H accumulators in registers; per (head, channel) the sum runs
// in order of i, then is added to acc.
template <int H>
void half_accumulate_heads(const float* w, const std::uint16_t* values, const std::uint32_t* rows,
                           std::size_t count, std::size_t d, float* acc) {
#if defined(__AVX512F__)
  // Sixteen-lane vectors: the whole row (d <= 64) in 4 H accumulators, one pass over the rows.
  // Lanes are channels, so each sum is the same as at eight lanes.
  if (d % 16 == 0) {
    Sixteen sums[H][4] = {};
    const std::size_t blocks = d / 16;
    for (std::size_t i = 0; i < count; ++i) {
      if (rows == nullptr) {  // a stream: 32 rows ahead
        __builtin_prefetch(values + (i + 32) * d);
        __builtin_prefetch(values + (i + 32) * d + 32);
      } else if (i + 8 < count) {
        const std::uint16_t* ahead = values + static_cast<std::size_t>(rows[i + 8]) * d;
        __builtin_prefetch(ahead);
        __builtin_prefetch(ahead + d - 8);
      }
      const std::uint16_t* value = values + static_cast<std::size_t>(rows ? rows[i] : i) * d;
      for (std::size_t b = 0; b < blocks; ++b) {
        const Sixteen v = load_sixteen_halves(value + 16 * b);
        for (int h = 0; h < H; ++h)
          sums[h][b] += w[static_cast<std::size_t>(h) * count + i] * v;
      }
    }
    for (int h = 0; h < H; ++h) {
      float* a = acc + static_cast<std::size_t>(h) * d;
      for (std::size_t b = 0; b < blocks; ++b) {
        Sixteen sum;
        __builtin_memcpy(&sum, a + 16 * b, sizeof sum);
        sum += sums[h][b];
        __builtin_memcpy(a + 16 * b, &sum, sizeof sum);
      }
    }
    return;
  }
#endif
  for (std::size_t block = 0; block < d; block += 32) {
    const std::size_t width = d - block < 32 ? d - block : 32;
    Eight sums[H][4] = {};
    for (std::size_t i = 0; i < count; ++i) {
      if (rows != nullptr && i + 8 < count) {
        const std::uint16_t* ahead = values + static_cast<std::size_t>(rows[i + 8]) * d + block;
        __builtin_prefetch(ahead);
        __builtin_prefetch(ahead + width - 8);
      }
      const std::uint16_t* value =
          values + static_cast<std::size_t>(rows ? rows[i] : i) * d + block;
      for (std::size_t c = 0; c < width; c += 8) {
        const Eight v = load_halves(value + c);
        for (int h = 0; h < H; ++h)
          sums[h][c / 8] += w[static_cast<std::size_t>(h) * count + i] * v;
      }
    }
    for (int h = 0; h < H; ++h) {
      float* a = acc + static_cast<std::size_t>(h) * d + block;
      for (std::size_t c = 0; c < width; c += 8) {
        const Eight sum = load_floats(a + c) + sums[h][c / 8];
        __builtin_memcpy(a + c, &sum, sizeof sum);
      }
    }
  }
}

}  // namespace

void half_accumulate(const float* w, std::size_t heads, const std::uint16_t* values,
                     const std::uint32_t* rows, std::size_t count, std::size_t d, float* acc) {
  switch (heads) {
    case 1:
      return half_accumulate_heads<1>(w, values, rows, count, d, acc);
    case 2:
      return half_accumulate_heads<2>(w, values, rows, count, d, acc);
    case 3:
      return half_accumulate_heads<3>(w, values, rows, count, d, acc);
    case 4:
      return half_accumulate_heads<4>(w, values, rows, count, d, acc);
    default:
      for (std::size_t h = 0; h < heads; ++h)
        half_accumulate_heads<1>(w + h * count, values, rows, count, d, acc + h * d);
  }
}

float exp_floats(const float* in, std::size_t n, float shift, float* out) {
  // Cephes' expf: x = m ln 2 + r, |r| <= ln2/2 (ln 2 in two parts), a degree-5 polynomial for
  // e^r, then 2^m from the exponent bits. Inputs below −87 give 0 (the weight of such a key is
  // below 2^-125 of the row's largest). The sum: eight lanes in order of i, then lane_sum.
  // One template for eight and sixteen lanes: the same operations lane by lane.
  auto lane_exp = [](auto x) {
    using Vec = decltype(x);
    using Ints = typename IntsOf<Vec>::type;
    const Ints tiny = x < -87.0f;
    x = x > 88.0f ? Vec{} + 88.0f : x;
    x = x < -87.0f ? Vec{} - 87.0f : x;
    Vec t = x * 1.44269504088896341f + 0.5f;
    Vec m = __builtin_convertvector(__builtin_convertvector(t, Ints), Vec);
    m = m > t ? m - 1.0f : m;
    Vec r = x - m * 0.693359375f;
    r = r - m * -2.12194440e-4f;
    Vec p = r * 1.9875691500e-4f + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * (r * r) + r + 1.0f;
    const Ints exponent = (__builtin_convertvector(m, Ints) + 127) << 23;
    const Vec result = p * __builtin_bit_cast(Vec, exponent);
    return __builtin_bit_cast(Vec, __builtin_bit_cast(Ints, result) & ~tiny);
  };
  Eight sum{};
  std::size_t i = 0;
#if defined(__AVX512F__)
  // Sixteen at a time; the sum still adds elements i..i+7 then i+8..i+15 to the eight lanes.
  for (; i + 16 <= n; i += 16) {
    Sixteen x;
    __builtin_memcpy(&x, in + i, sizeof x);
    const Sixteen e = lane_exp(x - shift);
    sum += __builtin_shufflevector(e, e, 0, 1, 2, 3, 4, 5, 6, 7);
    sum += __builtin_shufflevector(e, e, 8, 9, 10, 11, 12, 13, 14, 15);
    __builtin_memcpy(out + i, &e, sizeof e);
  }
#endif
  for (; i + 8 <= n; i += 8) {
    const Eight e = lane_exp(load_floats(in + i) - shift);
    sum += e;
    __builtin_memcpy(out + i, &e, sizeof e);
  }
  if (i < n) {
    float buffer[8];
    for (std::size_t j = 0; j < 8; ++j)
      buffer[j] = i + j < n ? in[i + j] : -__builtin_inff();
    const Eight e = lane_exp(load_floats(buffer) - shift);
    sum += e;
    __builtin_memcpy(buffer, &e, sizeof e);
    for (std::size_t j = 0; i + j < n; ++j)
      out[i + j] = buffer[j];
  }
  return lane_sum(sum);
}

float max_floats(const float* in, std::size_t n) {
  Eight top = Eight{} - __builtin_inff();
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const Eight v = load_floats(in + i);
    top = v > top ? v : top;
  }
  float m = -__builtin_inff();
  for (int l = 0; l < 8; ++l)
    m = top[l] > m ? top[l] : m;
  for (; i < n; ++i)
    m = in[i] > m ? in[i] : m;
  return m;
}

namespace {

// The bound of one key from its exact dot product (the formula of code_upper's contract).
[[gnu::always_inline]] inline float key_upper(std::int32_t dot, float scale, float radius, float c,
                                              float e, float a) {
  return scale * (c * static_cast<float>(dot) + e) + radius * a;
}

// Σ_c p[c] m_j[c] for key j of the tiles, exactly.
[[gnu::always_inline]] inline std::int32_t tile_dot(const std::int16_t* p, const std::int8_t* tiles,
                                                    std::size_t j, std::size_t d) {
  const std::int8_t* m = tiles + (j / 16) * 16 * d + (j % 16) * 2;
  std::int32_t sum = 0;
  for (std::size_t c = 0; c < d; ++c)
    sum += static_cast<std::int32_t>(p[c]) * m[(c / 2) * 32 + c % 2];
  return sum;
}

#if defined(__AVX2__)
// The query codes of H heads as int32 pairs (p[2t] low, p[2t + 1] high): one broadcast per
// channel pair multiplies sixteen keys' pair of codes at once (madd).
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

#if defined(__AVX512BW__)
// The exact dots of one tile's sixteen keys with H queries: lane k of dots[h] is key k's.
template <int H>
[[gnu::always_inline]] inline void tile_dots(const QueryPairs<H>& q, const std::int8_t* tile,
                                             std::size_t d, __m512i* dots) {
  for (int h = 0; h < H; ++h)
    dots[h] = _mm512_setzero_si512();
  for (std::size_t t = 0; t < d / 2; ++t) {
    const __m512i m =
        _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(tile + 32 * t)));
    for (int h = 0; h < H; ++h)
      dots[h] = _mm512_add_epi32(dots[h], _mm512_madd_epi16(m, _mm512_set1_epi32(q.pair[h][t])));
  }
}

// The same with VNNI's fused multiply-add of pairs (vpdpwssd), for CPUs that have it.
template <int H>
[[gnu::target("avx512vnni")]] void tile_dots_vnni(const QueryPairs<H>& q, const std::int8_t* tile,
                                                  std::size_t d, __m512i* dots) {
  for (int h = 0; h < H; ++h)
    dots[h] = _mm512_setzero_si512();
  for (std::size_t t = 0; t < d / 2; ++t) {
    const __m512i m =
        _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(tile + 32 * t)));
    for (int h = 0; h < H; ++h)
      dots[h] = _mm512_dpwssd_epi32(dots[h], m, _mm512_set1_epi32(q.pair[h][t]));
  }
}
#elif defined(__AVX2__)
// Eight keys of a tile (half 0: keys 0-7, half 1: keys 8-15) at a time.
template <int H>
[[gnu::always_inline]] inline void tile_dots(const QueryPairs<H>& q, const std::int8_t* tile,
                                             std::size_t d, __m256i (*dots)[2]) {
  for (int h = 0; h < H; ++h)
    dots[h][0] = dots[h][1] = _mm256_setzero_si256();
  for (std::size_t t = 0; t < d / 2; ++t) {
    const __m256i m0 =
        _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(tile + 32 * t)));
    const __m256i m1 =
        _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(tile + 32 * t + 16)));
    for (int h = 0; h < H; ++h) {
      const __m256i qh = _mm256_set1_epi32(q.pair[h][t]);
      dots[h][0] = _mm256_add_epi32(dots[h][0], _mm256_madd_epi16(m0, qh));
      dots[h][1] = _mm256_add_epi32(dots[h][1], _mm256_madd_epi16(m1, qh));
    }
  }
}
#endif

// The summary pass streams the tiles: the tile of keys [ahead, ahead + 16) (d · 16 bytes) and
// their scales and radii are fetched while earlier tiles are scored (a prefetch past the end is
// harmless).
[[gnu::always_inline]] inline void prefetch_tile(const std::int8_t* tiles, const float* scales,
                                                 const float* radii, std::size_t ahead,
                                                 std::size_t d) {
  for (std::size_t line = 0; line < 16 * d; line += 64)
    __builtin_prefetch(tiles + ahead * d + line);
  __builtin_prefetch(scales + ahead);
  __builtin_prefetch(radii + ahead);
}

template <int H>
void code_upper_heads(const std::int16_t* p, const std::int8_t* tiles, const float* scales,
                      const float* radii, std::size_t count, std::size_t d, const float* c,
                      const float* e, const float* a, float* upper, float* tops) {
  Eight top[H];
  for (int h = 0; h < H; ++h)
    top[h] = Eight{} - __builtin_inff();
  std::size_t i = 0;
#if defined(__AVX2__)
  const QueryPairs<H> q(p, d);
  // Eight keys' bounds of head h from their dots (the contract's formula, lane by lane).
  auto bound = [&](int h, std::size_t at, __m256i dots) {
    const Eight dot = __builtin_convertvector(__builtin_bit_cast(EightInts, dots), Eight);
    const Eight u = load_floats(scales + at) * (c[h] * dot + e[h]) + load_floats(radii + at) * a[h];
    __builtin_memcpy(upper + static_cast<std::size_t>(h) * count + at, &u, sizeof u);
    top[h] = u > top[h] ? u : top[h];
  };
#if defined(__AVX512BW__)
  static const bool vnni = __builtin_cpu_supports("avx512vnni");
  for (; i + 16 <= count; i += 16) {
    prefetch_tile(tiles, scales, radii, i + 64, d);
    __m512i dots[H];
    if (vnni) {
      tile_dots_vnni<H>(q, tiles + i * d, d, dots);
    } else {
      tile_dots<H>(q, tiles + i * d, d, dots);
    }
    using SixteenInts = std::int32_t __attribute__((vector_size(64)));
    for (int h = 0; h < H; ++h) {
      const auto v = __builtin_bit_cast(SixteenInts, dots[h]);
      bound(h, i,
            __builtin_bit_cast(__m256i, __builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7)));
      bound(
          h, i + 8,
          __builtin_bit_cast(__m256i, __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15)));
    }
  }
#else
  for (; i + 16 <= count; i += 16) {
    prefetch_tile(tiles, scales, radii, i + 64, d);
    __m256i dots[H][2];
    tile_dots<H>(q, tiles + i * d, d, dots);
    for (int h = 0; h < H; ++h) {
      bound(h, i, dots[h][0]);
      bound(h, i + 8, dots[h][1]);
    }
  }
#endif
#endif
  for (int h = 0; h < H; ++h) {
    float m = -__builtin_inff();
    for (int l = 0; l < 8; ++l)
      m = top[h][l] > m ? top[h][l] : m;
    for (std::size_t j = i; j < count; ++j) {
      const std::int32_t dot = tile_dot(p + static_cast<std::size_t>(h) * d, tiles, j, d);
      const float u = key_upper(dot, scales[j], radii[j], c[h], e[h], a[h]);
      upper[static_cast<std::size_t>(h) * count + j] = u;
      m = u > m ? u : m;
    }
    tops[h] = m;
  }
}

}  // namespace

void code_upper(const std::int16_t* p, std::size_t heads, const std::int8_t* tiles,
                const float* scales, const float* radii, std::size_t count, std::size_t d,
                const float* c, const float* e, const float* a, float* upper, float* tops) {
  switch (heads) {
    case 1:
      return code_upper_heads<1>(p, tiles, scales, radii, count, d, c, e, a, upper, tops);
    case 2:
      return code_upper_heads<2>(p, tiles, scales, radii, count, d, c, e, a, upper, tops);
    case 3:
      return code_upper_heads<3>(p, tiles, scales, radii, count, d, c, e, a, upper, tops);
    case 4:
      return code_upper_heads<4>(p, tiles, scales, radii, count, d, c, e, a, upper, tops);
    default:
      for (std::size_t h = 0; h < heads; ++h)
        code_upper_heads<1>(p + h * d, tiles, scales, radii, count, d, c + h, e + h, a + h,
                            upper + h * count, tops + h);
  }
}

std::uint32_t code_buckets(const float* upper, std::size_t count, float top, float grid,
                           std::uint32_t last, std::uint16_t* buckets, std::uint32_t* counts) {
  // The bucket of each key, eight lanes at a time (the same float operations as the scalar
  // formula, lane by lane); then the counts, in two interleaved tables so that runs of keys
  // in one bucket do not wait on each other's increments.
  const float limit = static_cast<float>(last);
  using EightShorts = std::uint16_t __attribute__((vector_size(16)));
  EightBits deepest_lanes{};
  std::size_t j = 0;
  for (; j + 8 <= count; j += 8) {
    const Eight units = (top - load_floats(upper + j)) * grid;
    const Eight clamped = units < limit ? units : Eight{} + limit;
    const EightBits b = __builtin_convertvector(clamped, EightBits);
    deepest_lanes = b > deepest_lanes ? b : deepest_lanes;
    const EightShorts narrow = __builtin_convertvector(b, EightShorts);
    __builtin_memcpy(buckets + j, &narrow, sizeof narrow);
  }
  std::uint32_t deepest = 0;
  for (int l = 0; l < 8; ++l)
    deepest = deepest_lanes[l] > deepest ? deepest_lanes[l] : deepest;
  for (; j < count; ++j) {
    const float units = (top - upper[j]) * grid;
    const std::uint32_t b = units < limit ? static_cast<std::uint32_t>(units) : last;
    buckets[j] = static_cast<std::uint16_t>(b);
    deepest = b > deepest ? b : deepest;
  }
  std::uint32_t* second = counts + last + 1;
  j = 0;
  for (; j + 2 <= count; j += 2) {
    ++counts[buckets[j]];
    ++second[buckets[j + 1]];
  }
  if (j < count) ++counts[buckets[j]];
  for (std::uint32_t b = 0; b <= deepest; ++b) {
    counts[b] += second[b];
    second[b] = 0;
  }
  return deepest;
}

std::size_t select_buckets(const std::uint16_t* buckets, std::size_t count, std::uint32_t low,
                           std::uint32_t high, std::uint32_t* out) {
  const auto first = static_cast<std::uint16_t>(low);
  const auto width = static_cast<std::uint16_t>(high - low);
  std::size_t n = 0, j = 0;
#if defined(__AVX2__)
  // Sixteen keys compared at once; the few inside [low, high] are written by their mask's
  // bits (two per key), in increasing order.
  const __m256i lowest = _mm256_set1_epi16(static_cast<short>(first));
  const __m256i widest = _mm256_set1_epi16(static_cast<short>(width));
  for (; j + 16 <= count; j += 16) {
    const __m256i b =
        _mm256_sub_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(buckets + j)), lowest);
    // b − low <= width, unsigned: min(b − low, width) == b − low.
    const __m256i inside = _mm256_cmpeq_epi16(_mm256_min_epu16(b, widest), b);
    auto mask = static_cast<std::uint32_t>(_mm256_movemask_epi8(inside));
    while (mask != 0) {
      out[n++] =
          static_cast<std::uint32_t>(j) + static_cast<std::uint32_t>(__builtin_ctz(mask)) / 2;
      mask &= mask - 1;
      mask &= mask - 1;
    }
  }
#endif
  for (; j < count; ++j) {
    out[n] = static_cast<std::uint32_t>(j);
    n += static_cast<std::uint16_t>(buckets[j] - first) <= width;
  }
  return n;
}

}  // namespace tvk::kernels::TVK_KERNEL_ISA
