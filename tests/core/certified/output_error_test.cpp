//! \file Output-level error (THEORY §3): the exact error against a long double reference, the
//! O1 factorisation, and the bounds O2–O5 never below the exact error; O3 <= O2 and O2 <= O5.

#include "core/certified/output_error.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/random/normal_distribution.hpp>
#include <boost/random/uniform_real_distribution.hpp>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <vector>
#include "core/numerics/eigen.h"

#include "core/random/stream.h"
#include "tests/support/row_generators.h"

namespace {

using tvk::OutputError;
using tvk::TailProfile;
using tvk::test::NamedRow;

//! Value vectors (one row per unmasked key) drawn from Boost distributions: N(mean, 1) per
//! coordinate with a per-row random mean, sometimes a few large outliers.
Eigen::MatrixXd random_values(std::size_t n, Eigen::Index d, tvk::RandomStream& rng) {
  boost::random::normal_distribution<double> normal(0.0, 1.0);
  boost::random::uniform_real_distribution<double> unit(0.0, 1.0);
  const double offset = 3.0 * normal(rng);
  Eigen::MatrixXd values = Eigen::MatrixXd::NullaryExpr(
      static_cast<Eigen::Index>(n), d, [&](Eigen::Index, Eigen::Index) { return normal(rng); });
  values.array() += offset;
  if (unit(rng) < 0.2) values.row(static_cast<Eigen::Index>(n / 2)) *= 50.0;
  return values;
}

//! ‖Σ_i (P_i − P̂_i) v_i‖₂ from the definitions, in long double (ties by position). The
//! differences P_i − P̂_i are formed without cancellation: w_i/Z on the tail and
//! −w_i U/(Z L) on the head, U = Σ_T w summed directly; so the reference keeps its relative
//! accuracy for tiny tails too.
long double reference_error(const std::vector<double>& s, const Eigen::MatrixXd& values,
                            std::size_t k) {
  const std::size_t n = s.size();
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&s](std::size_t a, std::size_t b) { return s[a] > s[b]; });
  const long double top = s[order[0]];
  std::vector<long double> w(n);
  long double head = 0.0L, tail = 0.0L;
  for (std::size_t r = 0; r < n; ++r) {
    w[r] = std::exp(static_cast<long double>(s[order[r]]) - top);
    (r < k ? head : tail) += w[r];
  }
  const long double z = head + tail;
  long double squared = 0.0L;
  for (Eigen::Index c = 0; c < values.cols(); ++c) {
    long double diff = 0.0L;
    for (std::size_t r = 0; r < n; ++r) {
      const long double v = values(static_cast<Eigen::Index>(order[r]), c);
      diff += (r < k ? -w[r] * tail / (z * head) : w[r] / z) * v;
    }
    squared += diff * diff;
  }
  return std::sqrt(squared);
}

//! Rows whose weights all stay far above the double underflow (so the long double reference
//! and the double computation see the same distribution), n <= 120.
std::vector<NamedRow> moderate_rows() {
  std::vector<NamedRow> out;
  for (NamedRow& named : tvk::test::all_rows(500, 0x0e11, 120)) {
    const std::vector<double> s = tvk::test::unmasked(named.logits);
    if (s.size() > 120) continue;
    const auto [lo, hi] = std::minmax_element(s.begin(), s.end());
    if (*hi - *lo < 600.0) out.push_back(std::move(named));
  }
  return out;
}

TEST(OutputError, HandExample) {
  // P = (1/2, 1/4, 1/4), V = (1,0), (0,1), (0,-1); Top-1 keeps the first key.
  const TailProfile profile(std::vector<double>{std::log(2.0), 0.0, 0.0});
  Eigen::MatrixXd values(3, 2);
  values << 1.0, 0.0, 0.0, 1.0, 0.0, -1.0;
  const OutputError e = tvk::output_error(profile, values, 1);
  EXPECT_NEAR(e.tau, 0.5, 1e-15);
  EXPECT_NEAR(e.exact, 0.5, 1e-15);                      // ‖(1/2, 0) − (1, 0)‖
  EXPECT_NEAR(e.factorised, 0.5, 1e-15);                 // 1/2 ‖(0,0) − (1,0)‖
  EXPECT_NEAR(e.diameter, 0.5 * std::sqrt(2.0), 1e-15);  // diam = ‖(1,0) − (0,±1)‖
  EXPECT_NEAR(e.head_radius, 0.5 * std::sqrt(2.0), 1e-15);
  EXPECT_NEAR(e.variance, std::sqrt(0.75), 1e-15);  // Var_P(V) = 3/4, tau/(1−tau) = 1
  EXPECT_NEAR(e.generic, 1.0, 1e-15);               // 2 · 1/2 · 1
}

