// The two-tier summary's kernel (core/certified/decode_attention.h): the code bound of the keys of
// some tiles of sixteen keys from a tier of their int8 codes m = 4 (u − 32) + l, the first tier
// u in [0, 63] and the second l in [0, 3]. Within a tile, the codes of channels 4q..4q+3 form a
// 64-byte block U_q whose byte 4k + 2r + s is key k's channel 4q + 2s + r: as sixteen-bit
// lanes, the low bytes hold channel pair 2q and the high bytes pair 2q + 1 of each key, so two
// masks give madd's operands with no shuffle. Blocks go in pairs w (quads 2w, 2w + 1): tier 1
// stores 64 bytes of nibbles u >> 2 (U_2w's byte b in the low nibble of byte b, U_2w+1's in the
// high) then 32 bytes of bit pairs u & 3 (U_q's byte b in bits 2 (b / 32) + 4 (q % 2) of byte
// b % 32); tier 2 stores l as tier 1 its bit pairs. The integer dots are exact and the float bound
// is evaluated lane by lane as written, so every instruction set gives the same bits.
#include "core/kernels/isa/decode_vectors.h"
#include "core/kernels/isa/kernels.h"

namespace tvk::kernels::TVK_KERNEL_ISA {

namespace {

// Bytes a pair of channel quads (8 channels of 16 keys) holds in each tier.
constexpr std::size_t kFirstBlockBytes = 96, kSecondBlockBytes = 32;

// Σ_c p[c] t_j[c] for key j of a tier's tiles, exactly.
[[gnu::always_inline]] inline std::int32_t tier_dot(const std::int16_t* p,
                                                    const std::uint8_t* tiles, int tier,
                                                    std::size_t j, std::size_t d) {
  const std::size_t block = tier == 1 ? kFirstBlockBytes : kSecondBlockBytes;
  const std::uint8_t* tile = tiles + (j / 16) * (d / 8) * block;
  std::int32_t sum = 0;
  for (std::size_t c = 0; c < d; ++c) {
    const std::size_t q = c / 4, b = 4 * (j % 16) + 2 * (c % 2) + (c / 2) % 2;
    const std::uint8_t* at = tile + (q / 2) * block;
    const std::uint8_t* pairs = tier == 1 ? at + 64 : at;
    const unsigned bits = (pairs[b % 32] >> (2 * (b / 32) + 4 * (q % 2))) & 3u;
    const unsigned u = tier == 1 ? 4 * ((at[b] >> (4 * (q % 2))) & 15u) + bits : bits;
    sum += static_cast<std::int32_t>(p[c]) * static_cast<std::int32_t>(u);
  }
  return sum;
}

// The exact integer D of tier_upper's contract.
[[gnu::always_inline]] inline std::int32_t tier_total(int tier, std::int32_t n, std::int32_t sum,
                                                      std::int32_t offset) {
  return tier == 1 ? 4 * n + offset : n + 4 * sum + offset;
}

#if defined(__AVX512BW__)
// One block's four madd operands: u[i] holds the tier's codes of channel pair 4 w + i (low bytes
// of its sixteen-bit lanes: U_2w's, then U_2w+1's) of the sixteen keys.
[[gnu::always_inline]] inline void tier_block(const std::uint8_t* at, int tier, __m512i* u) {
  const __m512i three = _mm512_set1_epi8(3), nibble = _mm512_set1_epi8(0x3c),
                low_byte = _mm512_set1_epi16(0xff);
  // Sixteen-bit shifts of 0 (2) in the low (high) half, and 4 (6): the bit pairs of U_2w
  // and U_2w+1 (set_epi64 lists the high lane first).
  const long long two = 0x0002000200020002LL, four = 0x0004000400040004LL,
                  six = 0x0006000600060006LL;
  const __m512i shift0 = _mm512_set_epi64(two, two, two, two, 0, 0, 0, 0);
  const __m512i shift1 = _mm512_set_epi64(six, six, six, six, four, four, four, four);
  // The masked broadcast: the plain one starts from an undefined vector that GCC 12 reports as
  // maybe-uninitialized (GCC bug 105593).
  const __m512i pairs = _mm512_maskz_broadcast_i64x4(
      0xff, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(tier == 1 ? at + 64 : at)));
  __m512i u0 = _mm512_and_si512(_mm512_srlv_epi16(pairs, shift0), three);
  __m512i u1 = _mm512_and_si512(_mm512_srlv_epi16(pairs, shift1), three);
  if (tier == 1) {  // 4 · nibble + bit pair: the 16-bit shifts' strays are masked off
    const __m512i x = _mm512_loadu_si512(at);
    u0 = _mm512_or_si512(u0, _mm512_and_si512(_mm512_slli_epi16(x, 2), nibble));
    u1 = _mm512_or_si512(u1, _mm512_and_si512(_mm512_srli_epi16(x, 2), nibble));
  }
  u[0] = _mm512_and_si512(u0, low_byte);
  u[1] = _mm512_srli_epi16(u0, 8);
  u[2] = _mm512_and_si512(u1, low_byte);
  u[3] = _mm512_srli_epi16(u1, 8);
}

// The dots of one tile's sixteen keys (lane k key k's) over a tier, H heads.
template <int H>
[[gnu::always_inline]] inline void tier_tile_dots(const QueryPairs<H>& q, const std::uint8_t* at,
                                                  int tier, std::size_t d, __m512i* dots) {
  for (int h = 0; h < H; ++h)
    dots[h] = _mm512_setzero_si512();
  const std::size_t block = tier == 1 ? kFirstBlockBytes : kSecondBlockBytes;
  for (std::size_t w = 0; w < d / 8; ++w, at += block) {
    __m512i u[4];
    tier_block(at, tier, u);
    for (int h = 0; h < H; ++h)
      for (int i = 0; i < 4; ++i)
        dots[h] = _mm512_add_epi32(
            dots[h], _mm512_madd_epi16(u[i], _mm512_set1_epi32(q.pair[h][4 * w + i])));
  }
}

// The same with VNNI's fused multiply-add of pairs (vpdpwssd), for CPUs that have it: a function
// of its own, since only a function compiled for that target may hold the instruction, and GCC
// could fuse the plain version's madd + add into it (code_kernels.cpp's tile_dots pair likewise).
template <int H>
[[gnu::target("avx512vnni")]] void tier_tile_dots_vnni(const QueryPairs<H>& q,
                                                       const std::uint8_t* at, int tier,
                                                       std::size_t d, __m512i* dots) {
  for (int h = 0; h < H; ++h)
    dots[h] = _mm512_setzero_si512();
  const std::size_t block = tier == 1 ? kFirstBlockBytes : kSecondBlockBytes;
  for (std::size_t w = 0; w < d / 8; ++w, at += block) {
    __m512i u[4];
    tier_block(at, tier, u);
    for (int h = 0; h < H; ++h)
      for (int i = 0; i < 4; ++i)
        dots[h] = _mm512_dpwssd_epi32(dots[h], u[i], _mm512_set1_epi32(q.pair[h][4 * w + i]));
  }
}
#elif defined(__AVX2__)
// The same for keys 0-7 (dots[h][0]) and 8-15 (dots[h][1]).
template <int H>
[[gnu::always_inline]] inline void tier_tile_dots(const QueryPairs<H>& q, const std::uint8_t* at,
                                                  int tier, std::size_t d, __m256i (*dots)[2]) {
  for (int h = 0; h < H; ++h)
    dots[h][0] = dots[h][1] = _mm256_setzero_si256();
  const __m256i three = _mm256_set1_epi8(3), nibble = _mm256_set1_epi8(0x3c),
                low_byte = _mm256_set1_epi16(0xff);
  const std::size_t block = tier == 1 ? kFirstBlockBytes : kSecondBlockBytes;
  for (std::size_t w = 0; w < d / 8; ++w, at += block) {
    const __m256i pairs =
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(tier == 1 ? at + 64 : at));
    for (int half = 0; half < 2; ++half) {  // keys 8 half .. 8 half + 7: bytes 32 half ..
      __m256i u0 = _mm256_and_si256(_mm256_srli_epi16(pairs, 2 * half), three);
      __m256i u1 = _mm256_and_si256(_mm256_srli_epi16(pairs, 4 + 2 * half), three);
      if (tier == 1) {
        const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(at + 32 * half));
        u0 = _mm256_or_si256(u0, _mm256_and_si256(_mm256_slli_epi16(x, 2), nibble));
        u1 = _mm256_or_si256(u1, _mm256_and_si256(_mm256_srli_epi16(x, 2), nibble));
      }
      const __m256i u[4] = {_mm256_and_si256(u0, low_byte), _mm256_srli_epi16(u0, 8),
                            _mm256_and_si256(u1, low_byte), _mm256_srli_epi16(u1, 8)};
      for (int h = 0; h < H; ++h)
        for (int i = 0; i < 4; ++i)
          dots[h][half] = _mm256_add_epi32(
              dots[h][half], _mm256_madd_epi16(u[i], _mm256_set1_epi32(q.pair[h][4 * w + i])));
    }
  }
}
#endif

