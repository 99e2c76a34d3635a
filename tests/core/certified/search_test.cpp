//! \file Certified selection (THEORY §6): MC-Search and Δk-Search. On every row of thousands of
//! random and adversarial rows the certificate holds (true tau <= bound <= eps, checked against a
//! long double recomputation), the search stops at the first certifying visit, "topk" keeps the
//! smallest certified k (>= the exact k_eps), the dense fallback is flagged, the costs add up,
//! Δk-Search equals the minimum over its grid, and results are deterministic. A sanity figure on
//! clustered keys is printed.

#include "core/certified/search.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/random/uniform_int_distribution.hpp>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>
#include "core/numerics/eigen.h"

#include "core/bounds/bound_registry.h"
#include "core/certified/b5_search.h"
#include "core/certified/cells.h"
#include "core/certified/delta_k_search.h"
#include "core/certified/logits.h"
#include "core/certified/mc_search.h"
#include "core/certified/qkv_models.h"
#include "core/random/stream.h"
#include "core/rows/tail_profile.h"
#include "tests/support/row_generators.h"

namespace {

using tvk::CellKind;
using tvk::CellOptions;
using tvk::KeptMode;
using tvk::KeyCells;
using tvk::McSearchOptions;
using tvk::QkvFamily;
using tvk::QkvParameters;
using tvk::QkvRow;
using tvk::RandomStream;
using tvk::SearchResult;
using tvk::SearchStop;
using tvk::UpperBoundKind;

constexpr double kEps[] = {0.001, 0.01, 0.1};

struct NamedRow {
  std::string name;
  QkvRow row;
};

//! Random rows from the synthetic families with random shapes and strengths, sometimes float32,
//! with duplicated keys, a zero query, or huge logit ranges.
NamedRow random_row(RandomStream& rng, std::size_t index, std::size_t max_n = 256) {
  boost::random::uniform_int_distribution<int> pick(0, 99);
  QkvParameters p;
  static constexpr QkvFamily kFamilies[] = {QkvFamily::kGaussian, QkvFamily::kClustered,
                                            QkvFamily::kPositional};
  p.family = kFamilies[pick(rng) % 3];
  const int size_class = pick(rng);
  p.n = boost::random::uniform_int_distribution<std::size_t>(
      1, size_class < 15 ? 4 : (size_class < 50 ? 40 : max_n))(rng);
  static constexpr std::size_t kDims[] = {1, 2, 4, 8, 16, 32};
  p.d = kDims[pick(rng) % 6];
  p.dv = 1 + static_cast<std::size_t>(pick(rng) % 4);
  static constexpr double kStrengths[] = {0.0, 0.5, 2.0, 4.0, 8.0, 12.0, 30.0, 2000.0};
  p.strength = kStrengths[pick(rng) % 8];
  static constexpr double kSpreads[] = {0.0, 0.05, 0.25, 1.0};
  p.spread = kSpreads[pick(rng) % 4];
  p.clusters = boost::random::uniform_int_distribution<std::size_t>(1, 12)(rng);
  p.correlation_length = pick(rng) < 50 ? 4.0 : 32.0;
  p.float32 = pick(rng) < 30;
  NamedRow out;
  out.row = tvk::sample_row(p, rng, rng);
  out.name = tvk::qkv_family_name(p.family) + " n=" + std::to_string(p.n) +
             " d=" + std::to_string(p.d) + " strength=" + std::to_string(p.strength) +
             " spread=" + std::to_string(p.spread) + (p.float32 ? " float32" : "") + " #" +
             std::to_string(index);
  const int tweak = pick(rng);
  if (tweak < 8) {
    for (Eigen::Index i = 1; i < out.row.keys.rows(); i += 3)
      out.row.keys.row(i) = out.row.keys.row(i - 1);
    out.name += " duplicates";
  } else if (tweak < 12) {
    out.row.query.setZero();
    out.name += " zero query";
  }
  return out;
}

//! Visiting order of MC-Search recomputed from its definition: decreasing U_j, ties by index.
std::vector<std::uint32_t> visiting_order(const KeyCells& cells, const QkvRow& row,
                                          UpperBoundKind kind, std::vector<double>& upper) {
  upper.resize(cells.cells());
  cells.upper_bounds(row.query, row.scale, kind, upper);
  std::vector<std::uint32_t> order(cells.cells());
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(),
                   [&upper](std::uint32_t a, std::uint32_t b) { return upper[a] > upper[b]; });
  return order;
}

