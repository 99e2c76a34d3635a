//! \file TailProfile (THEORY §0–§1): ordering with ties by position, masked keys, input errors,
//! tau_k at its ends and its relative accuracy for tiny tails, and k_eps against brute force.

#include "core/rows/tail_profile.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/random/stream.h"
#include "core/rows/descending_order.h"
#include "tests/support/row_generators.h"

namespace {

using tvk::TailProfile;
using tvk::test::kMask;
using tvk::test::NamedRow;

//! tau_k for k = 0..n in long double, from the definition: sort (ties by position), weights
//! e^{s - max}, tail sums from the bottom.
std::vector<long double> reference_tau(const std::vector<double>& row) {
  const std::vector<double> s = tvk::test::unmasked(row);
  std::vector<std::size_t> order(s.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&s](std::size_t a, std::size_t b) { return s[a] > s[b]; });
  const long double top = s[order[0]];
  std::vector<long double> tail(s.size() + 1, 0.0L);
  for (std::size_t r = s.size(); r-- > 0;)
    tail[r] = tail[r + 1] + std::exp(static_cast<long double>(s[order[r]]) - top);
  std::vector<long double> tau(s.size() + 1);
  for (std::size_t k = 0; k <= s.size(); ++k)
    tau[k] = tail[k] / tail[0];
  return tau;
}

std::size_t brute_force_k_eps(const TailProfile& profile, double eps) {
  for (std::size_t k = 1; k <= profile.n(); ++k) {
    if (profile.tau(k) <= eps) return k;
  }
  return 0;  // never: tau_n = 0
}

TEST(TailProfile, SortsDescendingWithTiesByPosition) {
  const std::vector<double> row = {1.0, 3.0, 2.0, 3.0, 1.0, 2.0};
  const TailProfile profile(row);
  ASSERT_EQ(profile.n(), 6u);
  const std::vector<double> sorted(profile.sorted_logits().begin(), profile.sorted_logits().end());
  EXPECT_EQ(sorted, (std::vector<double>{3.0, 3.0, 2.0, 2.0, 1.0, 1.0}));
  const std::vector<std::uint32_t> positions(profile.positions().begin(),
                                             profile.positions().end());
  EXPECT_EQ(positions, (std::vector<std::uint32_t>{1, 3, 2, 5, 0, 4}));
  EXPECT_EQ(profile.logit(1), 3.0);
  EXPECT_EQ(profile.logit(6), 1.0);
  EXPECT_EQ(profile.weights()[0], 1.0);
  EXPECT_EQ(profile.weights()[1], 1.0);
  EXPECT_DOUBLE_EQ(profile.weights()[2], std::exp(-1.0));
}

TEST(TailProfile, AllEqualKeepsRowOrder) {
  const TailProfile profile(std::vector<double>(37, -2.5));
  for (std::size_t r = 0; r < profile.n(); ++r) {
    EXPECT_EQ(profile.positions()[r], r);
    EXPECT_EQ(profile.weights()[r], 1.0);
  }
  for (std::size_t k = 0; k <= 37; ++k)
    EXPECT_DOUBLE_EQ(profile.tau(k), static_cast<double>(37 - k) / 37.0);
}

TEST(TailProfile, OrderingOnRandomAndAdversarialRows) {
  for (const NamedRow& named : tvk::test::all_rows(1500, 0x7a11)) {
    SCOPED_TRACE(named.name);
    const std::vector<double> s = tvk::test::unmasked(named.logits);
    const TailProfile profile(named.logits);
    ASSERT_EQ(profile.n(), s.size());
    std::vector<bool> seen(s.size(), false);
    for (std::size_t r = 0; r < profile.n(); ++r) {
      const std::uint32_t p = profile.positions()[r];
      ASSERT_LT(p, s.size());
      ASSERT_FALSE(seen[p]) << "position " << p << " appears twice";
      seen[p] = true;
      ASSERT_EQ(profile.sorted_logits()[r], s[p]);
      ASSERT_EQ(profile.logit(r + 1), s[p]);
      if (r > 0) {
        const double previous = profile.sorted_logits()[r - 1];
        ASSERT_GE(previous, s[p]);
        if (previous == s[p]) {
          ASSERT_LT(profile.positions()[r - 1], p) << "tie not by position";
        }
        ASSERT_LE(profile.weights()[r], profile.weights()[r - 1]);
      }
    }
    ASSERT_EQ(profile.weights()[0], 1.0);
  }
}

