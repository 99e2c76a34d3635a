#pragma once
//! \file The hot loops of a sweep row as a table of plain functions, one table per instruction
//! set. core/kernels/isa/*.cpp are compiled once per set (baseline x86-64, x86-64-v3 with AVX2,
//! x86-64-v4 with AVX-512) into their own namespace, and active_kernels() picks one table at
//! start-up from the CPU's features (TVK_KERNELS forces a set). Every kernel computes exactly
//! the same operations in the same order whatever the set, so data are byte-identical across
//! sets: vector widths only change how many of those operations run at once.
//!
//! Kernels take raw pointers and sizes and use no standard-library templates: a template or
//! inline function instantiated in a kernel object would be compiled for that object's
//! instruction set, and the linker may keep that copy for every caller (the test
//! kernel_objects_test checks that kernel objects define nothing outside their namespace).

#include <cstddef>
#include <cstdint>

namespace tvk::kernels {

//! The largest and smallest value of a row and whether it holds a NaN.
struct RangeResult {
  double top;
  double bottom;
  bool has_nan;
};

//! The digit width of the sort's two radix passes (a 22-bit coarse key).
inline constexpr int kRadixDigitBits = 11;

//! One instruction set's kernels.
struct KernelTable {
  //! The set's name as TVK_KERNELS and `tvk --version` spell it.
  const char* name;

  //! Range of v[0..n), n >= 1.
  RangeResult (*value_range)(const double* v, std::size_t n);

  //! keys[i] = uint32(int32((top − v[i]) · scale)) >> shift: the sort's coarse keys.
  void (*sort_keys)(const double* v, std::size_t n, double top, double scale, int shift,
                    std::uint32_t* keys);

  //! Stable LSD radix sort of the words keys[i] << 32 | i by two digits of kRadixDigitBits
  //! bits (keys < 2^(2 kRadixDigitBits)), through the buffers a and b (n words each); writes the
  //! sorted positions to order and returns the buffer holding the sorted words.
  const std::uint64_t* (*radix_order)(const std::uint32_t* keys, std::size_t n, std::uint64_t* a,
                                      std::uint64_t* b, std::uint32_t* order);

  //! The first i in [from, last) with packed[i] >> 32 == packed[i + 1] >> 32, or last.
  std::size_t (*next_equal_key)(const std::uint64_t* packed, std::size_t from, std::size_t last);

  //! out[r] = values[order[r]] for r < n: a row in the order of a permutation.
  void (*gather)(const double* values, const std::uint32_t* order, std::size_t n, double* out);

  //! x[i] = shift + scale · x[i] for i < n (a location-scale family from standard draws).
  void (*scale_shift)(double* x, std::size_t n, double shift, double scale);

  //! out[i] = exp(in[i] − shift) by tvk's own exp (core/numerics/elementary.h); in may alias out.
  void (*exp_shifted)(const double* in, std::size_t n, double shift, double* out);

  //! Advances four interleaved xoshiro256++ generators `groups` times; state holds s0..s3 of the
  //! four lanes (state[4 * w + lane]); out[4 * g + lane] is lane's g-th output.
  void (*xoshiro_lanes)(std::uint64_t* state, std::uint64_t* out, std::size_t groups);

  //! The ziggurat's fast path for count (a multiple of 4) words: values[p] = the signed
  //! candidate u · X[layer]; rejected[p / 4] bit p % 4 set where it failed x < X[layer + 1].
  void (*ziggurat_fast)(const std::uint64_t* words, std::size_t count, const double* table_x,
                        double* values, std::uint8_t* rejected);

  //! B1's clear-failure filter: the first k in [k, n) where NOT (w[k] > 1e-290 and
  //! k w[k−1] < c (n − k) w[k]), or n (nd = n).
  std::size_t (*b1_skip)(const double* w, std::size_t k, std::size_t n, double c, double nd);

  //! B2's clear-failure filter: the first k in [k, n) where NOT
  //! (n − k) w[k] keep > margin head[k], or n.
  std::size_t (*b2_skip)(const double* w, const double* head, std::size_t k, std::size_t n,
                         double keep, double margin, double nd);

  //! out[j] = scale · Σ_c q[c · q_stride] k[c · k_stride + j] for j < keys, the sum over
  //! channels c = 0..channels−1 in order (k column-major: one column per channel).
  void (*channel_logits)(const double* q, std::size_t q_stride, const double* k,
                         std::size_t k_stride, std::size_t keys, std::size_t channels, double scale,
                         double* out);

  //! out[i] = key_logit(query, keys + i d, d, scale) for i < count (row-major keys): four
  //! partial sums over channels i mod 4 (the remainder into the first), combined pairwise.
  void (*key_logits)(const double* query, const double* keys, std::size_t count, std::size_t d,
                     double scale, double* out);

  //! The four per-cell sums of KeyCells::upper_bounds over channels e = 0..d−1 in order, for
  //! cells j < cells, from channel-major summaries (summary[e · cells + j]):
  //! box[j] = Σ (q_e ≥ 0 ? q_e hi : q_e lo), a[j] = Σ |q_e| big, qc[j] = Σ q_e c,
  //! b[j] = Σ |q_e| |c|; out holds box, a, qc, b one after the other (4 · cells).
  void (*cell_sums)(const double* q, std::size_t d, const double* lo, const double* hi,
                    const double* big, const double* centre, std::size_t cells, double* out);

  // Decode-step kernels (core/certified/decode_attention.h): float lanes eight wide at every
  // set, so the bits do not depend on the set. d is a multiple of 8.