TEST(OutputError, FactorisedAndBoundsAgainstLongDoubleReference) {
  tvk::RandomStream rng(0x0e12);
  std::size_t factorised_checked = 0;
  for (const NamedRow& named : moderate_rows()) {
    SCOPED_TRACE(named.name);
    const std::vector<double> s = tvk::test::unmasked(named.logits);
    const TailProfile profile(named.logits);
    const std::size_t n = profile.n();
    for (Eigen::Index d : {1, 3, 16}) {
      const Eigen::MatrixXd values = random_values(n, d, rng);
      const double largest = values.rowwise().norm().maxCoeff();
      for (std::size_t k = 1; k <= n; ++k) {
        const OutputError e = tvk::output_error(profile, values, k);
        const double exact = static_cast<double>(reference_error(s, values, k));
        ASSERT_EQ(e.tau, profile.tau(k));
        // The direct difference of two means cancels: absolute accuracy ~ eps_mach max‖v‖.
        ASSERT_LE(std::abs(e.exact - exact), 1e-12 * exact + 1e-13 * largest) << "k = " << k;
        // O1 keeps its relative accuracy for any tail mass (required down to tau >= 1e-6), up to
        // the conditioning of μ_T − μ_H when the two means nearly coincide.
        ASSERT_LE(std::abs(e.factorised - exact), 1e-12 * exact + 1e-14 * e.tau * largest)
            << "k = " << k << " tau " << e.tau << ": O1 " << e.factorised << " vs " << exact;
        if (e.tau >= 1e-6) ++factorised_checked;
        const double floor = exact * (1.0 - 1e-12);
        ASSERT_GE(e.diameter, floor) << "O2 k = " << k;
        ASSERT_GE(e.head_radius, floor) << "O3 k = " << k;
        ASSERT_GE(e.variance, floor) << "O4 k = " << k;
        ASSERT_GE(e.generic, floor) << "O5 k = " << k;
        // μ_H lies in the convex hull of the head: O3 <= O2. And diam <= 2 max‖v‖: O2 <= O5.
        ASSERT_LE(e.head_radius, e.diameter * (1.0 + 1e-12)) << "k = " << k;
        ASSERT_LE(e.diameter, e.generic * (1.0 + 1e-12)) << "k = " << k;
      }
      // k = n drops nothing.
      const OutputError all = tvk::output_error(profile, values, n);
      EXPECT_EQ(all.tau, 0.0);
      EXPECT_LE(all.exact, 1e-14 * largest);
      EXPECT_EQ(all.factorised, 0.0);
      EXPECT_EQ(all.diameter, 0.0);
      EXPECT_EQ(all.head_radius, 0.0);
      EXPECT_EQ(all.variance, 0.0);
      EXPECT_EQ(all.generic, 0.0);
    }
  }
  EXPECT_GT(factorised_checked, 10000u);
}

TEST(OutputError, WideValueDimension) {
  tvk::RandomStream rng(0x0e13);
  for (const NamedRow& named : tvk::test::random_rows(30, 0x0e14, 60)) {
    const std::vector<double> s = tvk::test::unmasked(named.logits);
    const auto [lo, hi] = std::minmax_element(s.begin(), s.end());
    if (*hi - *lo > 600.0) continue;
    SCOPED_TRACE(named.name);
    const TailProfile profile(named.logits);
    const Eigen::MatrixXd values = random_values(profile.n(), 64, rng);
    const double largest = values.rowwise().norm().maxCoeff();
    for (std::size_t k = 1; k <= profile.n(); ++k) {
      const OutputError e = tvk::output_error(profile, values, k);
      const double exact = static_cast<double>(reference_error(s, values, k));
      ASSERT_LE(std::abs(e.factorised - exact), 1e-12 * exact + 1e-14 * e.tau * largest)
          << "k = " << k;
      ASSERT_GE(e.variance, exact * (1.0 - 1e-12));
      ASSERT_LE(e.head_radius, e.diameter * (1.0 + 1e-12));
    }
  }
}

TEST(OutputError, MaskedKeysAreRemoved) {
  // values has one row per unmasked key, in row order: the masked row gives exactly what the
  // row without its masked keys gives.
  tvk::RandomStream rng(0x0e15);
  std::size_t rows_with_masks = 0;
  for (const NamedRow& named : tvk::test::all_rows(300, 0x0e16, 80)) {
    const std::vector<double> s = tvk::test::unmasked(named.logits);
    if (s.size() == named.logits.size()) continue;
    ++rows_with_masks;
    SCOPED_TRACE(named.name);
    const TailProfile masked(named.logits), plain(s);
    const Eigen::MatrixXd values = random_values(s.size(), 4, rng);
    for (std::size_t k = 1; k <= s.size(); ++k) {
      const OutputError a = tvk::output_error(masked, values, k);
      const OutputError b = tvk::output_error(plain, values, k);
      ASSERT_EQ(a.exact, b.exact);
      ASSERT_EQ(a.factorised, b.factorised);
      ASSERT_EQ(a.diameter, b.diameter);
      ASSERT_EQ(a.head_radius, b.head_radius);
      ASSERT_EQ(a.variance, b.variance);
      ASSERT_EQ(a.generic, b.generic);
    }
  }
  EXPECT_GT(rows_with_masks, 20u);
  // Masked keys never reach the values: a hand example with the heavy key masked.
  const std::vector<double> row = {0.0, tvk::test::kMask, std::log(3.0)};
  Eigen::MatrixXd values(2, 1);
  values << 1.0, 5.0;  // P = (1/4, 3/4) on the two unmasked keys
  const OutputError e = tvk::output_error(TailProfile(row), values, 1);
  EXPECT_NEAR(e.tau, 0.25, 1e-15);
  EXPECT_NEAR(e.exact, std::abs(0.25 * 1.0 + 0.75 * 5.0 - 5.0), 1e-14);
}

TEST(OutputError, RejectsBadArguments) {
  const TailProfile profile(std::vector<double>{0.0, 1.0, 2.0});
  EXPECT_THROW(tvk::output_error(profile, Eigen::MatrixXd::Zero(2, 3), 1), std::invalid_argument);
  EXPECT_THROW(tvk::output_error(profile, Eigen::MatrixXd::Zero(4, 3), 1), std::invalid_argument);
  EXPECT_THROW(tvk::output_error(profile, Eigen::MatrixXd::Zero(3, 3), 0), std::invalid_argument);
  EXPECT_THROW(tvk::output_error(profile, Eigen::MatrixXd::Zero(3, 3), 4), std::invalid_argument);
  EXPECT_NO_THROW(tvk::output_error(profile, Eigen::MatrixXd::Zero(3, 3), 3));
}

}  // namespace
