#include "core/certified/decode_attention.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

#include "core/certified/decode_buckets.h"
#include "core/certified/decode_selection.h"
#include "core/certified/rounding.h"
#include "core/kernels/kernel_set.h"
#include "core/numerics/binary16.h"

namespace tvk {
namespace {

using decode::HeadSelection;
using decode::kBuckets;
using decode::kExpFloat;
using decode::PhaseClock;
using rounding::kUnitDouble;
using rounding::kUnitFloat;
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr std::size_t kBlock = 512;  // keys per dense block: K and V blocks stay in L2

// The float nearest above x (x finite, >= 0).
float float_up(double x) {
  float f = static_cast<float>(x);
  if (static_cast<double>(f) < x) f = std::nextafter(f, std::numeric_limits<float>::infinity());
  return f;
}

// ‖out − Attn(q, K, V)‖₂ <= τ̄ D + (1 + τ̄) δ (THEORY §14.7): out the float output over the m
// kept keys, τ̄ their tail bound, ē the largest error of their exact scores. δ covers the scores'
// error, the weights' rounding and normalisation and the float accumulation; D >= the distance
// from out to any unscored value, the smaller of V + ‖out‖₂ and the box of the cache's
// per-channel value extremes.
double output_bound(const KvCache& cache, const float* out, double tau, double score_error,
                    std::size_t m) {
  const std::size_t d = cache.dim();
  const double v = cache.value_norm_max();
  const double md = static_cast<double>(m);
  const double alpha = kExpFloat;
  const double omega = kUnitFloat + 2.01 * alpha + 1.01 * (md + 1.0) * kUnitDouble;
  const double gamma = md * kUnitFloat / (1.0 - md * kUnitFloat);
  // Float weights below 2^-126 (subnormal or flushed: exp_floats gives 0 below e^-87, and
  // e^-87 < 2^-125) err by at most 2^-125 absolute each.
  const double tiny = md * 0x1p-125;
  const double delta =
      v * (std::expm1(2.0 * score_error) + omega + gamma * (1.0 + omega) + 2.0 * tiny) +
      std::sqrt(static_cast<double>(d)) * tiny;
  double norm2 = 0.0, box2 = 0.0;
  const float* lo = cache.value_low();
  const float* hi = cache.value_high();
  for (std::size_t c = 0; c < d; ++c) {
    const double x = out[c];
    norm2 += x * x;
    const double far = std::max(static_cast<double>(hi[c]) - x, x - static_cast<double>(lo[c]));
    box2 += far * far;
  }
  // Each square root of a double sum of d squares is within 2^-40 relative (as value_norm_max).
  const double reach = std::min(v + std::sqrt(norm2), std::sqrt(box2)) * (1.0 + 0x1p-40);
  const double bound = (tau * reach + (1.0 + tau) * delta) * (1.0 + 16.0 * kUnitDouble);
  return std::nextafter(bound, kInf);
}

void check_count(const KvCache& cache, std::size_t count, const char* what) {
  if (count == 0 || count > cache.size()) {
    throw std::invalid_argument(std::string(what) + ": count " + std::to_string(count) +
                                " must be in [1, " + std::to_string(cache.size()) + "]");
  }
}

}  // namespace

KvCache::KvCache(std::size_t d, int bits, bool two_tier)
    : d_(d), codes_(d == 0 ? 1 : d, QuantizerOptions{bits == 4 ? 4 : 8, 0}), two_tier_(two_tier) {
  if (d == 0 || d % 8 != 0 || d > 64) {
    throw std::invalid_argument("KvCache: head dimension must be a multiple of 8 in [8, 64], got " +
                                std::to_string(d));
  }
  if (bits != 4 && bits != 8) {
    throw std::invalid_argument("KvCache: key code bits must be 8 or 4, got " +
                                std::to_string(bits));
  }
  if (two_tier && bits != 8) {
    throw std::invalid_argument("KvCache: a two-tier summary splits int8 codes, got bits " +
                                std::to_string(bits));
  }
}

void KvCache::append(const std::uint16_t* key, const std::uint16_t* value) {
  std::vector<double> k(d_);
  double norm2 = 0.0;
  for (std::size_t c = 0; c < d_; ++c) {
    k[c] = from_binary16(key[c]);
    const double v = from_binary16(value[c]);
    if (!std::isfinite(k[c]) || !std::isfinite(v)) {
      throw std::invalid_argument("KvCache::append: channel " + std::to_string(c) +
                                  " of the key or value is not finite");
    }
    norm2 += v * v;
  }
  if (value_low_.empty()) {
    value_low_.assign(d_, std::numeric_limits<float>::infinity());
    value_high_.assign(d_, -std::numeric_limits<float>::infinity());
  }
  codes_.append(k.data());  // checks nothing more can fail (|k| <= 65504)
  const std::size_t j = codes_.size() - 1;
  const std::int8_t* m = codes_.code_data() + j * d_;
  if (two_tier_) {
    // m = 4 (u − 32) + l with u = (m >> 2) + 32 in [0, 63] and l = m & 3 (|m| <= 127); tier 1
    // holds u's nibble u >> 2 and its bit pair u & 3, tier 2 l (kernel_table.h, tier_upper).
    if (j % 16 == 0) {
      first_tier_.resize(first_tier_.size() + 12 * d_, 0);
      second_tier_.resize(second_tier_.size() + 4 * d_, 0);
    }
    std::uint8_t* first = first_tier_.data() + (j / 16) * 12 * d_;
    std::uint8_t* second = second_tier_.data() + (j / 16) * 4 * d_;
    for (std::size_t c = 0; c < d_; ++c) {
      const std::size_t q = c / 4, b = 4 * (j % 16) + 2 * (c % 2) + (c / 2) % 2;
      const std::size_t pair_shift = 2 * (b / 32) + 4 * (q % 2);
      const auto u = static_cast<unsigned>((m[c] >> 2) + 32);
      const auto l = static_cast<unsigned>(m[c] & 3);
      std::uint8_t* block = first + (q / 2) * 96;
      block[b] = static_cast<std::uint8_t>(block[b] | (u >> 2) << (4 * (q % 2)));
      block[64 + b % 32] = static_cast<std::uint8_t>(block[64 + b % 32] | (u & 3) << pair_shift);
      std::uint8_t* pairs = second + (q / 2) * 32 + b % 32;
      *pairs = static_cast<std::uint8_t>(*pairs | l << pair_shift);
    }
  } else {
    if (j % 16 == 0) code_tiles_.resize(code_tiles_.size() + 16 * d_, 0);
    std::int8_t* tile = code_tiles_.data() + (j / 16) * 16 * d_ + (j % 16) * 2;
    for (std::size_t c = 0; c < d_; ++c)
      tile[(c / 2) * 32 + c % 2] = m[c];
  }
  keys_.insert(keys_.end(), key, key + d_);
  values_.insert(values_.end(), value, value + d_);
  for (std::size_t c = 0; c < d_; ++c) {
    const float x = from_binary16(value[c]);
    value_low_[c] = std::min(value_low_[c], x);
    value_high_[c] = std::max(value_high_[c], x);
  }
  // sqrt of a sum of d exact squares' rounded sum: d − 1 additions (<= 63 u) and the sqrt, well
  // inside 2^-40 (THEORY §14.6).
  value_norm_max_ = std::max(value_norm_max_, std::sqrt(norm2) * (1.0 + 0x1p-40));
}

void dense_decode(const KvCache& cache, std::size_t count, const float* queries, std::size_t heads,
                  float scale, float* out, DecodeScratch& scratch) {
  check_count(cache, count, "dense_decode");
  const kernels::KernelTable& k = kernels::active_kernels();
  const std::size_t d = cache.dim();
  scratch.logits.resize(heads * kBlock);
  scratch.weights.resize(heads * kBlock);
  scratch.accumulator.assign(heads * d, 0.0f);
  std::vector<float> top(heads, -std::numeric_limits<float>::infinity());
  std::vector<double> total(heads, 0.0);
  for (std::size_t first = 0; first < count; first += kBlock) {
    const std::size_t len = std::min(kBlock, count - first);
    const std::uint16_t* keys = cache.keys() + first * d;
    const std::uint16_t* values = cache.values() + first * d;
    k.half_logits(queries, heads, keys, nullptr, len, d, scale, scratch.logits.data());
    for (std::size_t h = 0; h < heads; ++h) {
      const float* logits = scratch.logits.data() + h * len;
      const float block_top = k.max_floats(logits, len);
      if (block_top > top[h]) {  // online softmax: rescale what was summed so far
        const float factor = std::isinf(top[h]) ? 0.0f : std::exp(top[h] - block_top);
        float* acc = scratch.accumulator.data() + h * d;
        for (std::size_t c = 0; c < d; ++c)
          acc[c] *= factor;
        total[h] *= factor;
        top[h] = block_top;
      }
      total[h] += k.exp_floats(logits, len, top[h], scratch.weights.data() + h * len);
    }
    // Each value block is converted once for all heads.
    k.half_accumulate(scratch.weights.data(), heads, values, nullptr, len, d,
                      scratch.accumulator.data());
  }
  for (std::size_t h = 0; h < heads; ++h) {
    const float inverse = static_cast<float>(1.0 / total[h]);
    for (std::size_t c = 0; c < d; ++c)
      out[h * d + c] = scratch.accumulator[h * d + c] * inverse;
  }
}

namespace {

// The query of each head rounded to int16 codes p with a power-of-two step Δ_q:
// q = Δ_q p + e_q, |e_q| <= ρ_q (exact); ‖q‖₁ rounded up.
struct QueryCodes {
  std::array<double, 4> step{}, residual{}, norm1{};
};

QueryCodes quantize_queries(const float* queries, std::size_t heads, std::size_t d,
                            std::int16_t* codes) {
  QueryCodes qc;
  for (std::size_t h = 0; h < heads; ++h) {
    const float* q = queries + h * d;
    double qmax = 0.0, sum = 0.0;
    for (std::size_t c = 0; c < d; ++c) {
      if (!std::isfinite(q[c])) {
        throw std::invalid_argument("certified_decode: non-finite query channel " +
                                    std::to_string(c) + " of head " + std::to_string(h));
      }
      qmax = std::max(qmax, std::abs(static_cast<double>(q[c])));
      sum += std::abs(static_cast<double>(q[c]));
    }
    int exponent = 0;
    const double fraction = std::frexp(qmax > 0.0 ? qmax / 32767.0 : 1.0, &exponent);
    const double delta =
        fraction == 0.5 ? std::ldexp(1.0, exponent - 1) : std::ldexp(1.0, exponent);
    double rho = 0.0;
    for (std::size_t c = 0; c < d; ++c) {
      const double p = std::nearbyint(static_cast<double>(q[c]) / delta);  // |p| <= 32767
      codes[h * d + c] = static_cast<std::int16_t>(p);
      rho = std::max(rho, std::abs(static_cast<double>(q[c]) - delta * p));
    }
    qc.step[h] = delta;
    qc.residual[h] = rho;
    qc.norm1[h] = sum * (1.0 + 128.0 * kUnitDouble);  // d <= 64 double additions, rounded up
  }
  return qc;
}

// The largest |m| of the cache's codes: 127 for int8, 7 for int4 (|k_c| <= levels Δ_j).
double code_levels(const KvCache& cache) {
  return cache.bits() == 8 ? 127.0 : 7.0;
}

// The float constants of the bound Δ_j (c D + e) of every head (summary_bounds' derivation): D
// may stand for any integer upper bound on p·m_j whose magnitude is at most `magnitude` Σ|p_c|
// (the codes' levels; 128 for a two-tier first bound).
struct BoundConstants {
  std::array<float, 4> c{}, e{};
};

BoundConstants bound_constants(const QueryCodes& qc, std::size_t heads, double dd, double lambda,
                               double levels, double magnitude) {
  BoundConstants k;
  for (std::size_t h = 0; h < heads; ++h) {
    const double q_bound = lambda * magnitude * (qc.norm1[h] + dd * qc.residual[h]);
    // E: the query's rounding (λ levels d ρ_q) and the key's (λ ‖q‖₁ r_j / Δ_j, r_j <= Δ_j
    // (1/2 + 2^-46): QuantizedKeys rounds k_c / Δ_j to nearest, |k_c / Δ_j| <= levels).
    const double rounding =
        lambda * levels * dd * qc.residual[h] + lambda * qc.norm1[h] * (0.5 + 0x1p-46);
    k.c[h] = static_cast<float>(lambda * qc.step[h]);
    k.e[h] = float_up(rounding + 16.0 * kUnitFloat * (q_bound + rounding));
  }
  return k;
}

// The bound of every key for every head (one pass over the codes) into scratch.upper, each
// head's largest into tops. With D_j = p·m_j exactly, |e_q·m_j| <= levels d ρ_q and
// |q·(k_j − Δ_j m_j)| <= ‖q‖₁ Δ_j (1/2 + 2^-46) (each code is k_c / Δ_j rounded to nearest):
// λ q·k <= Δ_j (λΔ_q D_j + λ levels d ρ_q + λ‖q‖₁ (1/2 + 2^-46)) exactly. Computed in float as
// Δ_j (c D_j + e): the four roundings (D_j to float, c D_j, + e, Δ_j ·) are covered by the 16 u of
// the magnitude in e (THEORY §14.2; levels is the codes' largest |m|: 127, or 7 for int4 codes).
// The summary reads each key's codes and scale, nothing more.
void summary_bounds(const KvCache& cache, std::size_t count, std::size_t heads, double lambda,
                    const QueryCodes& qc, DecodeScratch& scratch, std::array<float, 4>& tops) {
  const kernels::KernelTable& k = kernels::active_kernels();
  const double levels = code_levels(cache);
  const BoundConstants b =
      bound_constants(qc, heads, static_cast<double>(cache.dim()), lambda, levels, levels);
  scratch.upper.resize(heads * count);
  k.code_upper(scratch.query_codes.data(), heads, cache.code_tiles(), cache.codes().scale_data(),
               count, cache.dim(), b.c.data(), b.e.data(), scratch.upper.data(), tops.data());
}

// A two-tier cache's bounds (docs/THEORY.md §14.8): with m = 4 (u − 32) + l, l in [0, 3],
//   p·m <= D̄ = 4 Σ p_c u_c − 128 Σ p_c + 3 Σ max(p_c, 0)
// for every key (tier 1; |D̄| <= 128 Σ|p_c|, a channel at a time), then
//   p·m = 4 Σ p_c u_c − 128 Σ p_c + Σ p_c l_c
// exactly for the keys of the tiles whose first bound is within two_tier_reach of the head's
// largest for any head of the group (a tile's second tier is read once for the group). Either
// goes through summary_bounds' formula, its constants taken for magnitude 128. Returns the
// number of keys refined; tops are the largest final bounds.
std::size_t two_tier_bounds(const KvCache& cache, std::size_t count, std::size_t heads,
                            double lambda, const QueryCodes& qc, DecodeScratch& scratch,
                            std::array<float, 4>& tops) {
  const kernels::KernelTable& k = kernels::active_kernels();
  const std::size_t d = cache.dim();
  const BoundConstants b =
      bound_constants(qc, heads, static_cast<double>(d), lambda, code_levels(cache), 128.0);
  std::array<std::int32_t, 4> first{}, exact{};
  for (std::size_t h = 0; h < heads; ++h) {
    std::int32_t sum = 0, positive = 0;  // |Σ p_c| <= 64 · 32767: no overflow
    for (std::size_t c = 0; c < d; ++c) {
      const std::int32_t p = scratch.query_codes[h * d + c];
      sum += p;
      positive += p > 0 ? p : 0;
    }
    first[h] = -128 * sum + 3 * positive;
    exact[h] = -128 * sum;
  }
  const std::size_t tiles = (count + 15) / 16;
  scratch.upper.resize(heads * count);
  scratch.tier_sums.resize(heads * count);
  scratch.tile_tops.resize(heads * tiles);
  const float* scales = cache.codes().scale_data();
  k.tier_upper(scratch.query_codes.data(), heads, 1, cache.first_tier(), nullptr, 0,
               scratch.tier_sums.data(), scales, count, d, first.data(), b.c.data(), b.e.data(),
               scratch.upper.data(), scratch.tile_tops.data());
  auto head_tops = [&] {
    for (std::size_t h = 0; h < heads; ++h)
      tops[h] = k.max_floats(scratch.tile_tops.data() + h * tiles, tiles);
  };
  head_tops();
  scratch.refine.clear();
  std::size_t refined = 0;
  for (std::size_t t = 0; t < tiles; ++t) {
    bool reach = false;
    for (std::size_t h = 0; h < heads; ++h)
      reach = reach || scratch.tile_tops[h * tiles + t] >= tops[h] - two_tier_reach;
    if (reach) {
      scratch.refine.push_back(static_cast<std::uint32_t>(t));
      refined += std::min<std::size_t>(16, count - 16 * t);
    }
  }
  k.tier_upper(scratch.query_codes.data(), heads, 2, cache.second_tier(), scratch.refine.data(),
               scratch.refine.size(), scratch.tier_sums.data(), scales, count, d, exact.data(),
               b.c.data(), b.e.data(), scratch.upper.data(), scratch.tile_tops.data());
  head_tops();
  return refined;
}

// Head h's output over its K (THEORY §14.7): weights e^{ŝ − ŝ_max} normalised against the
// largest exact score, so the mass is >= 1 and no weight underflows into a NaN.
void head_output(const KvCache& cache, const std::vector<std::uint32_t>& kept,
                 const std::vector<float>& scores, float* out, DecodeScratch& scratch) {
  const kernels::KernelTable& k = kernels::active_kernels();
  const std::size_t m = kept.size(), d = cache.dim();
  scratch.exps.resize(m);
  const float score_top = k.max_floats(scores.data(), m);
  k.exp_floats(scores.data(), m, score_top, scratch.exps.data());
  // Σ x_i in four running sums (the additions do not wait in line; any order errs by γ_{m−1}).
  std::array<double, 4> sums{};
  std::size_t i = 0;
  for (; i + 4 <= m; i += 4)
    for (std::size_t l = 0; l < 4; ++l)
      sums[l] += scratch.exps[i + l];
  for (; i < m; ++i)
    sums[0] += scratch.exps[i];
  const double head_mass = (sums[0] + sums[1]) + (sums[2] + sums[3]);
  scratch.weights.resize(m);
  const double inverse = 1.0 / head_mass;
  for (i = 0; i < m; ++i)
    scratch.weights[i] = static_cast<float>(static_cast<double>(scratch.exps[i]) * inverse);
  std::fill(out, out + d, 0.0f);
  k.half_accumulate(scratch.weights.data(), 1, cache.values(), kept.data(), m, d, out);
}

}  // namespace

void certified_decode(const KvCache& cache, std::size_t count, const float* queries,
                      std::size_t heads, float scale, double eps, float* out,
                      CertifiedDecodeHead* result, DecodeScratch& scratch,
                      std::vector<std::uint32_t>* kept_keys) {
  check_count(cache, count, "certified_decode");
  if (!(eps > 0.0 && eps < 1.0)) {
    throw std::invalid_argument("certified_decode: eps must be in (0, 1), got " +
                                std::to_string(eps));
  }
  if (heads == 0 || heads > 4) {
    throw std::invalid_argument("certified_decode: heads must be in [1, 4], got " +
                                std::to_string(heads));
  }
  if (!(scale > 0.0f) || !std::isfinite(scale)) {
    throw std::invalid_argument("certified_decode: scale must be finite and > 0");
  }
  PhaseClock clock(scratch);
  const std::size_t d = cache.dim();
  const double lambda = scale;
  const double dd = static_cast<double>(d);

  scratch.query_codes.resize(heads * d);
  const QueryCodes qc = quantize_queries(queries, heads, d, scratch.query_codes.data());
  std::array<float, 4> tops{};
  std::size_t refined = 0;
  if (cache.two_tier()) {
    refined = two_tier_bounds(cache, count, heads, lambda, qc, scratch, tops);
  } else {
    summary_bounds(cache, count, heads, lambda, qc, scratch, tops);
  }
  clock.mark(DecodePhase::kSummary);

  scratch.buckets.resize(count + 16);
  scratch.listed.resize(count + 16);
  if (scratch.counts.size() != 2 * kBuckets) scratch.counts.assign(2 * kBuckets, 0u);
  scratch.rest.resize(kBuckets + 1);
  scratch.offsets.resize(kBuckets + 1);
  scratch.candidates.resize(count + 1);
  scratch.batch.resize(count);
  for (std::size_t h = 0; h < heads; ++h) {
    // The exact score ŝ_j (half_logits, float) is within (d + 4) u λ Σ|q_c||k_c| <= Δ_j es of
    // λ q·k: at most d/8 + 4 <= d + 4 roundings on any product's path (the product itself only
    // when the query is not binary16), and |k_c| <= 127 Δ_j (7 Δ_j for int4; THEORY §14.4).
    const double es = lambda * code_levels(cache) * qc.norm1[h] * (dd + 4.0) * kUnitFloat * 1.01;
    std::vector<std::uint32_t>& kept = scratch.kept;
    const HeadSelection sel = select_head(cache, count, queries, h, scale, eps, es, tops[h], kept,
                                          scratch.scores, scratch, clock);
    float* o = out + h * d;
    head_output(cache, kept, scratch.scores, o, scratch);
    clock.mark(DecodePhase::kValues);
    CertifiedDecodeHead& r = result[h];
    r.kept = kept.size();
    r.scored = r.kept + sel.scored_ahead;
    r.tau_bound = sel.tau;
    r.output_bound = output_bound(cache, o, sel.tau, sel.score_error, r.kept);
    r.dense_fallback = r.kept == count;
    r.refined = refined;
    // A two-tier cache reads tier 1 (3 d / 4 + 4 bytes a key), then d / 4 a refined key.
    const double summary = cache.two_tier()
                               ? static_cast<double>(count) * (0.75 * dd + 4.0) +
                                     static_cast<double>(refined) * dd / 4.0
                               : static_cast<double>(count) * cache.codes().bytes_per_key();
    r.bytes =
        summary + 2.0 * dd * static_cast<double>(r.scored) + 2.0 * dd * static_cast<double>(r.kept);
    r.dense_bytes = 4.0 * dd * static_cast<double>(count);
    if (kept_keys != nullptr) kept_keys[h] = kept;
  }
}

}  // namespace tvk