template <int H>
void tier_upper_heads(const std::int16_t* p, int tier, const std::uint8_t* tiles,
                      const std::uint32_t* tile_list, std::size_t listed, std::int32_t* sums,
                      const float* scales, std::size_t count, std::size_t d,
                      const std::int32_t* offset, const float* c, const float* e, float* upper,
                      float* tile_tops) {
  const std::size_t tiles_total = (count + 15) / 16;
  const std::size_t n_tiles = tile_list != nullptr ? listed : tiles_total;
  const std::size_t tile_bytes = (d / 8) * (tier == 1 ? kFirstBlockBytes : kSecondBlockBytes);
#if defined(__AVX2__)
  const QueryPairs<H> q(p, d);
#endif
#if defined(__AVX512BW__)
  static const bool vnni = __builtin_cpu_supports("avx512vnni");
#endif
  for (std::size_t li = 0; li < n_tiles; ++li) {
    const std::size_t tile = tile_list != nullptr ? tile_list[li] : li;
    const std::size_t first = tile * 16;
    if (li + 4 < n_tiles) {  // the tiles ahead are fetched while this one is scored
      const std::size_t ahead = tile_list != nullptr ? tile_list[li + 4] : li + 4;
      for (std::size_t line = 0; line < tile_bytes; line += 64)
        __builtin_prefetch(tiles + ahead * tile_bytes + line);
    }
#if defined(__AVX2__)
    if (first + 16 <= count) {
      const std::uint8_t* at = tiles + tile * tile_bytes;
      EightInts dots[H][2];
#if defined(__AVX512BW__)
      __m512i wide[H];
      if (vnni) {
        tier_tile_dots_vnni<H>(q, at, tier, d, wide);
      } else {
        tier_tile_dots<H>(q, at, tier, d, wide);
      }
      using SixteenInts = std::int32_t __attribute__((vector_size(64)));
      for (int h = 0; h < H; ++h) {
        const auto v = __builtin_bit_cast(SixteenInts, wide[h]);
        dots[h][0] = __builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7);
        dots[h][1] = __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15);
      }
#else
      __m256i acc[H][2];
      tier_tile_dots<H>(q, at, tier, d, acc);
      for (int h = 0; h < H; ++h) {
        dots[h][0] = __builtin_bit_cast(EightInts, acc[h][0]);
        dots[h][1] = __builtin_bit_cast(EightInts, acc[h][1]);
      }
#endif
      for (int h = 0; h < H; ++h) {
        Eight top = Eight{} - __builtin_inff();
        for (int half = 0; half < 2; ++half) {
          const std::size_t key = first + 8 * static_cast<std::size_t>(half);
          const std::size_t row = static_cast<std::size_t>(h) * count + key;
          EightInts dot;
          if (tier == 1) {
            __builtin_memcpy(sums + row, &dots[h][half], sizeof dot);
            dot = 4 * dots[h][half] + offset[h];
          } else {
            EightInts sum;
            __builtin_memcpy(&sum, sums + row, sizeof sum);
            dot = dots[h][half] + 4 * sum + offset[h];
          }
          const Eight u =
              load_floats(scales + key) * (c[h] * __builtin_convertvector(dot, Eight) + e[h]);
          __builtin_memcpy(upper + row, &u, sizeof u);
          top = u > top ? u : top;
        }
        float m = -__builtin_inff();
        for (int l = 0; l < 8; ++l)
          m = top[l] > m ? top[l] : m;
        tile_tops[static_cast<std::size_t>(h) * tiles_total + tile] = m;
      }
      continue;
    }