TEST(TailProfile, MaskedKeysAreRemoved) {
  const std::vector<double> masked = {kMask, 1.0, kMask, 0.0, 1.0, kMask};
  const TailProfile profile(masked);
  ASSERT_EQ(profile.n(), 3u);
  // Positions count unmasked keys only, in row order.
  const std::vector<std::uint32_t> positions(profile.positions().begin(),
                                             profile.positions().end());
  EXPECT_EQ(positions, (std::vector<std::uint32_t>{0, 2, 1}));
  const TailProfile plain(std::vector<double>{1.0, 0.0, 1.0});
  for (std::size_t k = 0; k <= 3; ++k) {
    EXPECT_EQ(profile.tau(k), plain.tau(k));
    EXPECT_EQ(profile.head_weight(k), plain.head_weight(k));
  }
  // On every generated row with masks, the profile equals the one of the unmasked row.
  for (const NamedRow& named : tvk::test::all_rows(400, 0x3a5c)) {
    const std::vector<double> s = tvk::test::unmasked(named.logits);
    if (s.size() == named.logits.size()) continue;
    SCOPED_TRACE(named.name);
    const TailProfile with_masks(named.logits), without(s);
    ASSERT_EQ(with_masks.n(), without.n());
    for (std::size_t k = 0; k <= without.n(); ++k)
      ASSERT_EQ(with_masks.tau(k), without.tau(k));
  }
}

