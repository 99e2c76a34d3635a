// Decode-step kernels over a 16-bit KV cache (core/certified/decode_attention.h): logits from
// binary16 keys, P·V over binary16 values, softmax weights and the block maximum. Float lanes
// keep one fixed summation order whatever the width, so every set gives the same bits. The
// certified step's summary kernels over int8 codes are in code_kernels.cpp.
#include "core/kernels/isa/decode_vectors.h"
#include "core/kernels/isa/kernels.h"

namespace tvk::kernels::TVK_KERNEL_ISA {

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

// Asks for the part [from, from + width) of the value rows of gathered keys ahead of key i:
// into L1 24 rows ahead and into L2 96 rows ahead (L2's miss tracking keeps more lines in
// flight than L1's miss buffers; bench/gather_bench models the schemes).
[[gnu::always_inline]] inline void prefetch_gathered(const std::uint16_t* values,
                                                     const std::uint32_t* rows, std::size_t i,
                                                     std::size_t count, std::size_t d,
                                                     std::size_t from, std::size_t width) {
  if (i + 24 < count) {
    const std::uint16_t* ahead = values + static_cast<std::size_t>(rows[i + 24]) * d + from;
    __builtin_prefetch(ahead);
    __builtin_prefetch(ahead + width - 8);
  }
  if (i + 96 < count) {
    const std::uint16_t* far = values + static_cast<std::size_t>(rows[i + 96]) * d + from;
    __builtin_prefetch(far, 0, 1);
    __builtin_prefetch(far + width - 8, 0, 1);
  }
}

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
      } else {
        prefetch_gathered(values, rows, i, count, d, 0, d);
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
      if (rows != nullptr) prefetch_gathered(values, rows, i, count, d, block, width);
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

}  // namespace tvk::kernels::TVK_KERNEL_ISA
