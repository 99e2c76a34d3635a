//! \file Deterministic bounds B1–B4 (THEORY §2): every registered bound is a valid upper bound
//! on every row and every k, certifies exactly min{k : B_k <= eps}, never below k_eps; B1 is
//! sharp on two-level rows; B3 with singleton groups and the exact head is tau; B4 keeps the
//! top-m blocks of a brute-force reference; and the THEORY §2 reference figures reproduce.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <numeric>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/bounds/block_bound.h"
#include "core/bounds/bound_registry.h"
#include "core/random/stream.h"
#include "tests/support/row_generators.h"

namespace {

using tvk::BlockBound;
using tvk::BoundOptions;
using tvk::Certificate;
using tvk::CertifyingBound;
using tvk::TailProfile;
using tvk::TopkBound;
using tvk::test::NamedRow;

const std::vector<double> kEps = {1e-9, 1e-4, 0.001, 0.01, 0.05, 0.1, 0.2, 0.5, 0.9};

//! Rows for the validity checks: every adversarial row and 2000 random ones (n <= 300).
const std::vector<NamedRow>& rows() {
  static const std::vector<NamedRow> all = tvk::test::all_rows(2000, 0xb0a5d, 300);
  return all;
}

//! Option sets every bound is checked with (B4 block size, B3 equal-group count).
std::vector<BoundOptions> option_sets() {
  std::vector<BoundOptions> sets(4);
  sets[0].block = 16, sets[0].equal_groups = 8;  // the defaults
  sets[1].block = 1, sets[1].equal_groups = 1;
  sets[2].block = 3, sets[2].equal_groups = 3;
  sets[3].block = 64, sets[3].equal_groups = 20;
  return sets;
}

bool close(double a, double b, double relative) {
  return std::abs(a - b) <= relative * std::max(std::abs(a), std::abs(b)) + 1e-300;
}

TEST(BoundsRegistry, NamesAndFactory) {
  const std::vector<std::string> names = tvk::bound_names();
  // The registry describes itself: names distinct and non-empty, each built under its name.
  ASSERT_FALSE(names.empty());
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()).size(), names.size());
  for (const std::string& name : names) {
    const auto bound = tvk::make_bound(name, BoundOptions{});
    ASSERT_NE(bound, nullptr);
    EXPECT_EQ(bound->name(), name);
    EXPECT_FALSE(bound->description().empty());
  }
  EXPECT_THROW(tvk::make_bound("b9", BoundOptions{}), std::invalid_argument);
  EXPECT_THROW(BlockBound(0), std::invalid_argument);
  BoundOptions no_groups;
  no_groups.equal_groups = 0;
  EXPECT_THROW(tvk::make_bound("b3_equal", no_groups), std::invalid_argument);
  BoundOptions options;
  options.block = 7;
  const auto b4 = tvk::make_bound("b4", options);
  EXPECT_EQ(dynamic_cast<const BlockBound&>(*b4).block(), 7u);
}

//! Every Top-k bound: B_k >= tau_k, B_n = 0, certified k = brute-force min{k : B_k <= eps}.
void check_topk(const TopkBound& bound, const TailProfile& profile,
                const std::vector<std::size_t>& k_exact, std::vector<Certificate>& certificates,
                tvk::BoundScratch& scratch) {
  const std::size_t n = profile.n();
  std::vector<double> value(n + 1);
  for (std::size_t k = 1; k <= n; ++k) {
    value[k] = bound.value(profile, k);
    ASSERT_GE(value[k], profile.tau(k) * (1.0 - 1e-12))
        << bound.name() << " k = " << k << " tau " << profile.tau(k);
    ASSERT_LE(value[k], 1.0 + 1e-15) << bound.name() << " k = " << k;
  }
  ASSERT_EQ(value[n], 0.0) << bound.name();
  bound.certify(profile, kEps, k_exact, certificates, scratch);
  for (std::size_t i = 0; i < kEps.size(); ++i) {
    std::size_t expected = 1;
    while (value[expected] > kEps[i])
      ++expected;
    const Certificate& c = certificates[i];
    ASSERT_EQ(c.kept, expected) << bound.name() << " eps = " << kEps[i];
    ASSERT_EQ(bound.certified_k(profile, kEps[i]), expected) << bound.name();
    ASSERT_EQ(bound.certified_k(profile, kEps[i], k_exact[i]), expected) << bound.name();
    ASSERT_GE(c.kept, k_exact[i]) << bound.name() << " eps = " << kEps[i];
    ASSERT_LE(c.bound, kEps[i]) << bound.name();
    ASSERT_EQ(c.bound, value[c.kept]) << bound.name();
    ASSERT_EQ(c.tau, profile.tau(c.kept)) << bound.name();
    ASSERT_LE(c.tau, c.bound * (1.0 + 1e-12) + 1e-300) << bound.name();
  }
}