TEST(TailProfile, NanAndPlusInfThrow) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  try {
    TailProfile profile(std::vector<double>{0.0, 1.0, nan});
    FAIL() << "NaN accepted";
  } catch (const std::domain_error& error) {
    EXPECT_NE(std::string(error.what()).find("3"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("NaN"), std::string::npos) << error.what();
  }
  try {
    TailProfile profile(std::vector<double>{inf, 1.0});
    FAIL() << "+inf accepted";
  } catch (const std::domain_error& error) {
    EXPECT_NE(std::string(error.what()).find("1"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("+inf"), std::string::npos) << error.what();
  }
  EXPECT_THROW(TailProfile(std::vector<double>{}), std::domain_error);
  EXPECT_THROW(TailProfile(std::vector<double>{kMask, kMask}), std::domain_error);
  EXPECT_THROW(TailProfile(std::vector<double>{kMask, nan, 0.0}), std::domain_error);
}

TEST(TailProfile, TauEndsAndMonotone) {
  for (const NamedRow& named : tvk::test::all_rows(2000, 0xe7d5)) {
    SCOPED_TRACE(named.name);
    const TailProfile profile(named.logits);
    const std::size_t n = profile.n();
    ASSERT_EQ(profile.tau(0), 1.0);
    ASSERT_EQ(profile.tau(n), 0.0);
    ASSERT_EQ(profile.tail_weight(n), 0.0);
    ASSERT_EQ(profile.head_weight(0), 0.0);
    ASSERT_EQ(profile.total(), profile.tail_weight(0));
    ASSERT_GE(profile.total(), 1.0);
    ASSERT_LE(profile.total(), static_cast<double>(n) * (1.0 + 1e-15));
    double probability_sum = 0.0;
    for (std::size_t k = 1; k <= n; ++k) {
      ASSERT_LE(profile.tau(k), profile.tau(k - 1)) << "k = " << k;
      ASSERT_GE(profile.tau(k), 0.0);
      // tau_k <= 1 - P_(1) < 1 for k >= 1.
      ASSERT_LT(profile.tau(k), 1.0);
      ASSERT_NEAR(profile.head_weight(k) + profile.tail_weight(k), profile.total(),
                  1e-13 * profile.total());
      probability_sum += profile.probability(k - 1);
    }
    ASSERT_NEAR(probability_sum, 1.0, 1e-13);
  }
}

TEST(TailProfile, TinyTailAnalytic) {
  // {0, -690, -690}: tau_1 = 2e^-690 / (1 + 2e^-690), about 6e-300.
  const TailProfile profile(std::vector<double>{-690.0, 0.0, -690.0});
  const long double e = std::exp(-690.0L);
  const long double tau1 = 2.0L * e / (1.0L + 2.0L * e);
  const long double tau2 = e / (1.0L + 2.0L * e);
  EXPECT_GT(profile.tau(1), 0.0);
  EXPECT_NEAR(profile.tau(1) / static_cast<double>(tau1), 1.0, 1e-14);
  EXPECT_NEAR(profile.tau(2) / static_cast<double>(tau2), 1.0, 1e-14);
  EXPECT_EQ(profile.tau(3), 0.0);

  // One head key and 100 tail keys at -690: tau_k = (101 - k) e^-690 / (1 + 100 e^-690).
  std::vector<double> row(101, -690.0);
  row[57] = 0.0;
  const TailProfile wide(row);
  EXPECT_EQ(wide.positions()[0], 57u);
  for (std::size_t k = 1; k <= 100; ++k) {
    const long double expected = static_cast<long double>(101 - k) * e / (1.0L + 100.0L * e);
    ASSERT_NEAR(wide.tau(k) / static_cast<double>(expected), 1.0, 1e-14) << "k = " << k;
  }

  // A geometric row s_i = -i c: tau_k = e^{-kc} (1 - e^{-(n-k)c}) / (1 - e^{-nc}).
  const double c = 37.0;
  std::vector<double> geometric(19);
  for (std::size_t i = 0; i < geometric.size(); ++i)
    geometric[i] = -c * static_cast<double>(i);
  const TailProfile steep(geometric);
  const long double q = std::exp(-static_cast<long double>(c));
  for (std::size_t k = 1; k < 19; ++k) {
    const long double expected = std::pow(q, static_cast<long double>(k)) *
                                 (1.0L - std::pow(q, static_cast<long double>(19 - k))) /
                                 (1.0L - std::pow(q, 19.0L));
    ASSERT_NEAR(steep.tau(k) / static_cast<double>(expected), 1.0, 1e-13) << "k = " << k;
  }
}

TEST(TailProfile, TauRelativeAccuracyAgainstLongDouble) {
  // Weights below the smallest normal double lose relative accuracy (they are not representable);
  // their absolute error is below 1e-300 in tau.
  for (const NamedRow& named : tvk::test::all_rows(2000, 0x51de)) {
    SCOPED_TRACE(named.name);
    const TailProfile profile(named.logits);
    const std::vector<long double> expected = reference_tau(named.logits);
    for (std::size_t k = 0; k <= profile.n(); ++k) {
      const double want = static_cast<double>(expected[k]);
      ASSERT_LE(std::abs(profile.tau(k) - want), 1e-12 * want + 1e-300)
          << "k = " << k << ": " << profile.tau(k) << " vs " << want;
    }
  }
}

TEST(TailProfile, ShiftInvariant) {
  for (const NamedRow& named : tvk::test::random_rows(300, 0x5417, 200)) {
    SCOPED_TRACE(named.name);
    std::vector<double> shifted = named.logits;
    for (auto& s : shifted)
      s += 123.0;  // -inf stays -inf
    const TailProfile profile(named.logits), moved(shifted);
    for (std::size_t k = 0; k <= profile.n(); ++k) {
      ASSERT_LE(std::abs(profile.tau(k) - moved.tau(k)), 1e-11 * profile.tau(k) + 1e-300);
    }
  }
}

TEST(TailProfile, ReuseAcrossRowsOfDifferentLengths) {
  TailProfile reused;
  for (const NamedRow& named : tvk::test::all_rows(200, 0x4e05)) {
    SCOPED_TRACE(named.name);
    reused.assign(named.logits);
    const TailProfile fresh(named.logits);
    ASSERT_EQ(reused.n(), fresh.n());
    for (std::size_t k = 0; k <= fresh.n(); ++k) {
      ASSERT_EQ(reused.tau(k), fresh.tau(k));
      ASSERT_EQ(reused.head_weight(k), fresh.head_weight(k));
    }
    for (std::size_t r = 0; r < fresh.n(); ++r)
      ASSERT_EQ(reused.positions()[r], fresh.positions()[r]);
  }
}

TEST(TailProfile, KEpsMatchesBruteForce) {
  const std::vector<double> eps = {1e-300, 1e-12, 1e-6, 1e-3, 0.01, 0.05,
                                   0.1,    0.25,  0.5,  0.75, 0.9,  0.999999};
  for (const NamedRow& named : tvk::test::all_rows(3000, 0x6e95)) {
    SCOPED_TRACE(named.name);
    const TailProfile profile(named.logits);
    const std::vector<std::size_t> batch = tvk::k_eps(profile, eps);
    ASSERT_EQ(batch.size(), eps.size());
    std::size_t previous = profile.n();
    for (std::size_t i = 0; i < eps.size(); ++i) {
      const std::size_t expected = brute_force_k_eps(profile, eps[i]);
      ASSERT_EQ(profile.k_eps(eps[i]), expected) << "eps = " << eps[i];
      ASSERT_EQ(batch[i], expected) << "eps = " << eps[i];
      ASSERT_GE(expected, 1u);
      ASSERT_LE(profile.tau(expected), eps[i]);
      if (expected > 1) {
        ASSERT_GT(profile.tau(expected - 1), eps[i]);
      }
      ASSERT_LE(expected, previous) << "k_eps must not grow with eps";
      previous = expected;
    }
  }
}

TEST(TailProfile, KEpsKnownValues) {
  // n = 20 equal logits: tau_k = (20 - k)/20 exactly, so the budget is hit exactly at k_eps.
  const TailProfile equal(std::vector<double>(20, 0.0));
  EXPECT_EQ(equal.k_eps(0.05), 19u);
  EXPECT_EQ(equal.k_eps(0.0499), 20u);
  EXPECT_EQ(equal.k_eps(0.1), 18u);
  EXPECT_EQ(equal.k_eps(0.5), 10u);
  EXPECT_EQ(equal.k_eps(0.96), 1u);
  EXPECT_EQ(equal.k_eps(0.94), 2u);
  // n = 1: k_eps = 1 whatever eps.
  const TailProfile single(std::vector<double>{4.0});
  EXPECT_EQ(single.k_eps(1e-9), 1u);
  EXPECT_EQ(single.k_eps(0.5), 1u);
  // A row with a tiny tail: k = 1 is certified for every eps above 2e^-690 / (1 + 2e^-690).
  const TailProfile tiny(std::vector<double>{0.0, -690.0, -690.0});
  // tau_1 = 4.34e-300, tau_2 = 2.17e-300.
  EXPECT_EQ(tiny.k_eps(1e-299), 1u);
  EXPECT_EQ(tiny.k_eps(4.3e-300), 2u);
  EXPECT_EQ(tiny.k_eps(3e-300), 2u);
  EXPECT_EQ(tiny.k_eps(2e-300), 3u);
  EXPECT_EQ(tiny.k_eps(1e-310), 3u);
  // The sink row: one dominant key.
  const TailProfile sink(std::vector<double>{0.0, 0.0, 10.0, 0.0});
  const double tau1 = 3.0 / (3.0 + std::exp(10.0));
  EXPECT_NEAR(sink.tau(1), tau1, 1e-15);
  EXPECT_EQ(sink.k_eps(tau1 * 1.001), 1u);
  EXPECT_EQ(sink.k_eps(tau1 * 0.999), 2u);
  // Several eps at once keep their order.
  const std::vector<double> eps = {0.5, 0.05, 0.1};
  EXPECT_EQ(tvk::k_eps(equal, eps), (std::vector<std::size_t>{10, 19, 18}));
}

// The radix sort's fix-up must sort every run of equal coarse keys: one outlier that puts the
// whole bulk in one key, back-to-back runs of distinct doubles that cross the fix-up's
// 32-element blocks, a run at the very end, and ties, in rows long enough for the radix path.
TEST(DescendingOrder, MatchesStableSortOnClusteredRows) {
  tvk::RandomStream rng(0xc1a5);
  std::vector<std::vector<double>> rows;
  for (std::size_t n : {64u, 65u, 100u, 1000u, 4096u}) {
    std::vector<double> ties(n), collapsed(n), clusters(n), end_run(n);
    for (std::size_t i = 0; i < n; ++i) {
      ties[i] = static_cast<double>(rng() % 3);
      collapsed[i] = rng.uniform01() * 1e-9;
      clusters[i] = static_cast<double>(rng() % 10) + rng.uniform01() * 1e-12;
      end_run[i] = i + 40 < n ? rng.uniform01() : rng() % 2 == 0 ? 5.0 : std::nextafter(5.0, 6.0);
    }
    collapsed[rng() % n] = -1e9;  // key width ~1e3: the bulk shares one key
    clusters[rng() % n] = -1e5;   // key width ~0.1: each cluster one key, runs back to back
    rows.insert(rows.end(), {ties, collapsed, clusters, end_run});
  }
  std::vector<std::uint32_t> order;
  tvk::SortScratch scratch;
  for (const auto& row : rows) {
    std::vector<std::uint32_t> expected(row.size());
    std::iota(expected.begin(), expected.end(), 0u);
    std::stable_sort(expected.begin(), expected.end(),
                     [&row](std::uint32_t a, std::uint32_t b) { return row[a] > row[b]; });
    tvk::descending_order(row, order, scratch);
    ASSERT_EQ(order, expected) << "n = " << row.size();
  }
}

}  // namespace
