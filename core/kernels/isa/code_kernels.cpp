// The certified decode step's summary kernels (core/certified/decode_attention.h): the code bound
// of every key from its int8 codes in tiles of sixteen keys (exact int32 dots: madd, or VNNI's
// vpdpwssd), the keys' buckets below the row's largest bound and the selection of a bucket
// range. Integer sums are exact and the float bound is evaluated lane by lane as written, so
// every instruction set gives the same bits.
#include <array>

#include "core/kernels/isa/decode_vectors.h"
#include "core/kernels/isa/kernels.h"

namespace tvk::kernels::TVK_KERNEL_ISA {

namespace {

// The bound of one key from its exact dot product (the formula of code_upper's contract).
[[gnu::always_inline]] inline float key_upper(std::int32_t dot, float scale, float c, float e) {
  return scale * (c * static_cast<float>(dot) + e);
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

// The same with VNNI's fused multiply-add of pairs (vpdpwssd), for CPUs that have it. Two
// accumulators a head (channel pairs t even and odd, summed at the end: integer sums are exact
// in any order) halve the chain of dependent vpdpwssd; they are locals, so no store to dots
// waits on each (the tile's loads may alias dots).
template <int H>
[[gnu::target("avx512vnni"), gnu::always_inline]] inline void tile_dots_vnni(
    const QueryPairs<H>& q, const std::int8_t* tile, std::size_t d, __m512i* dots) {
  __m512i even[H], odd[H];
  for (int h = 0; h < H; ++h)
    even[h] = odd[h] = _mm512_setzero_si512();
  for (std::size_t t = 0; t < d / 2; t += 2) {  // d / 2 is even (d a multiple of 8)
    const __m512i m0 =
        _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(tile + 32 * t)));
    const __m512i m1 = _mm512_cvtepi8_epi16(
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(tile + 32 * t + 32)));
    for (int h = 0; h < H; ++h) {
      even[h] = _mm512_dpwssd_epi32(even[h], m0, _mm512_set1_epi32(q.pair[h][t]));
      odd[h] = _mm512_dpwssd_epi32(odd[h], m1, _mm512_set1_epi32(q.pair[h][t + 1]));
    }
  }
  for (int h = 0; h < H; ++h)
    dots[h] = _mm512_add_epi32(even[h], odd[h]);
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
// their scales are asked for into L2 (prefetcht2) while earlier tiles are scored, 256 keys
// (16 KB at d = 64) ahead; the L1 fills are left to the hardware. On an AMD EPYC (Zen 4) this
// streamed the summary faster than L1 prefetches 64 keys ahead, which took the L1 miss
// buffers the stream needs (a prefetch past the end is harmless).
[[gnu::always_inline]] inline void prefetch_tile(const std::int8_t* tiles, const float* scales,
                                                 std::size_t ahead, std::size_t d) {
  for (std::size_t line = 0; line < 16 * d; line += 64)
    __builtin_prefetch(tiles + ahead * d + line, 0, 1);
  __builtin_prefetch(scales + ahead, 0, 1);
}

#if defined(__AVX512BW__)
// One tile's sixteen bounds from its dots (the contract's formula, lane by lane), stored for
// keys [i, i + 16), and each head's running largest.
template <int H>
[[gnu::always_inline]] inline void tile_bounds(const __m512i* dots, const float* scales,
                                               const float* c, const float* e, float* upper,
                                               std::size_t count, std::size_t i, Sixteen* top) {
  Sixteen scale;
  __builtin_memcpy(&scale, scales + i, sizeof scale);
  for (int h = 0; h < H; ++h) {
    const Sixteen dot =
        __builtin_convertvector(__builtin_bit_cast(IntsOf<Sixteen>::type, dots[h]), Sixteen);
    const Sixteen u = scale * (c[h] * dot + e[h]);
    __builtin_memcpy(upper + static_cast<std::size_t>(h) * count + i, &u, sizeof u);
    top[h] = u > top[h] ? u : top[h];
  }
}

// Every whole tile's bounds into upper and the heads' largest into top (sixteen lanes each);
// returns the keys done. D = 64 fixes the head dimension at compile time, so the channel loop
// unrolls; D = 0 takes d.
template <int H, std::size_t D>
std::size_t tiles_upper(const QueryPairs<H>& q, const std::int8_t* tiles, const float* scales,
                        std::size_t count, std::size_t d, const float* c, const float* e,
                        float* upper, Sixteen* top) {
  const std::size_t dim = D != 0 ? D : d;
  std::size_t i = 0;
  for (; i + 16 <= count; i += 16) {
    prefetch_tile(tiles, scales, i + 256, dim);
    __m512i dots[H];
    tile_dots<H>(q, tiles + i * dim, dim, dots);
    tile_bounds<H>(dots, scales, c, e, upper, count, i, top);
  }
  return i;
}

// The same with VNNI, compiled for it as a whole so that tile_dots_vnni inlines into the loop.
template <int H, std::size_t D>
[[gnu::target("avx512vnni")]] std::size_t tiles_upper_vnni(
    const QueryPairs<H>& q, const std::int8_t* tiles, const float* scales, std::size_t count,
    std::size_t d, const float* c, const float* e, float* upper, Sixteen* top) {
  const std::size_t dim = D != 0 ? D : d;
  std::size_t i = 0;
  for (; i + 16 <= count; i += 16) {
    prefetch_tile(tiles, scales, i + 256, dim);
    __m512i dots[H];
    tile_dots_vnni<H>(q, tiles + i * dim, dim, dots);
    tile_bounds<H>(dots, scales, c, e, upper, count, i, top);
  }
  return i;
}
#endif

template <int H>
void code_upper_heads(const std::int16_t* p, const std::int8_t* tiles, const float* scales,
                      std::size_t count, std::size_t d, const float* c, const float* e,
                      float* upper, float* tops) {
  Eight top[H];
  for (int h = 0; h < H; ++h)
    top[h] = Eight{} - __builtin_inff();
  std::size_t i = 0;
#if defined(__AVX2__)
  const QueryPairs<H> q(p, d);
#if defined(__AVX512BW__)
  static const bool vnni = __builtin_cpu_supports("avx512vnni");
  Sixteen wide_top[H];
  for (int h = 0; h < H; ++h)
    wide_top[h] = Sixteen{} - __builtin_inff();
  if (vnni) {
    i = d == 64 ? tiles_upper_vnni<H, 64>(q, tiles, scales, count, d, c, e, upper, wide_top)
                : tiles_upper_vnni<H, 0>(q, tiles, scales, count, d, c, e, upper, wide_top);
  } else {
    i = d == 64 ? tiles_upper<H, 64>(q, tiles, scales, count, d, c, e, upper, wide_top)
                : tiles_upper<H, 0>(q, tiles, scales, count, d, c, e, upper, wide_top);
  }
  for (int h = 0; h < H; ++h) {
    const Eight low = __builtin_shufflevector(wide_top[h], wide_top[h], 0, 1, 2, 3, 4, 5, 6, 7);
    const Eight high =
        __builtin_shufflevector(wide_top[h], wide_top[h], 8, 9, 10, 11, 12, 13, 14, 15);
    top[h] = low > high ? low : high;
  }
#else
  // Eight keys' bounds of head h from their dots (the contract's formula, lane by lane).
  auto bound = [&](int h, std::size_t at, __m256i dots) {
    const Eight dot = __builtin_convertvector(__builtin_bit_cast(EightInts, dots), Eight);
    const Eight u = load_floats(scales + at) * (c[h] * dot + e[h]);
    __builtin_memcpy(upper + static_cast<std::size_t>(h) * count + at, &u, sizeof u);
    top[h] = u > top[h] ? u : top[h];
  };
  for (; i + 16 <= count; i += 16) {
    prefetch_tile(tiles, scales, i + 256, d);
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
      const float u = key_upper(dot, scales[j], c[h], e[h]);
      upper[static_cast<std::size_t>(h) * count + j] = u;
      m = u > m ? u : m;
    }
    tops[h] = m;
  }
}

}  // namespace