//! The MC certificate from its definition in long double: scored keys S = the cells of
//! order[0..visited), kept set given by `kept` flags, remainder from U_j.
long double reference_certificate(const std::vector<double>& logits, const KeyCells& cells,
                                  const std::vector<std::uint32_t>& order, std::size_t visited,
                                  const std::vector<char>& kept, const std::vector<double>& upper) {
  long double ref = -std::numeric_limits<long double>::infinity();
  for (std::size_t v = 0; v < order.size(); ++v) {
    if (v < visited) {
      for (std::uint32_t i : cells.members(order[v]))
        ref = std::max<long double>(ref, logits[i]);
    } else {
      ref = std::max<long double>(ref, upper[order[v]]);
    }
  }
  long double dropped = 0.0L, head = 0.0L, rest = 0.0L;
  for (std::size_t v = 0; v < order.size(); ++v) {
    if (v < visited) {
      for (std::uint32_t i : cells.members(order[v]))
        (kept[i] ? head : dropped) += std::exp(static_cast<long double>(logits[i]) - ref);
    } else {
      rest += static_cast<long double>(cells.cell_size(order[v])) *
              std::exp(static_cast<long double>(upper[order[v]]) - ref);
    }
  }
  return (dropped + rest) / (head + dropped + rest);
}

//! P(K^c) in long double.
long double reference_tau(const std::vector<double>& logits, const std::vector<char>& kept) {
  const long double top = *std::max_element(logits.begin(), logits.end());
  long double outside = 0.0L, total = 0.0L;
  for (std::size_t i = 0; i < logits.size(); ++i) {
    const long double w = std::exp(static_cast<long double>(logits[i]) - top);
    total += w;
    if (!kept[i]) outside += w;
  }
  return outside / total;
}

