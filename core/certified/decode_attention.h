#pragma once
//! \file One decode step of attention over a 16-bit KV cache, dense and certified (THEORY §8):
//! the kernels a decoder would run, for the decode benchmark (bench/decode_bench.cpp).
//!
//! A KvCache is one KV head of one layer: binary16 keys and values (what a 16-bit cache holds)
//! and int8 key codes with a bfloat16 scale and rounding radius per key (QuantizedKeys, one
//! scale per key), appended one key at a time. A step serves the G query heads that share the
//! KV head (grouped-query attention).
//!
//! dense_decode: softmax(λ q·K) V over the first `count` keys, keys and values read once per
//! block of keys for every head (online softmax), float arithmetic.
//!
//! certified_decode: per head, an upper bound U_j on every logit from the codes (exact int32
//! dot products of the query rounded to int16 with the int8 codes), the keys bucketed by
//! U_j on a grid of 1/64, exact scores in decreasing bucket order until the tail bound
//!   τ̄ = Σ_R e^{U} / (Σ_S e^{s_lo} + Σ_R e^{U}) <= eps
//! (S the scored keys, R the rest, each bucket's e^{U} taken at its upper edge), then the
//! attention output over K = S. Every rounding is accounted for: the logits certified are the
//! real λ q·k of the float query and binary16 keys (the query's int16 rounding, the codes'
//! rounding, float evaluation of the bound and of the exact scores, the bucket edges, the double
//! sums). The output bound covers the returned float output against exact attention over every key,
//! the truncation and the float arithmetic of the scores, weights and sums included
//! (derivations: THEORY §14, the output bound §14.7).

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/certified/quantized_keys.h"
#include "core/memory/row_aligned_allocator.h"

namespace tvk {

//! One KV head's cache.
class KvCache {
 public:
  //! An empty cache of head dimension d (a multiple of 8, at most 64) whose key codes have
  //! `bits` bits, 8 or 4 (std::invalid_argument otherwise). int4 codes are held one per byte
  //! in the tiles like int8's, so the summary pass reads as many bytes for them; a head's
  //! `bytes` counts the packed size a 4-bit summary store reads (d / 2 + 4 bytes a key).
  //!
  //! two_tier (with bits 8): the int8 codes m are held in two tiers instead, m = 4 (u − 32) + l:
  //! the six high bits u of every key are read first and bound the logit with l unknown in
  //! [0, 3]; l is read only for the tiles of sixteen keys whose first bound is within
  //! two_tier_reach of the row's largest (docs/THEORY.md §14.8). std::invalid_argument for
  //! two_tier with bits 4.
  explicit KvCache(std::size_t d, int bits = 8, bool two_tier = false);

  //! Appends one key and its value (d binary16 values each). Throws std::invalid_argument for
  //! a non-finite channel (the cache and its codes are unchanged then).
  void append(const std::uint16_t* key, const std::uint16_t* value);

  std::size_t size() const { return codes_.size(); }
  std::size_t dim() const { return d_; }
  int bits() const { return codes_.options().bits; }
  const std::uint16_t* keys() const { return keys_.data(); }
  const std::uint16_t* values() const { return values_.data(); }
  const QuantizedKeys& codes() const { return codes_; }
  //! The int8 codes again, in tiles of sixteen keys for the certified step's summary pass:
  //! code m_j[c] at (j / 16) · 16 d + (c / 2) · 32 + (j % 16) · 2 + c % 2 (a channel pair of
  //! sixteen keys is 32 contiguous bytes); the last tile's missing keys are zeros.
  const std::int8_t* code_tiles() const { return code_tiles_.data(); }
  bool two_tier() const { return two_tier_; }
  //! A two-tier cache's tiers (empty otherwise) in the layout of the kernel table's tier_upper:
  //! tier 1 (u, 12 d bytes a tile of sixteen keys) and tier 2 (l, 4 d bytes a tile).
  const std::uint8_t* first_tier() const { return first_tier_.data(); }
  const std::uint8_t* second_tier() const { return second_tier_.data(); }
  //! An upper bound on max_j ‖v_j‖₂ over the cached values.
  double value_norm_max() const { return value_norm_max_; }
  //! The smallest and largest value of each channel over the cached values (d floats each,
  //! exact: binary16 values are floats), for the output certificate's tail box.
  const float* value_low() const { return value_low_.data(); }
  const float* value_high() const { return value_high_.data(); }