//! B4 from the original row: blocks of b unmasked keys by position, block maxima, top-m
//! blocks ordered by maximum with ties by block index, everything in long double.
struct BlockReference {
  std::vector<std::size_t> kept;
  std::vector<double> bound, tau;
};

BlockReference block_reference(const std::vector<double>& row, std::size_t b) {
  const std::vector<double> s = tvk::test::unmasked(row);
  const std::size_t n = s.size(), blocks = (n + b - 1) / b;
  const long double top = *std::max_element(s.begin(), s.end());
  std::vector<double> maximum(blocks, -HUGE_VAL);
  std::vector<std::size_t> size(blocks, 0);
  std::vector<long double> mass(blocks, 0.0L);
  for (std::size_t i = 0; i < n; ++i) {
    maximum[i / b] = std::max(maximum[i / b], s[i]);
    ++size[i / b];
    mass[i / b] += std::exp(static_cast<long double>(s[i]) - top);
  }
  std::vector<std::size_t> order(blocks);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t c) { return maximum[a] > maximum[c]; });
  BlockReference out;
  for (std::size_t m = 1; m <= blocks; ++m) {
    long double head = 0.0L, dropped = 0.0L, upper = 0.0L;
    std::size_t kept = 0;
    for (std::size_t t = 0; t < blocks; ++t) {
      const std::size_t j = order[t];
      if (t < m) {
        head += mass[j];
        kept += size[j];
      } else {
        dropped += mass[j];
        upper += static_cast<long double>(size[j]) *
                 std::exp(static_cast<long double>(maximum[j]) - top);
      }
    }
    out.kept.push_back(kept);
    out.bound.push_back(static_cast<double>(upper / (head + upper)));
    out.tau.push_back(static_cast<double>(dropped / (head + dropped)));
  }
  return out;
}

void check_block(const BlockBound& bound, const NamedRow& named, const TailProfile& profile,
                 const std::vector<std::size_t>& k_exact, std::vector<Certificate>& certificates,
                 tvk::BoundScratch& scratch) {
  const std::size_t n = profile.n();
  const std::vector<tvk::BlockStep> steps = bound.steps(profile);
  const BlockReference reference = block_reference(named.logits, bound.block());
  ASSERT_EQ(steps.size(), reference.kept.size());
  for (std::size_t m = 0; m < steps.size(); ++m) {
    ASSERT_EQ(steps[m].kept, reference.kept[m]) << "b = " << bound.block() << " m = " << m + 1;
    ASSERT_TRUE(close(steps[m].tau, reference.tau[m], 1e-12))
        << "m = " << m + 1 << ": " << steps[m].tau << " vs " << reference.tau[m];
    ASSERT_TRUE(close(steps[m].bound, reference.bound[m], 1e-12))
        << "m = " << m + 1 << ": " << steps[m].bound << " vs " << reference.bound[m];
    ASSERT_GE(steps[m].bound, steps[m].tau * (1.0 - 1e-12)) << "m = " << m + 1;
    // Top-k is optimal among sets of the same size.
    ASSERT_GE(steps[m].tau, profile.tau(steps[m].kept) * (1.0 - 1e-12) - 1e-300);
  }
  ASSERT_EQ(steps.back().kept, n);
  ASSERT_EQ(steps.back().bound, 0.0);
  ASSERT_EQ(steps.back().tau, 0.0);
  bound.certify(profile, kEps, k_exact, certificates, scratch);
  for (std::size_t i = 0; i < kEps.size(); ++i) {
    std::size_t expected = n;
    for (std::size_t m = 0; m + 1 < steps.size(); ++m) {
      if (steps[m].bound <= kEps[i]) {
        expected = steps[m].kept;
        break;
      }
    }
    const Certificate& c = certificates[i];
    ASSERT_EQ(c.kept, expected) << "b = " << bound.block() << " eps = " << kEps[i];
    ASSERT_GE(c.kept, k_exact[i]);
    ASSERT_LE(c.bound, kEps[i]);
    ASSERT_LE(c.tau, c.bound * (1.0 + 1e-12) + 1e-300);
    ASSERT_LE(c.tau, kEps[i] * (1.0 + 1e-12));
  }
}