//! Every property of one MC-Search result; returns false after the first failure.
bool check_mc(const NamedRow& named, const KeyCells& cells, const McSearchOptions& options,
              const SearchResult& r, const std::vector<double>& logits,
              const tvk::TailProfile& profile) {
  const QkvRow& row = named.row;
  const std::size_t n = logits.size();
  const std::string where = named.name + " cells=" + tvk::cell_kind_name(cells.kind()) +
                            " mode=" + tvk::kept_mode_name(options.kept) +
                            " eps=" + std::to_string(options.eps);
  auto fail = [&](const std::string& what) {
    ADD_FAILURE() << where << ": " << what << " (kept " << r.kept << ", scored " << r.scored
                  << ", bound " << r.bound << ", true tau " << r.true_tau << ")";
    return false;
  };
  if (!r.certified) return fail("not certified");
  if (r.kept < 1 || r.kept > r.scored) return fail("kept out of range");
  if (!(r.bound <= options.eps)) return fail("bound > eps");
  if (!(r.true_tau <= r.bound)) return fail("true tau > bound");
  if (r.n != n || r.cells != cells.cells() || r.summaries_read != cells.cells()) {
    return fail("counts");
  }
  if (r.cost != static_cast<double>(r.scored) +
                    options.cost.summary_cost * static_cast<double>(r.summaries_read)) {
    return fail("cost");
  }
  if (r.kept_keys.size() != r.kept || r.kept_logits.size() != r.kept ||
      r.kept + r.dropped_keys.size() != r.scored) {
    return fail("set sizes");
  }
  // The visiting order, the visited prefix and the scored set.
  std::vector<double> upper;
  const std::vector<std::uint32_t> order = visiting_order(cells, row, options.upper_bound, upper);
  if (r.cells_visited + r.unvisited_cells.size() != cells.cells() ||
      !std::equal(r.unvisited_cells.begin(), r.unvisited_cells.end(),
                  order.begin() + static_cast<std::ptrdiff_t>(r.cells_visited))) {
    return fail("unvisited cells are not the tail of the visiting order");
  }
  std::vector<char> scored(n, 0), kept(n, 0);
  std::size_t scored_count = 0;
  for (std::size_t v = 0; v < r.cells_visited; ++v) {
    for (std::uint32_t i : cells.members(order[v])) {
      scored[i] = 1;
      ++scored_count;
    }
  }
  if (scored_count != r.scored) return fail("scored != sizes of visited cells");
  for (std::size_t p = 0; p < r.kept; ++p) {
    const std::uint32_t i = r.kept_keys[p];
    if (!scored[i] || kept[i]) return fail("kept key not scored or repeated");
    if (r.kept_logits[p] != logits[i]) return fail("kept logit differs from the row's");
    if (p > 0 && r.kept_logits[p] > r.kept_logits[p - 1]) return fail("kept not descending");
    kept[i] = 1;
  }
  for (std::uint32_t i : r.dropped_keys) {
    if (!scored[i] || kept[i]) return fail("dropped key not scored or kept");
    if (logits[i] > r.kept_logits.back()) return fail("a dropped key outranks a kept one");
  }
  // The certificate against long double references.
  const long double tau = reference_tau(logits, kept);
  if (std::abs(static_cast<long double>(r.true_tau) - tau) > 1e-12L * tau + 1e-300L) {
    return fail("true tau differs from the long double reference");
  }
  if (tau > static_cast<long double>(r.bound)) return fail("long double tau > bound");
  const long double certificate =
      reference_certificate(logits, cells, order, r.cells_visited, kept, upper);
  if (certificate > static_cast<long double>(r.bound)) return fail("definition > bound");
  // Stopped at the first certifying visit (up to a 1e-9 relative tie).
  if (r.cells_visited >= 2) {
    std::vector<char> all(n, 1);
    const long double before =
        reference_certificate(logits, cells, order, r.cells_visited - 1, all, upper);
    if (before <= 0.999999999L * options.eps) return fail("an earlier visit certified");
  }
  // Dense fallback exactly when every cell was visited.
  if (r.dense_fallback != (r.cells_visited == cells.cells()) ||
      (r.stop == SearchStop::kDenseFallback) != r.dense_fallback) {
    return fail("dense fallback flag");
  }
  if (options.kept == KeptMode::kScored) {
    if (r.kept != r.scored) return fail("scored mode keeps every scored key");
    if (r.dense_fallback && (r.bound != 0.0 || r.true_tau != 0.0 || r.kept != n)) {
      return fail("dense fallback in scored mode keeps every key with bound 0");
    }
  } else {
    if (r.kept < profile.k_eps(options.eps)) return fail("kept < exact k_eps");
    if (r.kept >= 2) {  // the smallest certifying k
      std::vector<char> fewer = kept;
      fewer[r.kept_keys[r.kept - 1]] = 0;
      const long double smaller =
          reference_certificate(logits, cells, order, r.cells_visited, fewer, upper);
      if (smaller <= 0.999999999L * options.eps) return fail("a smaller k certifies");
    }
  }
  return true;
}

