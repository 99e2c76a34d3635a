//! \file Random streams and the vectorised normal generator: known answers computed by an
//! independent implementation (SplitMix64 and xoshiro256++ from their papers' definitions, in
//! Python), the normal generator against a scalar reference of its documented layout, pinned
//! values, and its distribution over 4 million draws.

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/math/distributions/normal.hpp>
#include <boost/random/normal_distribution.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "core/random/elementary.h"
#include "core/random/normal_block.h"
#include "core/random/stream.h"

namespace tvk {
namespace {

TEST(SplitMix64, KnownAnswers) {
  std::uint64_t state = 0;
  EXPECT_EQ(splitmix64(state), 0xe220a8397b1dcdafULL);
  EXPECT_EQ(splitmix64(state), 0x6e789e6aa1b965f4ULL);
  EXPECT_EQ(splitmix64(state), 0x06c45d188009454fULL);
}

TEST(Xoshiro256pp, KnownAnswers) {
  Xoshiro256pp zero(0);
  EXPECT_EQ(zero(), 0x53175d61490b23dfULL);
  EXPECT_EQ(zero(), 0x61da6f3dc380d507ULL);
  EXPECT_EQ(zero(), 0x5c0fdf91ec9a7bfcULL);
  EXPECT_EQ(zero(), 0x02eebf8c3bbe5e1aULL);
  Xoshiro256pp seeded(2025);
  EXPECT_EQ(seeded(), 0xcb2b830825937149ULL);
  EXPECT_EQ(seeded(), 0xbf965a06eb73a2daULL);
  EXPECT_EQ(seeded(), 0xc55e708071ae8fa7ULL);
  EXPECT_EQ(seeded(), 0xf2a7ca4e46f2a9f3ULL);
}

TEST(Elementary, LogWithinOneUlp) {
  RandomStream rng(11);
  std::vector<double> inputs = {
      1.0,    0.5, 0x1p-52, std::nextafter(1.0, 0.0),          0.70710678118654752,
      1e-300, 2.0, 1e300,   std::numeric_limits<double>::min()};
  for (int i = 0; i < 200000; ++i) {
    // (0, 1] with 52 bits, as the generator draws it, and positive doubles of any exponent.
    inputs.push_back(2.0 - std::bit_cast<double>((rng() >> 12) | elementary::kOneBits));
    inputs.push_back(std::bit_cast<double>((rng() >> 2) | 0x0010000000000000ULL));
  }
  for (double x : inputs) {
    const long double exact = std::log(static_cast<long double>(x));
    const double got = elementary::log_positive_normal(x);
    const double ulp = std::nextafter(std::abs(static_cast<double>(exact)), HUGE_VAL) -
                       std::abs(static_cast<double>(exact));
    ASSERT_LE(std::abs(static_cast<long double>(got) - exact), static_cast<long double>(ulp))
        << std::hexfloat << "x = " << x;
  }
}

// The documented layout, computed one draw at a time: lane j is xoshiro256++ seeded with the
// j-th draw of the row stream, the scalar stream with the fifth; draw p takes the next word of
// lane p mod 4, and is u·X[i] where that passes the rectangle test.
std::vector<double> reference_normals(RandomStream stream, std::size_t n) {
  const double* x_table = boost::random::detail::normal_table<double>::table_x;
  std::vector<Xoshiro256pp> lanes;
  for (int j = 0; j < 4; ++j)
    lanes.emplace_back(stream());
  Xoshiro256pp extra(stream());
  std::vector<double> out(n);
  for (std::size_t p = 0; p < n; ++p) {
    const std::uint64_t word = lanes[p % 4]();
    const std::uint64_t layer = (word >> 1) & 127u;
    const double u = static_cast<double>(word >> 12) * 0x1p-52;
    const double x = u * x_table[layer];
    out[p] = x < x_table[layer + 1] ? ((word & 1u) != 0 ? -x : x)
                                    : standard_normal_from_word(word, extra);
  }
  return out;
}

TEST(StandardNormals, MatchTheScalarReferenceAndArePrefixes) {
  const RandomStream stream(0x5eed);
  std::vector<double> longest;
  for (std::size_t n : {0u, 1u, 3u, 4u, 5u, 511u, 512u, 513u, 1029u, 4096u, 5000u}) {
    RandomStream s = stream;
    std::vector<double> got(n);
    fill_standard_normals(s, got);
    ASSERT_EQ(got, reference_normals(stream, n)) << "n = " << n;
    longest = got;
  }
  // A shorter row is a prefix of a longer one drawn from the same stream.
  RandomStream s = stream;
  std::vector<double> prefix(777);
  fill_standard_normals(s, prefix);
  EXPECT_TRUE(std::equal(prefix.begin(), prefix.end(), longest.begin()));
}

TEST(StandardNormals, AdvanceTheRowStreamByFive) {
  RandomStream a(42), b(42);
  std::vector<double> row(1000);
  fill_standard_normals(a, row);
  for (int i = 0; i < 5; ++i)
    b();
  EXPECT_EQ(a(), b());
}

TEST(StandardNormals, PinnedValues) {
  // Any change of these bits changes every gaussian sweep: update only on purpose, together
  // with tests/regression (update.sh --update).
  RandomStream stream(2025);
  std::vector<double> row(4096);
  fill_standard_normals(stream, row);
  EXPECT_EQ(row[0], -0x1.694e2ed661a06p-3);
  EXPECT_EQ(row[1], 0x1.2e36241823e53p-1);
  EXPECT_EQ(row[2], 0x1.f5b6fcb49ccb3p-1);
  EXPECT_EQ(row[4095], 0x1.4b9db1764cf97p-1);
  EXPECT_EQ(*std::max_element(row.begin(), row.end()), 0x1.e7cb0e4626244p+1);  // 3.81: the tail
}

TEST(StandardNormals, WedgeBoundsDecideAsTheExpTest) {
  const double* x_table = boost::random::detail::normal_table<double>::table_x;
  const double* y_table = boost::random::detail::normal_table<double>::table_y;
  RandomStream rng(99);
  std::size_t accepted = 0, trials = 0;
  for (std::uint64_t layer = 1; layer < 128; ++layer) {
    for (int k = 0; k < 20000; ++k, ++trials) {
      const double x = x_table[layer + 1] + rng.uniform01() * (x_table[layer] - x_table[layer + 1]);
      const double y01 = rng.uniform01();
      const double y = y_table[layer] + y01 * (y_table[layer + 1] - y_table[layer]);
      const bool expected = y < std::exp(-0.5 * x * x);
      ASSERT_EQ(ziggurat_wedge_accepts(layer, x, y01), expected)
          << "layer " << layer << ", x = " << x << ", y01 = " << y01;
      accepted += expected;
    }
  }
  // Both outcomes occur (the wedges are neither all in nor all out).
  EXPECT_GT(accepted, trials / 10);
  EXPECT_LT(accepted, trials * 9 / 10);
}

TEST(StandardNormals, AreStandardNormal) {
  constexpr std::size_t kRows = 1024, kN = 4096;  // 4,194,304 draws
  std::vector<double> all;
  all.reserve(kRows * kN);
  std::vector<double> row(kN);
  for (std::size_t r = 0; r < kRows; ++r) {
    RandomStream stream = make_stream(7, 0, r, StreamPurpose::kLogits);
    fill_standard_normals(stream, row);
    all.insert(all.end(), row.begin(), row.end());
  }
  const double count = static_cast<double>(all.size());
  double m1 = 0, m2 = 0, m3 = 0, m4 = 0;
  std::size_t beyond_tail_start = 0, beyond_four = 0, negative = 0;
  const double tail_start = boost::random::detail::normal_table<double>::table_x[1];
  for (double z : all) {
    m1 += z;
    m2 += z * z;
    m3 += z * z * z;
    m4 += z * z * z * z;
    beyond_tail_start += std::abs(z) > tail_start;
    beyond_four += std::abs(z) > 4.0;
    negative += z < 0;
  }
  m1 /= count;
  m2 /= count;
  m3 /= count;
  m4 /= count;
  const double se = 1.0 / std::sqrt(count);
  EXPECT_NEAR(m1, 0.0, 5 * se);
  EXPECT_NEAR(m2, 1.0, 5 * std::sqrt(2.0) * se);
  EXPECT_NEAR(m3, 0.0, 5 * std::sqrt(15.0) * se);
  EXPECT_NEAR(m4, 3.0, 5 * std::sqrt(96.0) * se);
  EXPECT_NEAR(static_cast<double>(negative) / count, 0.5, 5 * 0.5 * se);
  // Tail frequencies exercise the scalar tail path (|z| > 3.44: p = 5.76e-4).
  const boost::math::normal standard;
  for (auto [observed, z] : {std::pair{beyond_tail_start, tail_start}, {beyond_four, 4.0}}) {
    const double p = 2 * boost::math::cdf(boost::math::complement(standard, z));
    EXPECT_NEAR(static_cast<double>(observed), p * count, 5 * std::sqrt(p * count)) << z;
  }
  // Kolmogorov–Smirnov against Phi: D * sqrt(N) < 1.95 at the 0.1% level.
  std::sort(all.begin(), all.end());
  double d = 0;
  for (std::size_t i = 0; i < all.size(); ++i) {
    const double f = boost::math::cdf(standard, all[i]);
    d = std::max({d, f - static_cast<double>(i) / count, static_cast<double>(i + 1) / count - f});
  }
  EXPECT_LT(d * std::sqrt(count), 1.95);
}

}  // namespace
}  // namespace tvk