void code_upper(const std::int16_t* p, std::size_t heads, const std::int8_t* tiles,
                const float* scales, std::size_t count, std::size_t d, const float* c,
                const float* e, float* upper, float* tops) {
  switch (heads) {
    case 1:
      return code_upper_heads<1>(p, tiles, scales, count, d, c, e, upper, tops);
    case 2:
      return code_upper_heads<2>(p, tiles, scales, count, d, c, e, upper, tops);
    case 3:
      return code_upper_heads<3>(p, tiles, scales, count, d, c, e, upper, tops);
    case 4:
      return code_upper_heads<4>(p, tiles, scales, count, d, c, e, upper, tops);
    default:
      for (std::size_t h = 0; h < heads; ++h)
        code_upper_heads<1>(p + h * d, tiles, scales, count, d, c + h, e + h, upper + h * count,
                            tops + h);
  }
}

#if defined(__AVX2__) && !defined(__AVX512F__)
namespace {
// The lanes of an 8-bit mask packed to the front: entry m holds, byte by byte, the lanes whose
// bit is set in m, in increasing order (AVX2 has no compress instruction).
constexpr std::array<std::uint64_t, 256> kLeftPack = [] {
  std::array<std::uint64_t, 256> table{};
  for (unsigned m = 0; m < 256; ++m) {
    unsigned at = 0;
    for (unsigned lane = 0; lane < 8; ++lane)
      if ((m >> lane & 1u) != 0) table[m] |= std::uint64_t{lane} << (8 * at++);
  }
  return table;
}();
}  // namespace
#endif

