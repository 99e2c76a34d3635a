#pragma once
//! \file Quantized key summaries (THEORY §8): each key's channels split into groups of G
//! channels, one scale Δ_g and integer codes m ∈ [−(2^{b−1}−1), 2^{b−1}−1] per group, so
//! k̃ = Δ_g m, and the rounding radius r_g >= max_{c∈g} |k_c − Δ_g m_c| of the group. Scales and
//! radii are stored as bfloat16 (16 bits with float32's exponent range; radii rounded up), codes
//! as int8 (b = 8) or packed int4 (b = 4). Built once per key set and appended one key at a time
//! (a decoder appends one key per step); a key's summary depends on that key only, so the
//! summaries of a causal row's keys 0..i are the first i + 1 of the set's.
//!
//! From the codes, for a query q and logit scale λ, every logit gets rigorous bounds
//!   lo_j <= ŝ_j <= hi_j,
//! where ŝ_j is the logit tvk's exact scorer computes for key j (kernels key_logits: double
//! arithmetic over the stored key's channels, any summation order). They account for
//!   * the rounding of the codes: |q·k − q·k̃| <= Σ_g r_g ‖q_g‖₁;
//!   * the floating-point error of the exact score: |ŝ − λ q·k| <= γ_{d+2} λ Σ_c |q_c||k_c|, with
//!     γ_m = m u / (1 − m u), u = 2^−53, and |k_c| <= |Δ_g m_c| + r_g (with a safety factor
//!     and an absolute term for products that underflow);
//!   * the floating-point error of computing the bound itself (rounded outward).

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace tvk {

//! How keys are quantized (config keys `bits`, `group`).
struct QuantizerOptions {
  int bits = 8;           //!< 8 or 4
  std::size_t group = 0;  //!< channels per scale; 0 = one scale per key (every channel)
};

//! "int8, scale per key" / "int4, scale per 8 channels".
std::string quantizer_description(const QuantizerOptions& options);

//! The quantized summaries of a growing key set of dimension d.
class QuantizedKeys {
 public:
  //! An empty set. Throws std::invalid_argument for bits other than 4 or 8, or d = 0.
  QuantizedKeys(std::size_t d, QuantizerOptions options);
  //! Summaries of n row-major keys (n × d, keys[i * d + c]). Throws std::invalid_argument for a
  //! non-finite channel or |k_c| > 1e30.
  static QuantizedKeys build(const double* keys, std::size_t n, std::size_t d,
                             QuantizerOptions options);

  //! Appends one key's summary (d channels); same errors as build().
  void append(const double* key);

  std::size_t size() const { return n_; }         //!< keys summarized
  std::size_t dim() const { return d_; }          //!< channels per key
  std::size_t groups() const { return groups_; }  //!< groups per key
  const QuantizerOptions& options() const { return options_; }

  //! Bytes one key's summary occupies: codes (d · bits / 8, rounded up) plus a 16-bit scale
  //! and a 16-bit radius per group (the byte model of THEORY §8).
  double bytes_per_key() const;

  //! lo[j] <= ŝ_j <= hi[j] for keys j < count (count <= size()), ŝ_j the logit the exact
  //! scorer computes for query q (d entries) at logit scale `scale` > 0 from the stored key.
  //! Throws std::invalid_argument for count > size() or a non-finite query.
  void logit_bounds(const double* query, double scale, std::size_t count, double* lo,
                    double* hi) const;
  //! The same for keys first <= j < last only: lo[j − first], hi[j − first] (the codes of the
  //! other keys are not read). Throws std::invalid_argument for first > last or last > size().
  void logit_bounds(const double* query, double scale, std::size_t first, std::size_t last,
                    double* lo, double* hi) const;

  //! The central estimates scale · q·k̃_j for j < count (no guarantee: Twilight's estimated
  //! scores).
  void estimates(const double* query, double scale, std::size_t count, double* out) const;

  //! The raw summaries for vectorised readers (core/certified/decode_attention.h): codes
  //! (size() × dim(), int4 codes one per byte), scales and radii (size() × groups(), floats
  //! holding bfloat16 values).
  const std::int8_t* code_data() const { return codes_.data(); }
  const float* scale_data() const { return scales_.data(); }
  const float* radius_data() const { return radii_.data(); }

  //! The dequantized key k̃_j (d entries), for tests.
  std::vector<double> dequantized(std::size_t j) const;
  //! The stored radius of group g of key j, for tests.
  double radius(std::size_t j, std::size_t g) const;

 private:
  std::size_t d_ = 0, groups_ = 0, n_ = 0;
  QuantizerOptions options_;
  std::size_t group_size_ = 0;      //!< channels per group (the last group may be shorter)
  std::vector<std::int8_t> codes_;  //!< n × d codes (int4 codes kept one per byte in memory)
  std::vector<float> scales_;       //!< n × groups, bfloat16-exact values
  std::vector<float> radii_;        //!< n × groups, bfloat16-exact, rounded up
};

}  // namespace tvk
