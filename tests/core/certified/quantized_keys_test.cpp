//! \file Quantized key summaries (THEORY §8): codes in range, bfloat16 scales and radii, radius
//! >= the exact rounding error, and rigorous logit bounds lo <= ŝ <= hi around the logit the
//! exact kernel computes (and a long double reference) on adversarial synthetic keys: channels
//! at rounding boundaries, huge and subnormal norms, zero channels and keys, mixed signs, groups
//! not dividing d, d = 1. Append equals build (the prefix property).

#include "core/certified/quantized_keys.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/kernels/kernel_set.h"

namespace {

using tvk::QuantizedKeys;
using tvk::QuantizerOptions;

bool is_bf16(double x) {
  const float f = static_cast<float>(x);
  if (static_cast<double>(f) != x) return false;
  return (std::bit_cast<std::uint32_t>(f) & 0xffffu) == 0;
}

//! Checks every invariant of the summaries of `keys` (n × d) and of the bounds for `queries`.
void check_keys(const std::vector<double>& keys, std::size_t n, std::size_t d,
                const std::vector<std::vector<double>>& queries, double scale,
                const std::string& where) {
  for (int bits : {8, 4}) {
    for (std::size_t group : {std::size_t{0}, std::size_t{1}, std::size_t{3}, std::size_t{8}}) {
      const QuantizerOptions options{bits, group};
      const QuantizedKeys codes = QuantizedKeys::build(keys.data(), n, d, options);
      const std::string at =
          where + " bits " + std::to_string(bits) + " group " + std::to_string(group);
      ASSERT_EQ(codes.size(), n) << at;
      const std::size_t g_size = group == 0 ? d : std::min(group, d);
      ASSERT_EQ(codes.groups(), (d + g_size - 1) / g_size) << at;
      EXPECT_EQ(codes.bytes_per_key(),
                std::ceil(static_cast<double>(d * bits) / 8.0) + 4.0 * codes.groups())
          << at;
      for (std::size_t j = 0; j < n; ++j) {
        const std::vector<double> kq = codes.dequantized(j);
        for (std::size_t g = 0; g < codes.groups(); ++g) {
          const double r = codes.radius(j, g);
          EXPECT_TRUE(is_bf16(r)) << at;
          long double exact = 0.0L;
          for (std::size_t c = g * g_size; c < std::min(d, (g + 1) * g_size); ++c)
            exact = std::max(exact, std::abs(static_cast<long double>(keys[j * d + c]) -
                                             static_cast<long double>(kq[c])));
          EXPECT_GE(static_cast<long double>(r), exact) << at << " key " << j;
        }
        for (std::size_t c = 0; c < d; ++c)
          EXPECT_TRUE(std::isfinite(kq[c])) << at;
      }
      std::vector<double> lo(n), hi(n), exact(n), est(n);
      for (const std::vector<double>& q : queries) {
        codes.logit_bounds(q.data(), scale, n, lo.data(), hi.data());
        tvk::kernels::active_kernels().key_logits(q.data(), keys.data(), n, d, scale, exact.data());
        codes.estimates(q.data(), scale, n, est.data());
        for (std::size_t j = 0; j < n; ++j) {
          long double ref = 0.0L;
          for (std::size_t c = 0; c < d; ++c)
            ref += static_cast<long double>(q[c]) * static_cast<long double>(keys[j * d + c]);
          ref *= static_cast<long double>(scale);
          ASSERT_LE(lo[j], exact[j]) << at << " key " << j;
          ASSERT_GE(hi[j], exact[j]) << at << " key " << j;
          ASSERT_LE(static_cast<long double>(lo[j]), ref) << at << " key " << j;
          ASSERT_GE(static_cast<long double>(hi[j]), ref) << at << " key " << j;
          // The plain sequential double sum too (any summation order).
          double plain = 0.0;
          for (std::size_t c = 0; c < d; ++c)
            plain += q[c] * keys[j * d + c];
          plain *= scale;
          ASSERT_LE(lo[j], plain) << at << " key " << j;
          ASSERT_GE(hi[j], plain) << at << " key " << j;
          EXPECT_LE(lo[j], est[j] + 1e-300) << at;
        }
      }
    }
  }
}

std::vector<std::vector<double>> random_queries(std::mt19937_64& rng, std::size_t d,
                                                std::size_t count, double magnitude) {
  std::normal_distribution<double> normal(0.0, magnitude);
  std::vector<std::vector<double>> out(count, std::vector<double>(d));
  for (auto& q : out)
    for (double& x : q)
      x = normal(rng);
  return out;
}

TEST(QuantizedKeys, CodesScalesAndRadiiAreValid) {
  std::mt19937_64 rng(1);
  std::normal_distribution<double> normal;
  const std::size_t n = 40, d = 13;
  std::vector<double> keys(n * d);
  for (double& x : keys)
    x = normal(rng);
  for (int bits : {8, 4}) {
    for (std::size_t group : {std::size_t{0}, std::size_t{4}, std::size_t{5}}) {
      const QuantizedKeys codes = QuantizedKeys::build(keys.data(), n, d, {bits, group});
      const double qmax = bits == 8 ? 127.0 : 7.0;
      const std::size_t g_size = group == 0 ? d : group;
      for (std::size_t j = 0; j < n; ++j) {
        const std::vector<double> kq = codes.dequantized(j);
        for (std::size_t g = 0; g < codes.groups(); ++g) {
          // Recover Δ as the largest |k̃| over the codes' largest |m| is not possible in
          // general; check |k_c − k̃_c| <= r and that k̃ keeps the sign and the range.
          for (std::size_t c = g * g_size; c < std::min(d, (g + 1) * g_size); ++c) {
            EXPECT_LE(std::abs(keys[j * d + c] - kq[c]), codes.radius(j, g));
            EXPECT_GE(kq[c] * keys[j * d + c], 0.0);
          }
          // Radius at most half a step (bfloat16 rounding adds < 2^-7 relative) of the group's
          // scale, itself <= max|k| / qmax (1 + 2^-7).
          double amax = 0.0;
          for (std::size_t c = g * g_size; c < std::min(d, (g + 1) * g_size); ++c)
            amax = std::max(amax, std::abs(keys[j * d + c]));
          EXPECT_LE(codes.radius(j, g),
                    0.5 * amax / qmax * (1.0 + 0x1p-7) * (1.0 + 0x1p-7) + 1e-300);
        }
      }
    }
  }
}

TEST(QuantizedKeys, BoundsHoldOnRandomKeys) {
  std::mt19937_64 rng(2);
  for (std::size_t d : {1, 2, 3, 5, 8, 13, 64}) {
    std::normal_distribution<double> normal;
    const std::size_t n = 50;
    std::vector<double> keys(n * d);
    for (double& x : keys)
      x = normal(rng);
    check_keys(keys, n, d, random_queries(rng, d, 6, 1.0), 1.0 / std::sqrt(double(d)),
               "random d " + std::to_string(d));
  }
}

TEST(QuantizedKeys, BoundsHoldAtRoundingBoundaries) {
  // k_c = (m + 1/2) Δ for bfloat16 Δ: the code rounding is a tie and the radius is exactly Δ/2.
  std::mt19937_64 rng(3);
  for (std::size_t d : {1, 4, 7, 16}) {
    const std::size_t n = 64;
    std::vector<double> keys(n * d);
    std::uniform_int_distribution<int> code(-126, 126);
    for (std::size_t j = 0; j < n; ++j) {
      const double delta = std::ldexp(1.0 + (j % 7) / 8.0, static_cast<int>(j % 11) - 5);
      for (std::size_t c = 0; c < d; ++c)
        keys[j * d + c] = (code(rng) + 0.5) * delta;
      keys[j * d] = 126.5 * delta;  // a boundary at the top of the range
    }
    check_keys(keys, n, d, random_queries(rng, d, 6, 3.0), 0.125,
               "boundary d " + std::to_string(d));
  }
}

TEST(QuantizedKeys, BoundsHoldAtExtremeMagnitudes) {
  std::mt19937_64 rng(4);
  std::uniform_real_distribution<double> normal(-1.0, 1.0);  // |k| <= magnitude
  const std::size_t d = 9;
  std::vector<double> keys;
  auto add = [&](double magnitude, bool zero_some) {
    for (std::size_t c = 0; c < d; ++c) {
      double x = magnitude * normal(rng);
      if (zero_some && c % 3 == 1) x = 0.0;
      keys.push_back(x);
    }
  };
  add(1e29, false);
  add(9.9e29, true);
  add(1e-30, false);
  add(1e-30, true);
  add(1e-300, false);                  // far below bfloat16: scale at its smallest subnormal
  add(4.9e-324, false);                // double subnormals
  add(0.0, false);                     // an all-zero key
  add(1.0, true);                      // zero channels
  for (std::size_t c = 0; c < d; ++c)  // mixed magnitudes within one key
    keys.push_back(c % 2 ? 1e20 : -1e-20);
  const std::size_t n = keys.size() / d;
  check_keys(keys, n, d, random_queries(rng, d, 4, 1.0), 0.3, "extreme");
  check_keys(keys, n, d, random_queries(rng, d, 4, 1e-280), 0.3, "extreme, tiny query");
  check_keys(keys, n, d, random_queries(rng, d, 4, 1e5), 0.3, "extreme, large query");
  std::vector<std::vector<double>> zero(1, std::vector<double>(d, 0.0));
  check_keys(keys, n, d, zero, 0.3, "extreme, zero query");
}

TEST(QuantizedKeys, ZeroKeysHaveZeroCodesAndRadii) {
  const std::vector<double> keys(3 * 5, 0.0);
  const QuantizedKeys codes = QuantizedKeys::build(keys.data(), 3, 5, {4, 2});
  ASSERT_EQ(codes.groups(), 3u);
  for (std::size_t j = 0; j < 3; ++j) {
    for (double x : codes.dequantized(j))
      EXPECT_EQ(x, 0.0);
    for (std::size_t g = 0; g < 3; ++g)
      EXPECT_EQ(codes.radius(j, g), 0.0);
  }
  const std::vector<double> q = {1.0, -2.0, 3.0, 0.5, 7.0};
  std::vector<double> lo(3), hi(3);
  codes.logit_bounds(q.data(), 1.0, 3, lo.data(), hi.data());
  for (std::size_t j = 0; j < 3; ++j) {
    EXPECT_LE(lo[j], 0.0);
    EXPECT_GE(hi[j], 0.0);
    EXPECT_LT(hi[j] - lo[j], 1e-300);
  }
}

TEST(QuantizedKeys, AppendEqualsBuildAndPrefixesAgree) {
  std::mt19937_64 rng(5);
  std::normal_distribution<double> normal;
  const std::size_t n = 30, d = 10;
  std::vector<double> keys(n * d);
  for (double& x : keys)
    x = normal(rng);
  for (int bits : {8, 4}) {
    const QuantizerOptions options{bits, 4};
    const QuantizedKeys built = QuantizedKeys::build(keys.data(), n, d, options);
    QuantizedKeys appended(d, options);
    const std::vector<double> q = random_queries(rng, d, 1, 1.0)[0];
    std::vector<double> lo(n), hi(n), lo2(n), hi2(n);
    built.logit_bounds(q.data(), 0.5, n, lo.data(), hi.data());
    for (std::size_t i = 0; i < n; ++i) {
      appended.append(keys.data() + i * d);
      const QuantizedKeys prefix = QuantizedKeys::build(keys.data(), i + 1, d, options);
      ASSERT_EQ(appended.size(), i + 1);
      appended.logit_bounds(q.data(), 0.5, i + 1, lo2.data(), hi2.data());
      for (std::size_t j = 0; j <= i; ++j) {
        EXPECT_EQ(lo2[j], lo[j]);
        EXPECT_EQ(hi2[j], hi[j]);
        EXPECT_EQ(appended.dequantized(j), built.dequantized(j));
        EXPECT_EQ(prefix.dequantized(j), built.dequantized(j));
        for (std::size_t g = 0; g < built.groups(); ++g)
          EXPECT_EQ(appended.radius(j, g), built.radius(j, g));
      }
    }
    // The range overload gives the same bounds.
    built.logit_bounds(q.data(), 0.5, 7, 19, lo2.data(), hi2.data());
    for (std::size_t j = 7; j < 19; ++j) {
      EXPECT_EQ(lo2[j - 7], lo[j]);
      EXPECT_EQ(hi2[j - 7], hi[j]);
    }
  }
}

TEST(QuantizedKeys, RejectsBadInput) {
  EXPECT_THROW(QuantizedKeys(4, {6, 0}), std::invalid_argument);
  EXPECT_THROW(QuantizedKeys(0, {8, 0}), std::invalid_argument);
  const std::vector<double> bad = {1.0, 2e30};
  EXPECT_THROW(QuantizedKeys::build(bad.data(), 1, 2, {8, 0}), std::invalid_argument);
  const std::vector<double> nan = {1.0, std::nan("")};
  EXPECT_THROW(QuantizedKeys::build(nan.data(), 1, 2, {8, 0}), std::invalid_argument);
  const std::vector<double> good = {1.0, 2.0};
  const QuantizedKeys codes = QuantizedKeys::build(good.data(), 1, 2, {8, 0});
  double lo = 0.0, hi = 0.0;
  EXPECT_THROW(codes.logit_bounds(good.data(), 1.0, 2, &lo, &hi), std::invalid_argument);
  const std::vector<double> inf = {1.0, INFINITY};
  EXPECT_THROW(codes.logit_bounds(inf.data(), 1.0, 1, &lo, &hi), std::invalid_argument);
  EXPECT_EQ(tvk::quantizer_description({8, 0}), "int8, scale per key");
  EXPECT_EQ(tvk::quantizer_description({4, 8}), "int4, scale per 8 channels");
}

}  // namespace
