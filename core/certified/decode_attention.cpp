#include "core/certified/decode_attention.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "core/kernels/kernel_set.h"
#include "core/numerics/binary16.h"

namespace tvk {
namespace {

constexpr double kUnitDouble = 0x1p-53;
constexpr double kUnitFloat = 0x1p-24;
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr std::size_t kBlock = 512;  // keys per dense block: K and V blocks stay in L2
// Buckets of U on a grid of 1/64 below the row's largest U; the last takes everything lower.
constexpr std::size_t kBuckets = 2048;
constexpr double kGrid = 64.0;

// The float nearest above x (x finite, >= 0).
float float_up(double x) {
  float f = static_cast<float>(x);
  if (static_cast<double>(f) < x) f = std::nextafter(f, std::numeric_limits<float>::infinity());
  return f;
}

// W[b] >= e^{−b/64 + 4e−6}: the weight of bucket b's upper edge relative to the row's largest
// U (the 4e−6 covers the float rounding of (M − U) 64, at most 32 2^-24 logit units).
const std::array<double, kBuckets>& bucket_weights() {
  static const std::array<double, kBuckets> table = [] {
    std::array<double, kBuckets> w{};
    for (std::size_t b = 0; b < kBuckets; ++b)
      w[b] = std::exp(-static_cast<double>(b) / kGrid + 4e-6) * (1.0 + 8.0 * kUnitDouble);
    return w;
  }();
  return table;
}

// The outward rounding of the double sums of a certificate over n keys (as quantized_search).
double inflate(double raw, std::size_t n) {
  const double rel = (16.0 * (static_cast<double>(n) + 8.0) + 2048.0) * kUnitDouble;
  return std::min(1.0, raw * (1.0 + rel));
}

void check_count(const KvCache& cache, std::size_t count, const char* what) {
  if (count == 0 || count > cache.size()) {
    throw std::invalid_argument(std::string(what) + ": count " + std::to_string(count) +
                                " must be in [1, " + std::to_string(cache.size()) + "]");
  }
}

}  // namespace

KvCache::KvCache(std::size_t d) : d_(d), codes_(d == 0 ? 1 : d, QuantizerOptions{8, 0}) {
  if (d == 0 || d % 8 != 0 || d > 64) {
    throw std::invalid_argument("KvCache: head dimension must be a multiple of 8 in [8, 64], got " +
                                std::to_string(d));
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
  codes_.append(k.data());  // checks nothing more can fail (|k| <= 65504)
  keys_.insert(keys_.end(), key, key + d_);
  values_.insert(values_.end(), value, value + d_);
  // sqrt of a sum of d exact squares' rounded sum: one relative 2^-50 covers both roundings.
  value_norm_max_ = std::max(value_norm_max_, std::sqrt(norm2) * (1.0 + 0x1p-40));
}

void dense_decode(const KvCache& cache, std::size_t count, const float* queries, std::size_t heads,
                  float scale, float* out, DecodeScratch& scratch) {
  check_count(cache, count, "dense_decode");
  const kernels::KernelTable& k = kernels::active_kernels();
  const std::size_t d = cache.dim();
  scratch.logits.resize(heads * kBlock);
  scratch.weights.resize(kBlock);
  scratch.accumulator.assign(heads * d, 0.0f);
  std::vector<float> top(heads, -std::numeric_limits<float>::infinity());
  std::vector<double> total(heads, 0.0);
  for (std::size_t first = 0; first < count; first += kBlock) {
    const std::size_t len = std::min(kBlock, count - first);
    const std::uint16_t* keys = cache.keys() + first * d;
    const std::uint16_t* values = cache.values() + first * d;
    k.half_logits(queries, heads, keys, nullptr, len, d, scale, scratch.logits.data());
    for (std::size_t h = 0; h < heads; ++h) {
      float* acc = scratch.accumulator.data() + h * d;
      const float* logits = scratch.logits.data() + h * len;
      const float block_top = *std::max_element(logits, logits + len);
      if (block_top > top[h]) {  // online softmax: rescale what was summed so far
        const float factor = std::isinf(top[h]) ? 0.0f : std::exp(top[h] - block_top);
        for (std::size_t c = 0; c < d; ++c)
          acc[c] *= factor;
        total[h] *= factor;
        top[h] = block_top;
      }
      k.exp_floats(logits, len, top[h], scratch.weights.data());
      float block_sum = 0.0f;
      for (std::size_t i = 0; i < len; ++i)
        block_sum += scratch.weights[i];
      total[h] += block_sum;
      k.half_accumulate(scratch.weights.data(), values, nullptr, len, d, acc);
    }
  }
  for (std::size_t h = 0; h < heads; ++h) {
    const float inverse = static_cast<float>(1.0 / total[h]);
    for (std::size_t c = 0; c < d; ++c)
      out[h * d + c] = scratch.accumulator[h * d + c] * inverse;
  }
}

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
  const kernels::KernelTable& k = kernels::active_kernels();
  const std::size_t d = cache.dim();
  const double lambda = scale;
  const double dd = static_cast<double>(d);
  const std::array<double, kBuckets>& weight = bucket_weights();

  // Each query rounded to int16 codes p with a power-of-two step Δ_q: q = Δ_q p + e_q,
  // |e_q| <= ρ_q (exact).
  scratch.query_codes.resize(heads * d);
  std::vector<double> step(heads), residual(heads), norm1(heads);
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
      scratch.query_codes[h * d + c] = static_cast<std::int16_t>(p);
      rho = std::max(rho, std::abs(static_cast<double>(q[c]) - delta * p));
    }
    step[h] = delta;
    residual[h] = rho;
    norm1[h] = sum * (1.0 + 128.0 * kUnitDouble);  // d <= 64 double additions, rounded up
  }
  scratch.dots.resize(heads * count);
  k.code_dots(scratch.query_codes.data(), heads, cache.codes().code_data(), count, d,
              scratch.dots.data());

  scratch.upper.resize(count);
  scratch.buckets.resize(count);
  scratch.counts.resize(kBuckets);
  scratch.rest.resize(kBuckets + 1);
  const float* scales = cache.codes().scale_data();
  const float* radii = cache.codes().radius_data();
  for (std::size_t h = 0; h < heads; ++h) {
    // λ q·k <= Δ_j (λΔ_q D_j + λ 127 d ρ_q) + r_j λ‖q‖₁ exactly (D_j = p·m_j, |q·k − q·k̃| <=
    // r_j ‖q‖₁, |e_q·m_j| <= ρ_q 127 d). Computed in float as Δ_j (c D_j + e) + r_j a: the
    // seven roundings (D_j to float, c, c D_j, + e, Δ_j, r_j a, the sum) are covered by 16 u
    // of the magnitude Q >= |λ Δ_q D_j| in e and by 16 u in a.
    const double q_bound = lambda * 127.0 * (norm1[h] + dd * residual[h]);
    const float c = static_cast<float>(lambda * step[h]);
    const float e = float_up(lambda * 127.0 * dd * residual[h] + 16.0 * kUnitFloat * q_bound);
    const float a = float_up(lambda * norm1[h] * (1.0 + 16.0 * kUnitFloat));
    // The exact score ŝ_j (half_logits, float) is within (d + 4) u λ Σ|q_c||k_c| <= Δ_j es of
    // λ q·k: the products are exact (11-bit by 11-bit significands), the d − 1 sums and the
    // scale multiplication round, and |k_c| <= 127 Δ_j.
    const double es = lambda * 127.0 * norm1[h] * (dd + 4.0) * kUnitFloat * 1.01;
    const float top = k.code_bounds(scratch.dots.data() + h * count, scales, radii, count, c, e, a,
                                    scratch.upper.data());

    std::fill(scratch.counts.begin(), scratch.counts.end(), 0u);
    for (std::size_t j = 0; j < count; ++j) {
      const float units = (top - scratch.upper[j]) * static_cast<float>(kGrid);
      const auto b = static_cast<std::uint16_t>(units < static_cast<float>(kBuckets - 1)
                                                    ? static_cast<std::size_t>(units)
                                                    : kBuckets - 1);
      scratch.buckets[j] = b;
      ++scratch.counts[b];
    }
    // rest[b] = Σ_{b' >= b} count_b' W[b'], from the bottom up.
    scratch.rest[kBuckets] = 0.0;
    for (std::size_t b = kBuckets; b-- > 0;)
      scratch.rest[b] = scratch.rest[b + 1] + static_cast<double>(scratch.counts[b]) * weight[b];

    // Score whole buckets from the top; gather the keys of a range of buckets at a time
    // (first a guess that the exact scores sit one logit below their bounds).
    double head_lo = 0.0, head_mass = 0.0;
    std::size_t scored = 0, next = 0;  // next: the first bucket not yet scored
    bool certified = false;
    double tau = 1.0;
    scratch.order.clear();
    scratch.exact.clear();
    scratch.exps.clear();
    std::vector<std::uint32_t> kept;
    std::size_t cut = 0;
    {
      double optimistic = 0.0;
      while (cut + 1 < kBuckets) {
        optimistic += static_cast<double>(scratch.counts[cut]) * weight[cut] * 0.3678;
        if (scratch.rest[cut + 1] <= eps * (optimistic + scratch.rest[cut + 1])) break;
        ++cut;
      }
    }
    while (!certified) {
      // Keys of buckets [low, cut], ordered by bucket (counting sort).
      const std::size_t low = next, width = cut + 1 - low;
      std::vector<std::uint32_t> offsets(width + 1, 0);
      for (std::size_t b = low; b <= cut; ++b)
        offsets[b - low + 1] = offsets[b - low] + scratch.counts[b];
      scratch.batch.resize(offsets[width]);
      {
        std::vector<std::uint32_t> fill(offsets.begin(), offsets.end() - 1);
        for (std::size_t j = 0; j < count; ++j) {
          const std::size_t b = scratch.buckets[j];
          if (b >= low && b <= cut) scratch.batch[fill[b - low]++] = static_cast<std::uint32_t>(j);
        }
      }
      for (std::size_t b = low; b <= cut && !certified; ++b) {
        const std::uint32_t begin = offsets[b - low], end = offsets[b - low + 1];
        if (begin < end) {
          const std::size_t len = end - begin;
          scratch.scores.resize(len);
          k.half_logits(queries + h * d, 1, cache.keys(), scratch.batch.data() + begin, len, d,
                        scale, scratch.scores.data());
          const std::size_t at = scratch.exact.size();
          for (std::size_t i = 0; i < len; ++i)
            scratch.exact.push_back(scratch.scores[i]);
          scratch.exps.resize(at + len);
          k.exp_shifted(scratch.exact.data() + at, len, top, scratch.exps.data() + at);
          for (std::size_t i = 0; i < len; ++i) {
            const std::uint32_t j = scratch.batch[begin + i];
            // e^{ŝ − M} within one ulp (tvk's exp) and 2^-40 for the subtraction's rounding;
            // the true logit is >= ŝ − e_j, and e^{−e} >= 1 − e.
            const double err = static_cast<double>(scales[j]) * es * (1.0 + 0x1p-40);
            const double x = scratch.exps[at + i];
            head_lo += x * std::max(0.0, 1.0 - err) * (1.0 - 0x1p-40);
            head_mass += x;
            kept.push_back(j);
          }
          scored += len;
        }
        next = b + 1;
        if (scored == count) {
          certified = true;
          tau = 0.0;
          break;
        }
        const double rest = scratch.rest[b + 1];
        const double bound = inflate(rest / (head_lo + rest), count);
        if (bound <= eps) {
          certified = true;
          tau = bound;
        }
      }
      if (!certified) cut = std::min(kBuckets - 1, cut + 128);
    }

    // The output over K: weights e^{ŝ − M} normalised.
    scratch.weights.resize(kept.size());
    const double inverse = 1.0 / head_mass;
    for (std::size_t i = 0; i < kept.size(); ++i)
      scratch.weights[i] = static_cast<float>(scratch.exps[i] * inverse);
    float* o = out + h * d;
    std::fill(o, o + d, 0.0f);
    k.half_accumulate(scratch.weights.data(), cache.values(), kept.data(), kept.size(), d, o);

    if (kept_keys != nullptr) kept_keys[h] = kept;
    CertifiedDecodeHead& r = result[h];
    r.scored = scored;
    r.kept = kept.size();
    r.tau_bound = tau;
    r.output_bound = tau * 2.0 * cache.value_norm_max() * (1.0 + 0x1p-40);
    r.dense_fallback = scored == count;
    r.bytes = static_cast<double>(count) * cache.codes().bytes_per_key() +
              2.0 * dd * static_cast<double>(scored) + 2.0 * dd * static_cast<double>(kept.size());
    r.dense_bytes = 4.0 * dd * static_cast<double>(count);
  }
}

}  // namespace tvk