TEST(CertifiedSearch, McSearchCertificateHoldsOnEveryRow) {
  RandomStream rng(0x5ea1);
  boost::random::uniform_int_distribution<std::size_t> block(1, 32), clusters(1, 12);
  boost::random::uniform_int_distribution<int> bound_kind(0, 2);
  std::size_t searches = 0, early = 0, dense = 0;
  for (std::size_t index = 0; index < 2000 && !HasFailure(); ++index) {
    const NamedRow named = random_row(rng, index);
    const QkvRow& row = named.row;
    const std::vector<double> logits = tvk::row_logits(row.keys, row.query, row.scale);
    const tvk::TailProfile profile(logits);
    CellOptions blocks;
    blocks.block = block(rng);
    CellOptions clustered;
    clustered.kind = CellKind::kClusters;
    clustered.clusters = clusters(rng);
    clustered.iterations = 5;
    for (const CellOptions& cell_options : {blocks, clustered}) {
      const KeyCells cells(row.keys, cell_options);
      for (KeptMode mode : {KeptMode::kScored, KeptMode::kTopk}) {
        for (double eps : kEps) {
          McSearchOptions options;
          options.eps = eps;
          options.kept = mode;
          options.upper_bound = static_cast<UpperBoundKind>(bound_kind(rng));
          options.cost.summary_cost = 0.25;
          const SearchResult r = tvk::mc_search(cells, row.query, row.scale, options);
          if (!check_mc(named, cells, options, r, logits, profile)) return;
          ++searches;
          (r.dense_fallback ? dense : early) += 1;
        }
      }
    }
  }
  EXPECT_EQ(searches, 2000u * 12u);
  // Both outcomes occur often: the test exercises early stops and the fallback.
  EXPECT_GT(early, 4000u);
  EXPECT_GT(dense, 2000u);
}

TEST(CertifiedSearch, DenseFallbackIsFlagged) {
  // Identical keys: every U_j equals the common logit (up to the margin), so the unvisited mass
  // never drops below eps of the total before the last cell.
  const Eigen::MatrixXd keys = Eigen::MatrixXd::Constant(64, 4, 0.5);
  const Eigen::VectorXd query = Eigen::VectorXd::Constant(4, 1.0);
  CellOptions o;
  o.block = 8;
  const KeyCells cells(keys, o);
  for (KeptMode mode : {KeptMode::kScored, KeptMode::kTopk}) {
    McSearchOptions options;
    options.eps = 0.01;
    options.kept = mode;
    const SearchResult r = tvk::mc_search(cells, query, 0.5, options);
    EXPECT_TRUE(r.dense_fallback);
    EXPECT_EQ(r.stop, SearchStop::kDenseFallback);
    EXPECT_TRUE(r.certified);
    EXPECT_EQ(r.scored, 64u);
    EXPECT_EQ(r.cells_visited, 8u);
    EXPECT_TRUE(r.unvisited_cells.empty());
    if (mode == KeptMode::kScored) {
      EXPECT_EQ(r.kept, 64u);
      EXPECT_EQ(r.bound, 0.0);
      EXPECT_EQ(r.true_tau, 0.0);
    } else {
      EXPECT_EQ(r.kept, 64u);  // equal logits: tau_k = 1 − k/64 > 0.01 below k = 64
    }
  }
  // One cell: always dense.
  o.block = 100;
  const SearchResult one = tvk::mc_search(KeyCells(keys, o), query, 0.5, McSearchOptions{});
  EXPECT_TRUE(one.dense_fallback);
}

TEST(CertifiedSearch, EarlyStopOnAHandExample) {
  // Two blocks: the first holds a key 20 logits above everything; the second is never scored.
  Eigen::MatrixXd keys(4, 1);
  keys << 20.0, 0.0, 0.0, 0.0;
  const KeyCells cells(keys, CellOptions{.kind = CellKind::kBlocks, .block = 2});
  McSearchOptions options;
  options.eps = 0.01;
  options.kept = KeptMode::kTopk;
  const SearchResult r = tvk::mc_search(cells, Eigen::VectorXd::Ones(1), 1.0, options);
  EXPECT_EQ(r.stop, SearchStop::kCertified);
  EXPECT_EQ(r.scored, 2u);
  EXPECT_EQ(r.kept, 1u);
  EXPECT_EQ(r.kept_keys[0], 0u);
  ASSERT_EQ(r.unvisited_cells.size(), 1u);
  EXPECT_EQ(r.unvisited_cells[0], 1u);
  // Bound: (e^0 + 2 e^0) / (e^20 + e^0 + 2 e^0) up to the rounding slack.
  const double expected = 3.0 / (std::exp(20.0) + 3.0);
  EXPECT_NEAR(r.bound, expected, 1e-12 * expected);
  EXPECT_GE(r.bound, expected);
  EXPECT_NEAR(r.true_tau, 3.0 / (std::exp(20.0) + 3.0), 1e-12 * expected);
  EXPECT_EQ(r.cost, 2.0 + 2.0);
  // The exposed certificate gives the same value from the scored logits and U of block 1.
  std::vector<double> upper(2);
  cells.upper_bounds(Eigen::VectorXd::Ones(1), 1.0, UpperBoundKind::kMin, upper);
  EXPECT_NEAR(tvk::mc_certificate(std::vector<double>{20.0, 0.0}, 1, std::vector<double>{upper[1]},
                                  std::vector<std::size_t>{2}, 4),
              r.bound, 1e-15 * r.bound);
}