  //! out[h · count + i] = scale · Σ_c q[h · d + c] · k_c for heads h < heads and the binary16
  //! key k of row rows[i] (i when rows is null) of keys (row-major, d per row): lane l sums
  //! channels l, l + 8, ... in order, the lanes combined ((0 + 1) + (2 + 3)) + ((4 + 5) + (6 + 7)).
  void (*half_logits)(const float* q, std::size_t heads, const std::uint16_t* keys,
                      const std::uint32_t* rows, std::size_t count, std::size_t d, float scale,
                      float* out);

  //! acc[h · d + c] += Σ_i w[h · count + i] · v_c for heads h < heads over the binary16 values
  //! v of rows rows[i] (i when null): each sum in order of i, then added to acc.
  void (*half_accumulate)(const float* w, std::size_t heads, const std::uint16_t* values,
                          const std::uint32_t* rows, std::size_t count, std::size_t d, float* acc);

  //! out[i] ≈ exp(in[i] − shift) in float (Cephes' expf; relative error below 1e-6; 0 below
  //! an argument of −87): softmax weights, not part of any certificate. Returns Σ out[i]
  //! (eight lanes, each in order of i, combined as half_logits' lanes).
  float (*exp_floats)(const float* in, std::size_t n, float shift, float* out);

  //! The largest in[i] (−inf when n = 0).
  float (*max_floats)(const float* in, std::size_t n);

  //! The code bound of every key for heads h < heads: with the exact dot product
  //! D = Σ_c p[h · d + c] · m_i[c] (|p| <= 32767, |m| <= 127, d <= 64: no overflow),
  //! upper[h · count + i] = scales[i] · (c[h] · float(D) + e[h]) in float, as written (no
  //! FMA); tops[h] = the largest of head h's (−inf when count = 0). The codes are in tiles of
  //! sixteen keys (KvCache::code_tiles): m_i[c] = tiles[(i / 16) · 16 d + (c / 2) · 32 +
  //! (i % 16) · 2 + c % 2], so one vector holds a channel pair of sixteen keys.
  void (*code_upper)(const std::int16_t* p, std::size_t heads, const std::int8_t* tiles,
                     const float* scales, std::size_t count, std::size_t d, const float* c,
                     const float* e, float* upper, float* tops);

  //! The two-tier summary's bound (KvCache's tier tiles, core/certified/decode_attention.h) of
  //! the keys of tiles tile_list[0..listed) (every tile of `count` keys when tile_list is null)
  //! from one tier of their int8 codes m = 4 (u − 32) + l: for each key i < count of a tile and
  //! head h < heads, with the exact dot N = Σ_c p[h · d + c] · t_i[c] of the tier's codes t
  //! (u in [0, 63] for tier 1, l in [0, 3] for tier 2) and the exact integer
  //! D = 4 N + offset[h] (tier 1; then sums[h · count + i] = N) or
  //! D = N + 4 sums[h · count + i] + offset[h] (tier 2),
  //! upper[h · count + i] = scales[i] · (c[h] · float(D) + e[h]) in float as written
  //! (code_upper's formula) and tile_tops[h · ⌈count / 16⌉ + tile] = the largest of the
  //! tile's bounds for head h. The caller keeps D within int32. Layout (KvCache two-tier): a
  //! tile of sixteen keys holds 12 d bytes of tier 1 or 4 d of tier 2, a block of 96 or 32
  //! bytes for each eight channels 8w..8w+7; key k's channel c sits at b = 4 k + 2 (c % 2) +
  //! (c / 2) % 2 of quad q = c / 4; tier 1's block holds u >> 2 in the nibble 4 (q % 2) of byte
  //! b, and both tiers hold their bit pair (u & 3, or l) at bit 2 (b / 32) + 4 (q % 2) of byte
  //! b % 32 of the block's last 32 bytes (core/kernels/isa/tier_kernels.cpp).
  void (*tier_upper)(const std::int16_t* p, std::size_t heads, int tier, const std::uint8_t* tiles,
                     const std::uint32_t* tile_list, std::size_t listed, std::int32_t* sums,
                     const float* scales, std::size_t count, std::size_t d,
                     const std::int32_t* offset, const float* c, const float* e, float* upper,
                     float* tile_tops);

  //! The keys of a row near its top, and the weight of the others. With b_j = min(last,
  //! trunc((top − upper[j]) · grid)) (top >= every upper[j]), the keys with b_j < near are
  //! listed in increasing order, index[i] = j and buckets[i] = b_j, and *far = Σ far_weights[b_j]
  //! over every key (exactly: the caller's weights are zero below near, below 2^23, and their
  //! total fits in 64 bits). Returns the number listed. index and buckets have room for
  //! count + 16; near <= last + 1 <= 2^15. When near + 512 <= last + 1, far_weights must be
  //! constant on the runs of 16 buckets from near and from near + 496 to last: a kernel may
  //! then look each weight up among those 32 values.
  std::size_t (*near_buckets)(const float* upper, std::size_t count, float top, float grid,
                              std::uint32_t last, std::uint32_t near,
                              const std::uint32_t* far_weights, std::uint32_t* index,
                              std::uint16_t* buckets, std::uint64_t* far);

  //! out[0..m) = the positions j < count with low <= buckets[j] <= high, in increasing order;
  //! returns m. out has room for count + 1.
  std::size_t (*select_buckets)(const std::uint16_t* buckets, std::size_t count, std::uint32_t low,
                                std::uint32_t high, std::uint32_t* out);
};

}  // namespace tvk::kernels