// Keys whose far weights a 32-bit lane sums before it is added to the total.
constexpr std::size_t kFlush = 256;

std::size_t near_buckets(const float* upper, std::size_t count, float top, float grid,
                         std::uint32_t last, std::uint32_t near, const std::uint32_t* far_weights,
                         std::uint32_t* index, std::uint16_t* buckets, std::uint64_t* far) {
  // Each key's bucket by the same float operations as the scalar formula, lane by lane; the
  // near keys packed to the front of index and buckets (a full vector is stored, the count
  // advanced by the lanes kept), the far weights summed in integers (exact in any order).
  const float limit = static_cast<float>(last);
  std::size_t n = 0, j = 0;
  std::uint64_t far_sum = 0;
#if defined(__AVX2__)
  // Where the contract's 32 runs fit in the table, a far key's weight is its run's (the run
  // min((b − near) / 16, 31)): the vector paths look it up among these in registers instead of
  // gathering it.
  const bool by_run = near + 512 <= last + 1;
  alignas(64) std::uint32_t run_weights[32] = {};
  if (by_run) {
    for (std::uint32_t r = 0; r < 32; ++r)
      run_weights[r] = far_weights[near + 16 * r];
  }
#endif
#if defined(__AVX512F__)
  const __m512i near_wide = _mm512_set1_epi32(static_cast<int>(near));
  const __m512i lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  // The far weights in sixteen 32-bit sums, each taking at most kFlush keys' weights (< 2^23
  // each: at most 2^31) before it is added to the 64-bit total.
  __m512i far_lanes = _mm512_setzero_si512();
  // The run weights in two registers, for one two-register permute a key.
  const __m512i runs_low = _mm512_load_si512(run_weights);
  const __m512i runs_high = _mm512_load_si512(run_weights + 16);
  std::size_t pending = 0;
  auto flush = [&] {
    alignas(64) std::uint32_t sums[16];
    _mm512_store_si512(sums, far_lanes);
    for (const std::uint32_t x : sums)
      far_sum += x;
    far_lanes = _mm512_setzero_si512();
    pending = 0;
  };
  // The same operations as the generic formula, as single instructions: min(units, limit) is
  // units < limit ? units : limit (vminps), then min(shifted, 31) unsigned. (Zero-masked forms
  // with every lane set: GCC 12 warns on the undefined source register of the plain ones.)
  constexpr __mmask16 all = 0xffff;
  const __m512 limit_wide = _mm512_set1_ps(limit);
  const __m512 top_wide = _mm512_set1_ps(top), grid_wide = _mm512_set1_ps(grid);
  const __m512i sixteen = _mm512_set1_epi32(16), last_run = _mm512_set1_epi32(31);
  __m512i keys = lanes;  // j + lane
  for (; j + 16 <= count; j += 16, keys = _mm512_add_epi32(keys, sixteen)) {
    const __m512 units =
        _mm512_mul_ps(_mm512_sub_ps(top_wide, _mm512_loadu_ps(upper + j)), grid_wide);
    const __m512i b = _mm512_maskz_cvttps_epu32(all, _mm512_maskz_min_ps(all, units, limit_wide));
    const __mmask16 inside = _mm512_cmplt_epu32_mask(b, near_wide);
    if (by_run) {
      // Near lanes wrap to large values and are masked off.
      const __m512i run = _mm512_maskz_min_epu32(
          all, _mm512_maskz_srli_epi32(all, _mm512_sub_epi32(b, near_wide), 4), last_run);
      far_lanes = _mm512_add_epi32(
          far_lanes, _mm512_maskz_permutex2var_epi32(static_cast<__mmask16>(~inside), runs_low, run,
                                                     runs_high));
    } else {
      // (A zero source: GCC 12 warns on the undefined register of the plain gather.)
      far_lanes = _mm512_add_epi32(
          far_lanes,
          _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), 0xffff, b, far_weights, 4));
    }
    if (++pending == kFlush) flush();
    if (inside == 0) continue;
    _mm512_storeu_si512(index + n, _mm512_maskz_compress_epi32(inside, keys));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(buckets + n),
                        _mm512_maskz_cvtepi32_epi16(all, _mm512_maskz_compress_epi32(inside, b)));
    n += static_cast<std::size_t>(__builtin_popcount(inside));
  }
  flush();