TEST(Bounds, EveryBoundIsValidAndCertifiesTheBruteForceK) {
  tvk::BoundScratch scratch;  // shared across rows of different lengths: reuse must be safe
  std::vector<Certificate> certificates(kEps.size());
  std::size_t rows_checked = 0;
  for (const BoundOptions& options : option_sets()) {
    std::vector<std::unique_ptr<CertifyingBound>> bounds;
    for (const std::string& name : tvk::bound_names())
      bounds.push_back(tvk::make_bound(name, options));
    for (const NamedRow& named : rows()) {
      SCOPED_TRACE(named.name + " block " + std::to_string(options.block) + " groups " +
                   std::to_string(options.equal_groups));
      const TailProfile profile(named.logits);
      const std::vector<std::size_t> k_exact = tvk::k_eps(profile, kEps);
      for (const auto& bound : bounds) {
        if (const auto* topk = dynamic_cast<const TopkBound*>(bound.get())) {
          check_topk(*topk, profile, k_exact, certificates, scratch);
        } else if (const auto* block = dynamic_cast<const BlockBound*>(bound.get())) {
          check_block(*block, named, profile, k_exact, certificates, scratch);
        } else {
          FAIL() << "bound " << bound->name() << " has no test";
        }
        if (HasFatalFailure()) return;
      }
      ++rows_checked;
    }
  }
  EXPECT_GT(rows_checked, 8000u);
}

// Δk-Search scores only the top k and a bound's ranks_read(n, k): a Top-k bound's value must not
// depend on any other rank. Every unread rank beyond k is moved (keeping the order) and the value
// must stay the same bits; a ranks_read that forgets a rank the value uses fails here.
TEST(Bounds, TopkValueReadsOnlyTheTopKAndItsRanksRead) {
  std::vector<NamedRow> rows = tvk::test::random_rows(30, 77);
  for (int equal_groups : {3, 8}) {
    BoundOptions options;
    options.equal_groups = static_cast<std::size_t>(equal_groups);
    for (const std::string& name : tvk::bound_names()) {
      const auto bound = tvk::make_bound(name, options);
      const auto* topk = dynamic_cast<const TopkBound*>(bound.get());
      if (topk == nullptr) continue;  // b4 certifies block sets, not Top-k
      for (const NamedRow& named : rows) {
        const TailProfile profile(named.logits);
        const std::size_t n = profile.n();
        if (n < 4) continue;
        const auto sorted = profile.sorted_logits();
        for (std::size_t k = 1; k < n; k += 1 + n / 9) {
          const std::vector<std::size_t> read = topk->ranks_read(n, k);
          std::vector<char> is_read(n + 1, 0);
          for (std::size_t r : read) {
            ASSERT_GT(r, k) << name;
            ASSERT_LE(r, n) << name;
            is_read[r] = 1;
          }
          // Sorted logits with every unread rank r > k moved to the midpoint of s_(r), s_(r+1)
          // (the bottom one a little lower): the order is kept, the read ranks are unchanged.
          std::vector<double> moved(sorted.begin(), sorted.end());
          for (std::size_t r = k + 1; r <= n; ++r) {
            if (is_read[r]) continue;
            moved[r - 1] = r < n ? 0.5 * (sorted[r - 1] + sorted[r]) : sorted[r - 1] - 1.0;
          }
          const TailProfile changed(moved);
          ASSERT_EQ(changed.n(), n);
          EXPECT_EQ(topk->value(changed, k), topk->value(TailProfile(sorted), k))
              << name << " " << named.name << " k=" << k;
        }
      }
    }
  }
}

