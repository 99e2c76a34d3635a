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

}  // namespace

namespace {

// H heads, two keys at a time: 2 H independent accumulators hide the add latency, and each
// key block is converted once for every head. Each (head, key) sum is the documented order.
template <int H>
void half_logits_heads(const float* q, const std::uint16_t* keys, const std::uint32_t* rows,
                       std::size_t count, std::size_t d, float scale, float* out) {
  std::size_t i = 0;
  for (; i + 2 <= count; i += 2) {
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
    for (int h = 0; h < H; ++h) {
      out[static_cast<std::size_t>(h) * count + i] = scale * lane_sum(s0[h]);
      out[static_cast<std::size_t>(h) * count + i + 1] = scale * lane_sum(s1[h]);
    }
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

void half_accumulate(const float* w, const std::uint16_t* values, const std::uint32_t* rows,
                     std::size_t count, std::size_t d, float* acc) {
  // Channel blocks of 64 (d <= 64 in one pass) stay in registers over all rows.
  for (std::size_t block = 0; block < d; block += 64) {
    const std::size_t width = d - block < 64 ? d - block : 64;
    Eight sums[8] = {};
    for (std::size_t i = 0; i < count; ++i) {
      const std::uint16_t* value =
          values + static_cast<std::size_t>(rows ? rows[i] : i) * d + block;
      const float weight = w[i];
      for (std::size_t c = 0; c < width; c += 8)
        sums[c / 8] += weight * load_halves(value + c);
    }
    for (std::size_t c = 0; c < width; c += 8) {
      Eight a = load_floats(acc + block + c) + sums[c / 8];
      __builtin_memcpy(acc + block + c, &a, sizeof a);
    }
  }
}

void exp_floats(const float* in, std::size_t n, float shift, float* out) {
  // Cephes' expf: x = m ln 2 + r, |r| <= ln2/2 (ln 2 in two parts), a degree-5 polynomial for
  // e^r, then 2^m from the exponent bits. Inputs below −87 give 0 (the weight of such a key is
  // below 2^-125 of the row's largest).
  auto lane_exp = [](Eight x) {
    const EightInts tiny = x < -87.0f;
    x = x > 88.0f ? Eight{} + 88.0f : x;
    x = x < -87.0f ? Eight{} - 87.0f : x;
    Eight t = x * 1.44269504088896341f + 0.5f;
    Eight m = __builtin_convertvector(__builtin_convertvector(t, EightInts), Eight);
    m = m > t ? m - 1.0f : m;
    Eight r = x - m * 0.693359375f;
    r = r - m * -2.12194440e-4f;
    Eight p = r * 1.9875691500e-4f + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * (r * r) + r + 1.0f;
    const EightInts exponent = (__builtin_convertvector(m, EightInts) + 127) << 23;
    const Eight result = p * __builtin_bit_cast(Eight, exponent);
    return __builtin_bit_cast(Eight, __builtin_bit_cast(EightInts, result) & ~tiny);
  };
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const Eight e = lane_exp(load_floats(in + i) - shift);
    __builtin_memcpy(out + i, &e, sizeof e);
  }
  if (i < n) {
    float buffer[8];
    for (std::size_t j = 0; j < 8; ++j)
      buffer[j] = i + j < n ? in[i + j] : shift;
    const Eight e = lane_exp(load_floats(buffer) - shift);
    __builtin_memcpy(buffer, &e, sizeof e);
    for (std::size_t j = 0; i + j < n; ++j)
      out[i + j] = buffer[j];
  }
}

void code_dots(const std::int16_t* p, std::size_t heads, const std::int8_t* codes,
               std::size_t count, std::size_t d, std::int32_t* dots) {
#if defined(__AVX2__)
  if (d % 16 == 0 && heads <= 4) {
    // pmaddwd: sixteen int16 products summed in pairs into eight int32 lanes (exact: |p| <=
    // 32767, |m| <= 127, d <= 64 per the caller's check, far below 2^31); each code block is
    // widened once for every head.
    for (std::size_t i = 0; i < count; ++i) {
      const std::int8_t* key = codes + i * d;
      __m256i sum[4] = {_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(),
                        _mm256_setzero_si256()};
      for (std::size_t c = 0; c < d; c += 16) {
        const __m256i m =
            _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(key + c)));
        for (std::size_t h = 0; h < heads; ++h) {
          const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + h * d + c));
          sum[h] = _mm256_add_epi32(sum[h], _mm256_madd_epi16(q, m));
        }
      }
      for (std::size_t h = 0; h < heads; ++h) {
        const __m128i half =
            _mm_add_epi32(_mm256_castsi256_si128(sum[h]), _mm256_extracti128_si256(sum[h], 1));
        const __m128i pair = _mm_add_epi32(half, _mm_unpackhi_epi64(half, half));
        dots[h * count + i] = _mm_cvtsi128_si32(pair) + _mm_extract_epi32(pair, 1);
      }
    }
    return;
  }
#endif
  for (std::size_t i = 0; i < count; ++i) {
    const std::int8_t* key = codes + i * d;
    for (std::size_t h = 0; h < heads; ++h) {
      std::int32_t sum = 0;
      for (std::size_t c = 0; c < d; ++c)
        sum += static_cast<std::int32_t>(p[h * d + c]) * key[c];
      dots[h * count + i] = sum;
    }
  }
}

float code_bounds(const std::int32_t* dots, const float* scales, const float* radii,
                  std::size_t count, float c, float e, float a, float* upper) {
  // upper[i] = Δ_i (c D_i + e) + r_i a, elementwise; returns the largest (−inf for none).
  float top = -__builtin_inff();
  for (std::size_t i = 0; i < count; ++i) {
    const float u = scales[i] * (c * static_cast<float>(dots[i]) + e) + radii[i] * a;
    upper[i] = u;
    top = u > top ? u : top;
  }
  return top;
}

}  // namespace tvk::kernels::TVK_KERNEL_ISA