#elif defined(__AVX2__)
  const __m256i near_eight = _mm256_set1_epi32(static_cast<int>(near));
  const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  __m256i far_lanes = _mm256_setzero_si256();  // as the sixteen lanes above
  std::size_t pending = 0;
  auto flush = [&] {
    alignas(32) std::uint32_t sums[8];
    _mm256_store_si256(reinterpret_cast<__m256i*>(sums), far_lanes);
    for (const std::uint32_t x : sums)
      far_sum += x;
    far_lanes = _mm256_setzero_si256();
    pending = 0;
  };
  // The run weights in four registers: four permutes and three blends a key (the run's bits 3
  // and 4 pick the register); near lanes are masked off.
  __m256i runs[4];
  for (int t = 0; t < 4; ++t)
    runs[t] = _mm256_load_si256(reinterpret_cast<const __m256i*>(run_weights + 8 * t));
  const __m256 limit_eight = _mm256_set1_ps(limit);
  const __m256i eight = _mm256_set1_epi32(8), last_run = _mm256_set1_epi32(31);
  __m256i keys = lanes;  // j + lane
  for (; j + 8 <= count; j += 8, keys = _mm256_add_epi32(keys, eight)) {
    // min(units, limit) is units < limit ? units : limit (vminps), as the formula; units are
    // in [0, last] (top >= upper), where the signed conversion is the unsigned one.
    const __m256 units = __builtin_bit_cast(__m256, (top - load_floats(upper + j)) * grid);
    const __m256i b = _mm256_cvttps_epi32(_mm256_min_ps(units, limit_eight));
    // b < near, unsigned (b <= last < 2^31, so a signed comparison is the same).
    const __m256i near_lanes = _mm256_cmpgt_epi32(near_eight, b);
    if (by_run) {
      // Near lanes wrap to large values (the run is then 31) and are masked off.
      const __m256i run =
          _mm256_min_epu32(_mm256_srli_epi32(_mm256_sub_epi32(b, near_eight), 4), last_run);
      const __m256 bit3 = _mm256_castsi256_ps(_mm256_slli_epi32(run, 28));
      const __m256 bit4 = _mm256_castsi256_ps(_mm256_slli_epi32(run, 27));
      auto pick = [&](int t) {
        return _mm256_castsi256_ps(_mm256_permutevar8x32_epi32(runs[t], run));
      };
      const __m256 low = _mm256_blendv_ps(pick(0), pick(1), bit3);
      const __m256 high = _mm256_blendv_ps(pick(2), pick(3), bit3);
      far_lanes = _mm256_add_epi32(
          far_lanes,
          _mm256_andnot_si256(near_lanes, _mm256_castps_si256(_mm256_blendv_ps(low, high, bit4))));
    } else {
      far_lanes = _mm256_add_epi32(
          far_lanes, _mm256_i32gather_epi32(reinterpret_cast<const int*>(far_weights), b, 4));
    }
    if (++pending == kFlush) flush();
    const auto inside = static_cast<unsigned>(_mm256_movemask_ps(_mm256_castsi256_ps(near_lanes)));
    if (inside == 0) continue;
    const __m256i order =
        _mm256_cvtepu8_epi32(_mm_cvtsi64_si128(static_cast<long long>(kLeftPack[inside])));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(index + n),
                        _mm256_permutevar8x32_epi32(keys, order));
    const __m256i packed = _mm256_permutevar8x32_epi32(b, order);
    _mm_storeu_si128(
        reinterpret_cast<__m128i*>(buckets + n),
        _mm_packus_epi32(_mm256_castsi256_si128(packed), _mm256_extracti128_si256(packed, 1)));
    n += static_cast<std::size_t>(__builtin_popcount(inside));
  }
  flush();