#endif
    const std::size_t last = first + 16 < count ? first + 16 : count;
    for (int h = 0; h < H; ++h) {
      float m = -__builtin_inff();
      for (std::size_t j = first; j < last; ++j) {
        const std::size_t row = static_cast<std::size_t>(h) * count + j;
        const std::int32_t n = tier_dot(p + static_cast<std::size_t>(h) * d, tiles, tier, j, d);
        if (tier == 1) sums[row] = n;
        const std::int32_t dot = tier_total(tier, n, sums[row], offset[h]);
        const float u = scales[j] * (c[h] * static_cast<float>(dot) + e[h]);
        upper[row] = u;
        m = u > m ? u : m;
      }
      tile_tops[static_cast<std::size_t>(h) * tiles_total + tile] = m;
    }
  }
}

}  // namespace

void tier_upper(const std::int16_t* p, std::size_t heads, int tier, const std::uint8_t* tiles,
                const std::uint32_t* tile_list, std::size_t listed, std::int32_t* sums,
                const float* scales, std::size_t count, std::size_t d, const std::int32_t* offset,
                const float* c, const float* e, float* upper, float* tile_tops) {
  switch (heads) {
    case 1:
      return tier_upper_heads<1>(p, tier, tiles, tile_list, listed, sums, scales, count, d, offset,
                                 c, e, upper, tile_tops);
    case 2:
      return tier_upper_heads<2>(p, tier, tiles, tile_list, listed, sums, scales, count, d, offset,
                                 c, e, upper, tile_tops);
    case 3:
      return tier_upper_heads<3>(p, tier, tiles, tile_list, listed, sums, scales, count, d, offset,
                                 c, e, upper, tile_tops);
    case 4:
      return tier_upper_heads<4>(p, tier, tiles, tile_list, listed, sums, scales, count, d, offset,
                                 c, e, upper, tile_tops);
    default: {
      const std::size_t tiles_total = (count + 15) / 16;
      for (std::size_t h = 0; h < heads; ++h)
        tier_upper_heads<1>(p + h * d, tier, tiles, tile_list, listed, sums + h * count, scales,
                            count, d, offset + h, c + h, e + h, upper + h * count,
                            tile_tops + h * tiles_total);
    }
  }
}

}  // namespace tvk::kernels::TVK_KERNEL_ISA
