//! \file Distribution-level identities (THEORY §1): I1 TV = tau_k, I2 KL(P̂‖P) = −ln(1 − tau_k)
//! and TV = 1 − exp(−KL), I3 KL(P‖P̂) = +inf iff tau_k > 0, and the generic Pinsker and
//! Bretagnolle–Huber inequalities, over random and adversarial rows and every k.

#include "core/rows/divergence.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include "core/random/stream.h"
#include "tests/support/row_generators.h"

namespace {

using tvk::TailProfile;
using tvk::test::NamedRow;

//! Rows for the identity checks: every adversarial row and 2000 random ones (n <= 200).
const std::vector<NamedRow>& rows() {
  static const std::vector<NamedRow> all = tvk::test::all_rows(2000, 0xd1f, 200);
  return all;
}

//! Rounding allowance of a sum computed term by term from the definition: the head terms
//! |P̂_i − P_i| = |w_i/L − w_i/Z| cancel, and Z (summed from the bottom) and L (from the top)
//! round differently, so the direct computations have an absolute error of order n eps_mach.
double summation_allowance(std::size_t n) {
  return std::max(1e-15, 2.0 * static_cast<double>(n) * std::numeric_limits<double>::epsilon());
}

TEST(Divergence, I1HalfL1EqualsTau) {
  std::size_t checked = 0;
  double worst_relative = 0.0;
  for (const NamedRow& named : rows()) {
    SCOPED_TRACE(named.name);
    const TailProfile profile(named.logits);
    const double allowance = summation_allowance(profile.n());
    for (std::size_t k = 1; k <= profile.n(); ++k) {
      const double tau = profile.tau(k);
      const double tv = tvk::tv_half_l1_direct(profile, k);
      ASSERT_LE(std::abs(tv - tau), std::max(1e-12 * tau, allowance))
          << "k = " << k << ": TV " << tv << " vs tau " << tau;
      if (tau > 1e-3) worst_relative = std::max(worst_relative, std::abs(tv - tau) / tau);
      ++checked;
    }
    EXPECT_LE(tvk::tv_half_l1_direct(profile, profile.n()), allowance);
  }
  EXPECT_GT(checked, 50000u);
  EXPECT_LE(worst_relative, 1e-11);  // away from tiny tails the identity holds to ~1e-12
}

TEST(Divergence, I1HandExample) {
  // P = (1/2, 1/4, 1/4); Top-1 keeps the first key: P̂ = (1, 0, 0), TV = 1/2 = tau_1.
  const TailProfile profile(std::vector<double>{0.0, std::log(2.0), 0.0});
  EXPECT_NEAR(profile.tau(1), 0.5, 1e-15);
  EXPECT_NEAR(tvk::tv_half_l1_direct(profile, 1), 0.5, 1e-15);
  EXPECT_NEAR(tvk::tv_half_l1_direct(profile, 2), 0.25, 1e-15);
  EXPECT_NEAR(tvk::kl_truncated_to_full_direct(profile, 1), std::log(2.0), 1e-15);
  EXPECT_NEAR(tvk::kl_truncated_to_full_direct(profile, 2), std::log(4.0 / 3.0), 1e-15);
}

TEST(Divergence, I1AnyKeptSetAndTopkOptimal) {
  // TV(P, P_S) = P(S^c) for any kept set S (computed here from the definition in long double),
  // and no set of size k does better than the Top-k head.
  tvk::RandomStream rng(0x5e7);
  for (const NamedRow& named : tvk::test::all_rows(300, 0x1ce, 24)) {
    SCOPED_TRACE(named.name);
    const std::vector<double> s = tvk::test::unmasked(named.logits);
    const TailProfile profile(named.logits);
    const std::size_t n = s.size();
    const long double top = *std::max_element(s.begin(), s.end());
    std::vector<long double> p(n);
    long double z = 0.0L;
    for (std::size_t i = 0; i < n; ++i)
      z += p[i] = std::exp(static_cast<long double>(s[i]) - top);
    for (auto& x : p)
      x /= z;
    for (int trial = 0; trial < 20; ++trial) {
      std::vector<bool> kept(n);
      std::size_t size = 0;
      for (std::size_t i = 0; i < n; ++i) {
        const bool keep = (rng() >> 63) != 0;
        kept[i] = keep;
        size += keep ? 1 : 0;
      }
      if (size == 0) continue;
      long double mass = 0.0L, dropped = 0.0L;
      for (std::size_t i = 0; i < n; ++i)
        (kept[i] ? mass : dropped) += p[i];
      long double tv = 0.0L;
      for (std::size_t i = 0; i < n; ++i)
        tv += std::abs(p[i] - (kept[i] ? p[i] / mass : 0.0L));
      tv /= 2.0L;
      ASSERT_LE(std::abs(tv - dropped), 1e-15L * std::max(1.0L, dropped * 1e3L));
      ASSERT_GE(static_cast<double>(dropped), profile.tau(size) * (1.0 - 1e-12) - 1e-300)
          << "a kept set of size " << size << " beats Top-k";
    }
  }
}

TEST(Divergence, I2KlIdentityAndTvFromKl) {
  for (const NamedRow& named : rows()) {
    SCOPED_TRACE(named.name);
    const TailProfile profile(named.logits);
    for (std::size_t k = 1; k <= profile.n(); ++k) {
      const double tau = profile.tau(k);
      const double kl = tvk::kl_truncated_to_full(tau);
      // tvk's own log1p (the same bits on every machine) is within an ulp of libm's.
      const double libm = -std::log1p(-tau);
      ASSERT_LE(std::abs(kl - libm), 2.0 * (std::nextafter(libm, HUGE_VAL) - libm));
      ASSERT_GE(kl, tau);  // −ln(1 − t) >= t
      const double direct = tvk::kl_truncated_to_full_direct(profile, k);
      ASSERT_LE(std::abs(direct - kl), 1e-12 * kl + summation_allowance(profile.n()))
          << "k = " << k << ": direct " << direct << " vs " << kl;
      const double tv = tvk::tv_from_kl(kl);
      ASSERT_LE(std::abs(tv - tau), 1e-14 * tau) << "k = " << k;
    }
  }
}

TEST(Divergence, I2TinyTailKeepsRelativeAccuracy) {
  const TailProfile profile(std::vector<double>{0.0, -690.0, -690.0});
  const double tau = profile.tau(1);
  ASSERT_GT(tau, 0.0);
  EXPECT_NEAR(tvk::kl_truncated_to_full(tau) / tau, 1.0, 1e-15);
  EXPECT_NEAR(tvk::tv_from_kl(tvk::kl_truncated_to_full(tau)) / tau, 1.0, 1e-15);
  EXPECT_EQ(tvk::kl_truncated_to_full(0.0), 0.0);
  EXPECT_EQ(tvk::tv_from_kl(0.0), 0.0);
}

TEST(Divergence, I3ReverseKlInfiniteIffTailHasMass) {
  std::size_t infinite = 0, finite = 0;
  for (const NamedRow& named : rows()) {
    SCOPED_TRACE(named.name);
    const TailProfile profile(named.logits);
    for (std::size_t k = 1; k <= profile.n(); ++k) {
      const double kl = tvk::kl_full_to_truncated_direct(profile, k);
      if (profile.tau(k) > 0.0) {
        ASSERT_TRUE(std::isinf(kl) && kl > 0.0) << "k = " << k << " tau " << profile.tau(k);
        ++infinite;
      } else {
        // Nothing is dropped: P̂ = P up to rounding of the head sum.
        ASSERT_TRUE(std::isfinite(kl)) << "k = " << k;
        ASSERT_LE(std::abs(kl), 1e-14) << "k = " << k;
        ++finite;
      }
    }
  }
  EXPECT_GT(infinite, 0u);
  EXPECT_GT(finite, 0u);
}

TEST(Divergence, PinskerAndBretagnolleHuberAreNotSharper) {
  for (const NamedRow& named : rows()) {
    SCOPED_TRACE(named.name);
    const TailProfile profile(named.logits);
    for (std::size_t k = 1; k <= profile.n(); ++k) {
      const double tau = profile.tau(k);
      const double kl = tvk::kl_truncated_to_full(tau);
      const double pinsker = tvk::pinsker_bound(kl);
      const double bh = tvk::bretagnolle_huber_bound(kl);
      // (kl/2 underflows for a subnormal tau: allow 1e-300.)
      ASSERT_GE(pinsker, tau * (1.0 - 1e-15) - 1e-300) << "k = " << k;
      ASSERT_GE(bh, tau * (1.0 - 1e-15)) << "k = " << k;
      // BH with the exact KL is sqrt(tau): the identity TV = tau is never worse.
      ASSERT_NEAR(bh, std::sqrt(tau), 1e-14 * std::sqrt(tau) + 1e-300);
      ASSERT_NEAR(pinsker, std::sqrt(kl / 2.0), 0.0);
    }
  }
}

}  // namespace