TEST(Bounds, OrderingBetweenVariants) {
  // Same head form, fewer/larger tail groups: b3 <= b2, b3_equal <= b2, b3_gap <= b1,
  // b3_equal_gap <= b1; exact head beats the gap form: b2 <= b1, b3 <= b3_gap.
  BoundOptions options;
  std::map<std::string, std::unique_ptr<CertifyingBound>> bounds;
  for (const std::string& name : tvk::bound_names())
    bounds[name] = tvk::make_bound(name, options);
  auto topk = [&](const std::string& name) -> const TopkBound& {
    return dynamic_cast<const TopkBound&>(*bounds.at(name));
  };
  const std::vector<std::pair<std::string, std::string>> tighter_looser = {
      {"b3", "b2"},
      {"b3_equal", "b2"},
      {"b3_gap", "b1"},
      {"b3_equal_gap", "b1"},
      {"b2", "b1"},
      {"b3", "b3_gap"},
      {"b3_equal", "b3_equal_gap"}};
  for (const NamedRow& named : rows()) {
    SCOPED_TRACE(named.name);
    const TailProfile profile(named.logits);
    for (std::size_t k = 1; k <= profile.n(); ++k) {
      for (const auto& [tight, loose] : tighter_looser) {
        ASSERT_LE(topk(tight).value(profile, k),
                  topk(loose).value(profile, k) * (1.0 + 1e-12) + 1e-300)
            << tight << " vs " << loose << " k = " << k;
      }
    }
  }
}

TEST(Bounds, B1SharpOnTwoLevelRows) {
  const auto b1_bound = tvk::make_bound("b1", BoundOptions{});
  const auto& b1 = dynamic_cast<const TopkBound&>(*b1_bound);
  tvk::RandomStream rng(0xb1);
  for (std::size_t n : {2u, 3u, 10u, 64u, 301u}) {
    for (std::size_t k = 1; k < n; k += std::max<std::size_t>(1, n / 7)) {
      for (double gap : {0.0, 0.5, 3.0, 20.0, 200.0}) {
        std::vector<double> row(n, -1.0 - gap);
        for (std::size_t i = 0; i < k; ++i)
          row[i] = -1.0;
        for (std::size_t i = n; i-- > 1;)
          std::swap(row[i], row[rng() % (i + 1)]);  // any order: equal logits tie
        const TailProfile profile(row);
        const long double e = std::exp(-static_cast<long double>(gap));
        const long double tail = static_cast<long double>(n - k) * e;
        const double tau = static_cast<double>(tail / (static_cast<long double>(k) + tail));
        ASSERT_TRUE(close(profile.tau(k), tau, 1e-13)) << "n " << n << " k " << k << " " << gap;
        ASSERT_TRUE(close(b1.value(profile, k), tau, 1e-12))
            << "n " << n << " k " << k << " gap " << gap << ": " << b1.value(profile, k) << " vs "
            << tau;
      }
    }
  }
}

TEST(Bounds, B3SingletonGroupsWithExactHeadEqualTau) {
  for (const NamedRow& named : rows()) {
    SCOPED_TRACE(named.name);
    const TailProfile profile(named.logits);
    const std::size_t n = profile.n();
    // r >= n - k equal groups are singletons.
    BoundOptions options;
    options.equal_groups = n;
    const auto singletons_bound = tvk::make_bound("b3_equal", options);
    const auto& singletons = dynamic_cast<const TopkBound&>(*singletons_bound);
    const auto geometric_bound = tvk::make_bound("b3", options);
    const auto& geometric = dynamic_cast<const TopkBound&>(*geometric_bound);
    for (std::size_t k = 1; k <= n; ++k) {
      ASSERT_TRUE(close(singletons.value(profile, k), profile.tau(k), 1e-12))
          << "k = " << k << ": " << singletons.value(profile, k) << " vs " << profile.tau(k);
      // Geometric groups of a tail of 1 or 2 keys are singletons too.
      if (n - k <= 2) {
        ASSERT_TRUE(close(geometric.value(profile, k), profile.tau(k), 1e-12)) << "k = " << k;
      }
    }
  }
}