TEST(CertifiedSearch, B5IsBlockMcSearchWithScoredKeys) {
  RandomStream rng(0x5ea2);
  for (std::size_t index = 0; index < 100; ++index) {
    const NamedRow named = random_row(rng, index);
    const KeyCells blocks(named.row.keys, CellOptions{.kind = CellKind::kBlocks, .block = 8});
    McSearchOptions options;
    options.eps = 0.05;
    options.kept = KeptMode::kScored;
    options.upper_bound = UpperBoundKind::kBox;
    const SearchResult a = tvk::mc_search(blocks, named.row.query, named.row.scale, options);
    const SearchResult b =
        tvk::b5_search(blocks, named.row.query, named.row.scale, 0.05, UpperBoundKind::kBox);
    ASSERT_EQ(a.kept_keys, b.kept_keys) << named.name;
    ASSERT_EQ(a.bound, b.bound);
    ASSERT_EQ(a.scored, b.kept);
  }
  const NamedRow named = random_row(rng, 0);
  const KeyCells clusters(named.row.keys, CellOptions{.kind = CellKind::kClusters});
  EXPECT_THROW(tvk::b5_search(clusters, named.row.query, named.row.scale, 0.05),
               std::invalid_argument);
}

TEST(CertifiedSearch, McSearchIsDeterministic) {
  for (int repeat = 0; repeat < 2; ++repeat) {
    static std::vector<SearchResult> first;
    RandomStream rng(0x5ea3);
    std::vector<SearchResult> results;
    for (std::size_t index = 0; index < 60; ++index) {
      const NamedRow named = random_row(rng, index);
      const KeyCells cells(named.row.keys,
                           CellOptions{.kind = CellKind::kClusters, .clusters = 6, .seed = 7});
      results.push_back(
          tvk::mc_search(cells, named.row.query, named.row.scale, McSearchOptions{.eps = 0.01}));
    }
    if (repeat == 0) {
      first = results;
      continue;
    }
    ASSERT_EQ(first.size(), results.size());
    for (std::size_t i = 0; i < results.size(); ++i) {
      EXPECT_EQ(first[i].kept_keys, results[i].kept_keys);
      EXPECT_EQ(first[i].dropped_keys, results[i].dropped_keys);
      EXPECT_EQ(first[i].unvisited_cells, results[i].unvisited_cells);
      EXPECT_EQ(first[i].bound, results[i].bound);
      EXPECT_EQ(first[i].true_tau, results[i].true_tau);
      EXPECT_EQ(first[i].cost, results[i].cost);
    }
  }
}

TEST(CertifiedSearch, RejectsBadOptions) {
  const KeyCells cells(Eigen::MatrixXd::Ones(4, 2), CellOptions{});
  for (double eps : {0.0, 1.0, -0.5, std::nan("")}) {
    EXPECT_THROW(tvk::mc_search(cells, Eigen::VectorXd::Ones(2), 1.0, McSearchOptions{.eps = eps}),
                 std::invalid_argument);
  }
  EXPECT_THROW(tvk::mc_search(cells, Eigen::VectorXd::Ones(3), 1.0, McSearchOptions{}),
               std::invalid_argument);
  EXPECT_THROW(tvk::DeltaKSearch("b4"), std::invalid_argument);
  EXPECT_THROW(tvk::DeltaKSearch("b9"), std::invalid_argument);
  EXPECT_THROW(tvk::DeltaKSearch("b1", {}, 0, 1), std::invalid_argument);
  EXPECT_THROW(tvk::DeltaKSearch("b1", {}, 1, 0), std::invalid_argument);
  EXPECT_EQ(tvk::parse_kept_mode("topk"), KeptMode::kTopk);
  EXPECT_THROW(tvk::parse_kept_mode("all"), std::invalid_argument);
  EXPECT_EQ(tvk::search_stop_name(SearchStop::kDenseFallback), "dense_fallback");
}

