#include "core/certified/quantized_keys.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace tvk {
namespace {

constexpr double kUnitRoundoff = 0x1p-53;
constexpr double kInf = std::numeric_limits<double>::infinity();

// The smallest bfloat16 value >= x (x >= 0 finite, x <= float max): first to float rounding
// up, then to the upper 16 bits of the float rounding up (positive: adding one unit of the
// 16th bit carries into the exponent as it should).
float bf16_round_up(double x) {
  float f = static_cast<float>(x);
  if (static_cast<double>(f) < x) f = std::nextafter(f, std::numeric_limits<float>::infinity());
  std::uint32_t bits = std::bit_cast<std::uint32_t>(f);
  if ((bits & 0xffffu) != 0) bits = (bits & 0xffff0000u) + 0x10000u;
  return std::bit_cast<float>(bits);
}

// γ_m = m u / (1 − m u), rounded up (m u <= 2^-20 in any use here: no division trouble).
double gamma(double m) {
  const double mu = m * kUnitRoundoff;
  return std::nextafter(mu / (1.0 - mu), kInf) * (1.0 + 4.0 * kUnitRoundoff);
}

// |a − b| rounded up: exact when the subtraction is (TwoSum error term 0), else one ulp more.
double abs_difference_up(double a, double b) {
  const double s = a - b;
  const double bb = s - a;
  const double err = (a - (s - bb)) + (-b - bb);
  const double m = std::abs(s);
  return err == 0.0 ? m : std::nextafter(m, kInf);
}

}  // namespace

std::string quantizer_description(const QuantizerOptions& options) {
  return "int" + std::to_string(options.bits) + ", scale per " +
         (options.group == 0 ? std::string("key") : std::to_string(options.group) + " channels");
}

QuantizedKeys::QuantizedKeys(std::size_t d, QuantizerOptions options) : d_(d), options_(options) {
  if (options.bits != 4 && options.bits != 8) {
    throw std::invalid_argument("QuantizedKeys: bits must be 4 or 8, got " +
                                std::to_string(options.bits));
  }
  if (d == 0) throw std::invalid_argument("QuantizedKeys: d must be >= 1");
  group_size_ = options.group == 0 ? d : std::min(options.group, d);
  groups_ = (d + group_size_ - 1) / group_size_;
}

QuantizedKeys QuantizedKeys::build(const double* keys, std::size_t n, std::size_t d,
                                   QuantizerOptions options) {
  QuantizedKeys out(d, options);
  out.codes_.reserve(n * d);
  out.scales_.reserve(n * out.groups_);
  out.radii_.reserve(n * out.groups_);
  for (std::size_t i = 0; i < n; ++i)
    out.append(keys + i * d);
  return out;
}

void QuantizedKeys::append(const double* key) {
  for (std::size_t c = 0; c < d_; ++c) {
    if (!std::isfinite(key[c]) || std::abs(key[c]) > 1e30) {
      throw std::invalid_argument("QuantizedKeys: channel " + std::to_string(c) +
                                  " is not finite or exceeds 1e30 in magnitude");
    }
  }
  const double qmax = options_.bits == 8 ? 127.0 : 7.0;
  for (std::size_t g = 0; g < groups_; ++g) {
    const std::size_t begin = g * group_size_, end = std::min(d_, begin + group_size_);
    double amax = 0.0;
    for (std::size_t c = begin; c < end; ++c)
      amax = std::max(amax, std::abs(key[c]));
    if (amax == 0.0) {  // a zero group: any positive scale, codes 0, radius 0
      scales_.push_back(1.0f);
      radii_.push_back(0.0f);
      for (std::size_t c = begin; c < end; ++c)
        codes_.push_back(0);
      continue;
    }
    float scale = bf16_round_up(amax / qmax);
    // Δ qmax is exact (8 + 7 significant bits): make sure every |k_c| / Δ <= qmax.
    while (static_cast<double>(scale) * qmax < amax)
      scale = bf16_round_up(std::nextafter(static_cast<double>(scale), kInf));
    const double delta = scale;
    double radius = 0.0;
    for (std::size_t c = begin; c < end; ++c) {
      const double m = std::clamp(std::nearbyint(key[c] / delta), -qmax, qmax);
      codes_.push_back(static_cast<std::int8_t>(m));
      // Δ m is exact in double (at most 16 significant bits); the difference is exact too
      // (Sterbenz) except in corner cases, where it is rounded up.
      radius = std::max(radius, abs_difference_up(key[c], delta * m));
    }
    scales_.push_back(scale);
    radii_.push_back(bf16_round_up(radius));
  }
  ++n_;
}

double QuantizedKeys::bytes_per_key() const {
  return std::ceil(static_cast<double>(d_) * options_.bits / 8.0) +
         4.0 * static_cast<double>(groups_);
}

void QuantizedKeys::logit_bounds(const double* query, double scale, std::size_t count, double* lo,
                                 double* hi) const {
  if (count > n_) {
    throw std::invalid_argument("QuantizedKeys::logit_bounds: count " + std::to_string(count) +
                                " exceeds " + std::to_string(n_) + " keys");
  }
  logit_bounds(query, scale, 0, count, lo, hi);
}