//! B3 from an explicit list of groups (sizes, consecutive from rank k+1), in long double.
//! `head_prefix[k]` = Σ_{r<k} e^{s_(r+1) − s_(1)} in long double.
double multi_gap_reference(const TailProfile& profile, std::size_t k,
                           const std::vector<std::size_t>& sizes, bool exact_head,
                           const std::vector<long double>& head_prefix) {
  const auto s = profile.sorted_logits();
  const long double s_k = s[k - 1];
  long double upper = 0.0L;
  std::size_t start = k;  // 0-based index of a_g
  for (std::size_t size : sizes) {
    upper += static_cast<long double>(size) * std::exp(static_cast<long double>(s[start]) - s_k);
    start += size;
  }
  EXPECT_EQ(start, profile.n());
  const long double head = exact_head
                               ? head_prefix[k] * std::exp(static_cast<long double>(s[0]) - s_k)
                               : static_cast<long double>(k);
  return static_cast<double>(upper / (head + upper));
}

TEST(Bounds, B3GroupingsMatchExplicitGroups) {
  for (const NamedRow& named : tvk::test::all_rows(500, 0xb3, 300)) {
    SCOPED_TRACE(named.name);
    const TailProfile profile(named.logits);
    const std::size_t n = profile.n();
    std::vector<long double> head_prefix(n + 1, 0.0L);
    for (std::size_t r = 0; r < n; ++r) {
      head_prefix[r + 1] =
          head_prefix[r] + std::exp(static_cast<long double>(profile.logit(r + 1)) -
                                    static_cast<long double>(profile.logit(1)));
    }
    for (std::size_t r : {1u, 2u, 3u, 8u}) {
      for (bool exact : {true, false}) {
        BoundOptions options;
        options.equal_groups = r;
        const auto geometric_bound = tvk::make_bound(exact ? "b3" : "b3_gap", options);
        const auto equal_bound = tvk::make_bound(exact ? "b3_equal" : "b3_equal_gap", options);
        const auto& geometric = dynamic_cast<const TopkBound&>(*geometric_bound);
        const auto& equal = dynamic_cast<const TopkBound&>(*equal_bound);
        for (std::size_t k = 1; k < n; ++k) {
          const std::size_t tail = n - k;
          std::vector<std::size_t> sizes;  // 1, 2, 4, ... with the last one truncated
          for (std::size_t size = 1, covered = 0; covered < tail; size *= 2) {
            sizes.push_back(std::min(size, tail - covered));
            covered += sizes.back();
          }
          const double g = multi_gap_reference(profile, k, sizes, exact, head_prefix);
          ASSERT_TRUE(close(geometric.value(profile, k), g, 1e-12))
              << "geometric k = " << k << ": " << geometric.value(profile, k) << " vs " << g;
          // r groups (at most one per tail key) of sizes differing by at most one.
          const std::size_t groups = std::min(r, tail);
          sizes.assign(groups, tail / groups);
          for (std::size_t i = 0; i < tail % groups; ++i)
            ++sizes[i];
          const double e = multi_gap_reference(profile, k, sizes, exact, head_prefix);
          ASSERT_TRUE(close(equal.value(profile, k), e, 1e-12))
              << "equal r = " << r << " k = " << k << ": " << equal.value(profile, k) << " vs "
              << e;
        }
      }
    }
  }
}