 private:
  std::size_t d_;
  // Rows of 2 d bytes from a 128-byte boundary: a gathered row fills no more lines than it spans.
  std::vector<std::uint16_t, RowAlignedAllocator<std::uint16_t>> keys_, values_;
  QuantizedKeys codes_;
  std::vector<std::int8_t, RowAlignedAllocator<std::int8_t>> code_tiles_;
  bool two_tier_ = false;
  std::vector<std::uint8_t, RowAlignedAllocator<std::uint8_t>> first_tier_, second_tier_;
  std::vector<float> value_low_, value_high_;
  double value_norm_max_ = 0.0;
};

//! What certified_decode did for one head.
struct CertifiedDecodeHead {
  std::size_t scored = 0;     //!< keys scored exactly (K, and up to 63 scored ahead of the
                              //!< last check of the bound and dropped)
  std::size_t kept = 0;       //!< keys in K
  std::size_t refined = 0;    //!< keys whose second tier was read (two-tier caches; else 0)
  double tau_bound = 1.0;     //!< τ̄ >= the true tail mass of K, <= eps
  double output_bound = 0.0;  //!< >= ‖out − o‖₂, o exact attention over every key
  //! The bytes this head's step reads: the group's summary (counted for each head, as
  //! dense_bytes counts the group's K and V), the 16-bit key row of every key scored and the
  //! value row of every key kept. A row two heads need is counted for each.
  double bytes = 0.0;
  double dense_bytes = 0.0;     //!< the group's 16-bit K and V, counted for this head: 4 d count
  bool dense_fallback = false;  //!< every key was scored (τ̄ = 0)
};

//! How far below the row's largest first-tier bound (logits) a two-tier cache's tile has its
//! second tier read: 6, the reach that read the fewest bytes on the SmolLM2 store at n = 8192,
//! eps = 0.05 (bench/summary_bytes.py).
inline constexpr float two_tier_reach = 6.0f;

//! The certified step's phases, for the benchmark's breakdown.
enum class DecodePhase { kSummary, kSelection, kExact, kValues, kCount };

//! Buffers reused across steps (one per thread).
struct DecodeScratch {
  //! When set, certified_decode adds each phase's wall time (seconds) to phase_seconds.
  bool time_phases = false;
  std::array<double, static_cast<std::size_t>(DecodePhase::kCount)> phase_seconds{};
  std::vector<float> logits, weights, upper, scores, exps, accumulator;
  std::vector<std::int16_t> query_codes;
  std::vector<std::int32_t> tier_sums;
  std::vector<float> tile_tops;
  std::vector<std::uint32_t> refine;
  std::vector<std::uint16_t> buckets;
  std::vector<std::uint32_t> listed, counts, offsets, candidates, batch, kept;
  std::vector<double> rest;
};

//! out[h · d + c] = Σ_j softmax(scale q_h·k)_j v_jc over keys j < count, for heads h < heads
//! (queries: heads × d floats). Throws std::invalid_argument for count = 0 or > size().
void dense_decode(const KvCache& cache, std::size_t count, const float* queries, std::size_t heads,
                  float scale, float* out, DecodeScratch& scratch);

//! The certified step for the same heads: out as dense_decode's, over each head's K;
//! result[h] what it did; kept_keys, when not null, receives each head's K (heads vectors).
//! Throws std::invalid_argument for count = 0 or > size(), eps outside
//! (0, 1), heads > 4, or a non-finite query or scale.
void certified_decode(const KvCache& cache, std::size_t count, const float* queries,
                      std::size_t heads, float scale, double eps, float* out,
                      CertifiedDecodeHead* result, DecodeScratch& scratch,
                      std::vector<std::uint32_t>* kept_keys = nullptr);

}  // namespace tvk