// For key j, with the computed per-group sums dot_g = Σ q_c m_c, abs_g = Σ |q_c||m_c| and the
// query's ‖q_g‖₁ (all computed in double):
//   C = Σ_g Δ_g dot_g, A = Σ_g Δ_g abs_g, R = Σ_g r_g ‖q_g‖₁.
// Exactly, λ q·k ∈ λ (C* ± R*) (starred: exact values). The exact score ŝ differs from λ q·k by
// at most γ_{d+2} λ Σ|q_c||k_c| <= γ_{d+2} λ (A* + R*) (d products, d − 1 additions in any
// order, one multiplication by λ), plus (d + 2) 2^-1074 (1 + λ) for products that underflow.
// The computed C, A, R are each within γ_{2d+4} of their exact values relative to A* (resp. R*)
// (at most 2d + 4 operations deep), so A* + R* <= (A + R)(1 + 2 γ_{2d+4}) and the total error of
// the computed interval, the final λ products and sums included, is at most
// 4 γ_{2d+8} λ (A + R) + the underflow term. The slack used is four times that (two for the
// safety factor of the exact score, two for the bound's own arithmetic), and the two ends are
// then moved outward by one ulp (THEORY §12).
void QuantizedKeys::logit_bounds(const double* query, double scale, std::size_t first,
                                 std::size_t last, double* lo, double* hi) const {
  if (first > last || last > n_) {
    throw std::invalid_argument("QuantizedKeys::logit_bounds: bad key range [" +
                                std::to_string(first) + ", " + std::to_string(last) + ") of " +
                                std::to_string(n_) + " keys");
  }
  if (!(scale > 0.0) || !std::isfinite(scale)) {
    throw std::invalid_argument("QuantizedKeys::logit_bounds: scale must be finite and > 0");
  }
  std::vector<double> norm1(groups_, 0.0);
  for (std::size_t c = 0; c < d_; ++c) {
    if (!std::isfinite(query[c])) {
      throw std::invalid_argument("QuantizedKeys::logit_bounds: non-finite query channel " +
                                  std::to_string(c));
    }
    norm1[c / group_size_] += std::abs(query[c]);
  }
  const double dd = static_cast<double>(d_);
  const double relative = 16.0 * gamma(2.0 * dd + 8.0);
  const double absolute = (4.0 * dd + 16.0) * (1.0 + scale) * 0x1p-1074;
  for (std::size_t j = first; j < last; ++j) {
    const std::int8_t* m = codes_.data() + j * d_;
    const float* scales = scales_.data() + j * groups_;
    const float* radii = radii_.data() + j * groups_;
    double centre = 0.0, magnitude = 0.0, radius = 0.0;
    for (std::size_t g = 0; g < groups_; ++g) {
      const std::size_t begin = g * group_size_, end = std::min(d_, begin + group_size_);
      double dot = 0.0, abs_dot = 0.0;
      for (std::size_t c = begin; c < end; ++c) {
        const double code = m[c];
        dot += query[c] * code;
        abs_dot += std::abs(query[c] * code);
      }
      const double delta = scales[g];
      centre += delta * dot;
      magnitude += delta * abs_dot;
      radius += static_cast<double>(radii[g]) * norm1[g];
    }
    const double slack = relative * scale * (magnitude + radius) + absolute;
    const double low = scale * centre - scale * radius - slack;
    const double high = scale * centre + scale * radius + slack;
    if (std::isfinite(low) && std::isfinite(high)) {
      lo[j - first] = std::nextafter(low, -kInf);
      hi[j - first] = std::nextafter(high, kInf);
    } else {  // overflow: no bound
      lo[j - first] = -kInf;
      hi[j - first] = kInf;
    }
  }
}

void QuantizedKeys::estimates(const double* query, double scale, std::size_t count,
                              double* out) const {
  if (count > n_) throw std::invalid_argument("QuantizedKeys::estimates: count exceeds size()");
  for (std::size_t j = 0; j < count; ++j) {
    const std::int8_t* m = codes_.data() + j * d_;
    const float* scales = scales_.data() + j * groups_;
    double centre = 0.0;
    for (std::size_t g = 0; g < groups_; ++g) {
      const std::size_t begin = g * group_size_, end = std::min(d_, begin + group_size_);
      double dot = 0.0;
      for (std::size_t c = begin; c < end; ++c)
        dot += query[c] * static_cast<double>(m[c]);
      centre += static_cast<double>(scales[g]) * dot;
    }
    out[j] = scale * centre;
  }
}

std::vector<double> QuantizedKeys::dequantized(std::size_t j) const {
  if (j >= n_) throw std::out_of_range("QuantizedKeys::dequantized: key out of range");
  std::vector<double> out(d_);
  for (std::size_t c = 0; c < d_; ++c)
    out[c] = static_cast<double>(scales_[j * groups_ + c / group_size_]) *
             static_cast<double>(codes_[j * d_ + c]);
  return out;
}

double QuantizedKeys::radius(std::size_t j, std::size_t g) const {
  if (j >= n_ || g >= groups_) throw std::out_of_range("QuantizedKeys::radius: out of range");
  return radii_[j * groups_ + g];
}

}  // namespace tvk