//! Ranks (1-based) B_k reads beyond k, from the bound definitions (independent of the search).
std::vector<std::size_t> reference_reads(const std::string& bound, std::size_t n, std::size_t k,
                                         std::size_t groups) {
  std::vector<std::size_t> out;
  if (k >= n) return out;
  if (bound == "b1" || bound == "b2") return {k + 1};
  if (bound == "b3" || bound == "b3_gap") {
    for (std::size_t size = 1, start = k + 1; start <= n; start += size, size *= 2)
      out.push_back(start);
    return out;
  }
  const std::size_t tail = n - k, g = std::min(groups, tail);
  std::size_t start = k + 1;
  for (std::size_t i = 0; i < g; ++i) {
    out.push_back(start);
    start += tail / g + (i < tail % g ? 1 : 0);
  }
  return out;
}

TEST(CertifiedSearch, DeltaKSearchIsTheMinimumOverItsGrid) {
  const std::vector<std::string> bounds = {"b1", "b2", "b3", "b3_gap", "b3_equal", "b3_equal_gap"};
  tvk::BoundOptions bound_options;
  bound_options.equal_groups = 5;
  std::size_t checked = 0, dense = 0;
  for (const auto& named : tvk::test::all_rows(600, 0x5ea4, 200)) {
    const tvk::TailProfile profile(named.logits);
    const std::size_t n = profile.n();
    for (const std::string& name : bounds) {
      auto bound = tvk::make_bound(name, bound_options);
      const auto* topk = dynamic_cast<const tvk::TopkBound*>(bound.get());
      ASSERT_NE(topk, nullptr);
      for (std::size_t k0 : {1u, 3u, 17u}) {
        for (std::size_t step : {1u, 4u, 16u}) {
          const tvk::DeltaKSearch search(name, bound_options, k0, step);
          for (double eps : kEps) {
            const SearchResult r = search.run(profile, eps);
            // Brute force over the grid k0, k0 + Δk, ... then n.
            std::size_t expected = n, examined_beyond = 0;
            std::vector<char> read(n + 2, 0);
            for (std::size_t k = std::min(k0, n);; k = std::min(k + step, n)) {
              for (std::size_t rank : reference_reads(name, n, k, 5))
                read[rank] = 1;
              if (k == n || topk->value(profile, k) <= eps) {
                expected = k;
                break;
              }
            }
            for (std::size_t rank = expected + 1; rank <= n; ++rank)
              examined_beyond += read[rank];
            ASSERT_EQ(r.kept, expected) << named.name << " " << name;
            ASSERT_GE(r.kept, profile.k_eps(eps)) << named.name << " " << name;
            ASSERT_LE(r.bound, eps);
            ASSERT_EQ(r.true_tau, profile.tau(r.kept));
            // B_k >= tau_k up to the rounding of the two computations.
            ASSERT_LE(r.true_tau, r.bound * (1.0 + 1e-12) + 1e-300) << named.name << " " << name;
            ASSERT_EQ(r.positions_examined, expected + examined_beyond)
                << named.name << " " << name;
            ASSERT_EQ(r.scored, n);
            ASSERT_EQ(r.cost, static_cast<double>(n));
            ASSERT_EQ(r.summaries_read, 0u);
            ASSERT_EQ(r.dense_fallback, expected == n);
            ASSERT_EQ(r.kept_keys.size(), expected);
            ASSERT_EQ(r.dropped_keys.size(), n - expected);
            ++checked;
            dense += r.dense_fallback;
          }
        }
      }
    }
  }
  EXPECT_GT(checked, 50000u);
  EXPECT_GT(dense, 100u);
}

//! Mean fractions of one configuration over key sets.
struct Figure {
  double scored = 0.0, kept = 0.0, k_eps = 0.0, cost = 0.0, dense = 0.0;
};