#endif
  for (; j < count; ++j) {
    const float units = (top - upper[j]) * grid;
    const std::uint32_t b = units < limit ? static_cast<std::uint32_t>(units) : last;
    index[n] = static_cast<std::uint32_t>(j);
    buckets[n] = static_cast<std::uint16_t>(b);
    n += b < near;
    far_sum += far_weights[b];
  }
  *far = far_sum;
  return n;
}

std::size_t select_buckets(const std::uint16_t* buckets, std::size_t count, std::uint32_t low,
                           std::uint32_t high, std::uint32_t* out) {
  const auto first = static_cast<std::uint16_t>(low);
  const auto width = static_cast<std::uint16_t>(high - low);
  std::size_t n = 0, j = 0;
#if defined(__AVX512BW__)
  // Thirty-two keys compared at once; the indices inside [low, high] are compressed out in
  // increasing order (most blocks have none).
  const __m512i lowest_wide = _mm512_set1_epi16(static_cast<short>(first));
  const __m512i widest_wide = _mm512_set1_epi16(static_cast<short>(width));
  const __m512i lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  for (; j + 32 <= count; j += 32) {
    const __m512i b = _mm512_sub_epi16(
        _mm512_loadu_si512(reinterpret_cast<const void*>(buckets + j)), lowest_wide);
    // b − low <= width, unsigned.
    const __mmask32 inside = _mm512_cmple_epu16_mask(b, widest_wide);
    if (inside == 0) continue;
    const __m512i index = _mm512_add_epi32(lanes, _mm512_set1_epi32(static_cast<int>(j)));
    const auto low_half = static_cast<__mmask16>(inside);
    const auto high_half = static_cast<__mmask16>(inside >> 16);
    // Compressed in a register and stored whole (a compress with a memory destination takes
    // ~55 cycles on Zen 4): n <= j, so the vectors land inside out[0, j + 32), within count.
    _mm512_storeu_si512(out + n, _mm512_maskz_compress_epi32(low_half, index));
    n += static_cast<std::size_t>(__builtin_popcount(low_half));
    _mm512_storeu_si512(out + n, _mm512_maskz_compress_epi32(
                                     high_half, _mm512_add_epi32(index, _mm512_set1_epi32(16))));
    n += static_cast<std::size_t>(__builtin_popcount(high_half));
  }
#endif
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