TEST(Bounds, B4BlocksByPositionHandExample) {
  // Blocks of 2: {0, 5}, {1, 1}, {4, -2}, {3}: maxima 5, 1, 4, 3 -> order 0, 2, 3, 1.
  const std::vector<double> row = {0.0, 5.0, 1.0, 1.0, 4.0, -2.0, 3.0};
  const TailProfile profile(row);
  const BlockBound b4(2);
  const auto steps = b4.steps(profile);
  ASSERT_EQ(steps.size(), 4u);
  EXPECT_EQ(steps[0].kept, 2u);
  EXPECT_EQ(steps[1].kept, 4u);
  EXPECT_EQ(steps[2].kept, 5u);
  EXPECT_EQ(steps[3].kept, 7u);
  const double z = std::exp(0.0) + std::exp(5.0) + 2 * std::exp(1.0) + std::exp(4.0) +
                   std::exp(-2.0) + std::exp(3.0);
  EXPECT_NEAR(steps[0].tau,
              (2 * std::exp(1.0) + std::exp(4.0) + std::exp(-2.0) + std::exp(3.0)) / z, 1e-15);
  const double head = std::exp(0.0) + std::exp(5.0);
  const double upper = 2 * std::exp(4.0) + 1 * std::exp(3.0) + 2 * std::exp(1.0);
  EXPECT_NEAR(steps[0].bound, upper / (head + upper), 1e-15);
  EXPECT_NEAR(steps[2].tau, 2 * std::exp(1.0) / z, 1e-15);
  // Masked keys are removed before blocking: positions count unmasked keys.
  std::vector<double> masked = row;
  masked.insert(masked.begin() + 1, tvk::test::kMask);
  masked.push_back(tvk::test::kMask);
  const auto masked_steps = b4.steps(TailProfile(masked));
  ASSERT_EQ(masked_steps.size(), steps.size());
  for (std::size_t m = 0; m < steps.size(); ++m) {
    EXPECT_EQ(masked_steps[m].kept, steps[m].kept);
    EXPECT_EQ(masked_steps[m].bound, steps[m].bound);
  }
}

//! THEORY §2 reference figures: 400 rows, n = 512, i.i.d. N(0, 2^2), eps = 0.05, mean k/n.
TEST(Bounds, ReferenceFiguresGaussianN512) {
  constexpr std::size_t kRows = 400, kN = 512;
  const std::vector<std::pair<std::string, double>> reference = {{"exact", 0.369},  {"b1", 0.949},
                                                                 {"b2", 0.542},     {"b3", 0.420},
                                                                 {"b3_gap", 0.922}, {"b4", 0.951}};
  BoundOptions options;
  options.block = 16;
  std::map<std::string, std::unique_ptr<CertifyingBound>> bounds;
  for (const auto& [name, value] : reference) {
    if (name != "exact") bounds[name] = tvk::make_bound(name, options);
  }
  std::map<std::string, std::vector<double>> ratios;
  tvk::BoundScratch scratch;
  const std::vector<double> eps = {0.05};
  std::vector<Certificate> certificate(1);
  for (std::size_t row = 0; row < kRows; ++row) {
    tvk::RandomStream rng = tvk::make_stream(2025, 0, row, tvk::StreamPurpose::kLogits);
    const TailProfile profile(tvk::test::random_logits(tvk::test::RowLaw::kGaussian, 2.0, kN, rng));
    const std::vector<std::size_t> k_exact = {profile.k_eps(0.05)};
    ratios["exact"].push_back(static_cast<double>(k_exact[0]) / kN);
    for (const auto& [name, bound] : bounds) {
      bound->certify(profile, eps, k_exact, certificate, scratch);
      ratios[name].push_back(static_cast<double>(certificate[0].kept) / kN);
    }
  }
  std::printf("  THEORY §2 reference figures (400 rows, n = 512, N(0, 4), eps = 0.05):\n");
  for (const auto& [name, expected] : reference) {
    const std::vector<double>& x = ratios[name];
    const double mean = std::accumulate(x.begin(), x.end(), 0.0) / static_cast<double>(x.size());
    double squares = 0.0;
    for (double v : x)
      squares += (v - mean) * (v - mean);
    const double se =
        std::sqrt(squares / static_cast<double>(x.size() - 1) / static_cast<double>(x.size()));
    const double tolerance = 4.0 * std::max(se, 0.002);
    std::printf("  %-7s mean k/n %.4f (se %.4f)  THEORY %.3f  diff %+.4f\n", name.c_str(), mean, se,
                expected, mean - expected);
    EXPECT_NEAR(mean, expected, tolerance) << name << " (se " << se << ")";
  }
}

}  // namespace