Figure measure(const QkvParameters& p, const CellOptions& cell_options, double eps,
               std::size_t key_sets, std::size_t queries) {
  Figure f;
  const double n = static_cast<double>(p.n);
  for (std::size_t s = 0; s < key_sets; ++s) {
    RandomStream key_rng = tvk::make_stream(0xf16, 0, s, tvk::StreamPurpose::kKeys);
    const tvk::QkvKeySet set = tvk::sample_key_set(p, key_rng);
    const KeyCells cells(set.keys, set.values, cell_options);  // once per key set
    for (std::size_t q = 0; q < queries; ++q) {
      RandomStream query_rng = tvk::make_stream(0xf16, s, q, tvk::StreamPurpose::kQuery);
      const Eigen::VectorXd query = tvk::sample_query(p, set, query_rng);
      McSearchOptions options;
      options.eps = eps;
      options.kept = KeptMode::kTopk;
      const SearchResult r = tvk::mc_search(cells, query, tvk::qkv_scale(p), options);
      const tvk::TailProfile profile(cells.logits(query, tvk::qkv_scale(p)));
      f.scored += static_cast<double>(r.scored) / n;
      f.kept += static_cast<double>(r.kept) / n;
      f.k_eps += static_cast<double>(profile.k_eps(eps)) / n;
      f.cost += r.cost / n;
      f.dense += r.dense_fallback ? 1.0 : 0.0;
    }
  }
  const double rows = static_cast<double>(key_sets * queries);
  f.scored /= rows;
  f.kept /= rows;
  f.k_eps /= rows;
  f.cost /= rows;
  f.dense /= rows;
  return f;
}

TEST(CertifiedSearch, SanityFigureOnClusteredKeys) {
  // n = 1024, d = 64, 16 clusters, query aligned to one cluster, eps = 0.01: MC-Search over the
  // k-means cells scores well under half of the keys.
  QkvParameters p;
  p.family = QkvFamily::kClustered;
  p.n = 1024;
  p.d = 64;
  p.clusters = 16;
  const CellOptions clusters{.kind = CellKind::kClusters, .clusters = 16};
  const CellOptions blocks{.kind = CellKind::kBlocks, .block = 64};
  const Figure clustered = measure(p, clusters, 0.01, 8, 4);
  const Figure clustered_blocks = measure(p, blocks, 0.01, 4, 4);
  QkvParameters g = p;
  g.family = QkvFamily::kGaussian;
  g.strength = 2.0;
  const Figure gaussian = measure(g, clusters, 0.01, 4, 4);
  const Figure gaussian_blocks = measure(g, blocks, 0.01, 4, 4);
  QkvParameters l = p;
  l.family = QkvFamily::kPositional;
  const Figure positional_blocks = measure(l, blocks, 0.01, 4, 4);
  auto print = [](const char* what, const Figure& f) {
    std::printf("  %-34s scored/n %.3f  kept/n %.4f  exact k_eps/n %.4f  cost/n %.3f  dense %.2f\n",
                what, f.scored, f.kept, f.k_eps, f.cost, f.dense);
  };
  std::printf("MC-Search, topk mode, eps = 0.01, n = 1024, d = 64 (mean over rows):\n");
  print("clustered (strength 12), 16 clusters", clustered);
  print("clustered (strength 12), blocks 64", clustered_blocks);
  print("gaussian (strength 2), 16 clusters", gaussian);
  print("gaussian (strength 2), blocks 64", gaussian_blocks);
  print("positional (strength 12), blocks 64", positional_blocks);
  RecordProperty("clustered_scored_fraction", std::to_string(clustered.scored));
  RecordProperty("clustered_kept_fraction", std::to_string(clustered.kept));
  RecordProperty("clustered_k_eps_fraction", std::to_string(clustered.k_eps));
  EXPECT_LT(clustered.scored, 0.25);
  EXPECT_GE(clustered.kept, clustered.k_eps);
  EXPECT_EQ(clustered.dense, 0.0);
}

}  // namespace
