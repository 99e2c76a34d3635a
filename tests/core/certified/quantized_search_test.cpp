//! \file The quantized certified search (THEORY §8) on synthetic rows: the certificate holds
//! (true tail mass of K from the full row <= bound <= eps), K is the top of the scored keys,
//! kept <= scored, the byte and cost formulas, the dense fallback on a flat row, sinks and
//! recent keys scored without reading their codes, bad eps rejected.

#include "core/certified/quantized_search.h"
#include "core/certified/row_major_scorer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/kernels/kernel_set.h"
#include "core/rows/tail_profile.h"

namespace {

using tvk::QuantizedKeys;
using tvk::QuantizedSearchOptions;
using tvk::QuantizedSearchScratch;
using tvk::SearchResult;
using tvk::SearchStop;

//! Checks one search result against the full row.
void check_result(const SearchResult& r, const std::vector<double>& logits, double eps,
                  const QuantizedKeys& codes, const QuantizedSearchOptions& options,
                  const tvk::RowMajorScorer& scorer, const std::string& where) {
  const std::size_t n = logits.size();
  ASSERT_EQ(r.n, n) << where;
  ASSERT_TRUE(r.certified) << where;
  ASSERT_EQ(r.kept, r.kept_keys.size()) << where;
  ASSERT_EQ(r.kept, r.kept_logits.size()) << where;
  ASSERT_LE(r.kept, r.scored) << where;
  ASSERT_GE(r.kept, 1u) << where;
  EXPECT_EQ(r.kept + r.dropped_keys.size(), r.scored) << where;
  EXPECT_EQ(scorer.scored_.size(), r.scored) << where;  // each key scored once
  EXPECT_EQ(std::set<std::uint32_t>(scorer.scored_.begin(), scorer.scored_.end()).size(), r.scored)
      << where;
  EXPECT_LE(r.bound, eps) << where;
  const double tau = tvk::kept_set_tau(logits, r.kept_keys);
  EXPECT_LE(tau, r.bound) << where;
  for (std::size_t p = 0; p < r.kept; ++p) {
    EXPECT_EQ(r.kept_logits[p], logits[r.kept_keys[p]]) << where;
    if (p > 0) {
      EXPECT_TRUE(r.kept_logits[p - 1] > r.kept_logits[p] ||
                  (r.kept_logits[p - 1] == r.kept_logits[p] && r.kept_keys[p - 1] < r.kept_keys[p]))
          << where;
    }
  }
  for (std::uint32_t j : r.dropped_keys)  // K is the top of S
    EXPECT_LE(logits[j], r.kept_logits.back()) << where;
  const std::size_t exact = std::min(n, options.sinks + options.recent);
  EXPECT_EQ(r.summaries_read, n - exact) << where;
  EXPECT_DOUBLE_EQ(r.bytes, static_cast<double>(r.summaries_read) * codes.bytes_per_key() +
                                options.bytes.keys(r.scored) + options.bytes.values(r.kept))
      << where;
  EXPECT_EQ(r.cost, static_cast<double>(r.scored + r.summaries_read)) << where;
  EXPECT_EQ(r.dense_fallback, r.scored == n) << where;
  EXPECT_EQ(r.stop == SearchStop::kDenseFallback, r.dense_fallback) << where;
  if (r.dense_fallback) {  // the smallest certified top-k of the full row: >= the exact k_eps
    const tvk::TailProfile profile(logits);
    EXPECT_GE(r.kept, profile.k_eps(eps)) << where;
  }
  EXPECT_TRUE(std::isnan(r.true_tau)) << where;
}

struct Row {
  std::vector<double> keys, query;
  std::size_t n, d;
  double scale;
};

Row random_row(std::mt19937_64& rng, std::size_t n, std::size_t d, double strength) {
  Row row{std::vector<double>(n * d), std::vector<double>(d), n, d, 1.0 / std::sqrt(double(d))};
  std::normal_distribution<double> normal;
  for (double& x : row.keys)
    x = normal(rng);
  for (double& x : row.query)
    x = strength * normal(rng);
  // A few keys aligned with the query: a peaked row.
  for (std::size_t j = 0; j < n; j += 37)
    for (std::size_t c = 0; c < d; ++c)
      row.keys[j * d + c] += row.query[c] / std::max(1.0, strength) * 0.8;
  return row;
}

void run_row(const Row& row, const std::string& name, std::size_t sinks = 0,
             std::size_t recent = 0) {
  for (int bits : {8, 4}) {
    for (std::size_t group : {std::size_t{0}, std::size_t{8}}) {
      const QuantizedKeys codes =
          QuantizedKeys::build(row.keys.data(), row.n, row.d, {bits, group});
      for (double eps : {0.01, 0.05, 0.1}) {
        tvk::RowMajorScorer scorer(row.keys, row.d, row.scale);
        QuantizedSearchOptions options;
        options.eps = eps;
        options.sinks = sinks;
        options.recent = recent;
        options.bytes = {row.d, row.d};
        QuantizedSearchScratch scratch;
        const SearchResult r = tvk::quantized_search(codes, row.n, scorer, row.query.data(),
                                                     row.scale, options, scratch);
        const std::string where = name + " bits " + std::to_string(bits) + " group " +
                                  std::to_string(group) + " eps " + std::to_string(eps);
        check_result(r, scorer.all(row.query.data(), row.n), eps, codes, options, scorer, where);
        if (sinks + recent > 0 && sinks + recent < row.n) {  // exact keys scored first
          for (std::size_t i = 0; i < std::min(sinks, row.n); ++i)
            EXPECT_EQ(scorer.scored_.at(i), i) << where;
        }
      }
    }
  }
}

TEST(QuantizedSearch, CertifiesRandomRows) {
  std::mt19937_64 rng(11);
  std::size_t index = 0;
  for (std::size_t n : {1, 2, 17, 200, 1500}) {
    for (std::size_t d : {1, 5, 16, 64}) {
      for (double strength : {0.5, 3.0, 12.0}) {
        const Row row = random_row(rng, n, d, strength);
        run_row(row, "row " + std::to_string(index++) + " n " + std::to_string(n) + " d " +
                         std::to_string(d) + " strength " + std::to_string(strength));
      }
    }
  }
}

TEST(QuantizedSearch, PeakedRowsScoreFewKeys) {
  std::mt19937_64 rng(12);
  Row row = random_row(rng, 2000, 32, 1.0);
  for (std::size_t c = 0; c < 32; ++c)
    row.keys[5 * 32 + c] = row.query[c] * 30.0;  // one dominant key
  const QuantizedKeys codes = QuantizedKeys::build(row.keys.data(), row.n, row.d, {8, 0});
  tvk::RowMajorScorer scorer(row.keys, row.d, row.scale);
  QuantizedSearchOptions options;
  options.eps = 0.05;
  options.bytes = {32, 32};
  QuantizedSearchScratch scratch;
  const SearchResult r =
      tvk::quantized_search(codes, row.n, scorer, row.query.data(), row.scale, options, scratch);
  check_result(r, scorer.all(row.query.data(), row.n), 0.05, codes, options, scorer, "peaked");
  EXPECT_EQ(r.stop, SearchStop::kCertified);
  EXPECT_LT(r.scored, 20u);
  EXPECT_EQ(r.kept_keys.front(), 5u);
  EXPECT_LT(r.bytes, options.bytes.dense(row.n) / 2);
}

TEST(QuantizedSearch, FlatRowFallsBackToDense) {
  // Equal logits at eps 0.001: no unscored key can be left (|R| / n > eps), so every key is
  // scored and K is every key (tau_k = (n − k) / n), in index order.
  const std::size_t n = 300, d = 4;
  std::vector<double> keys(n * d, 0.25);
  const std::vector<double> query = {1.0, -1.0, 0.5, 2.0};
  const QuantizedKeys codes = QuantizedKeys::build(keys.data(), n, d, {8, 0});
  tvk::RowMajorScorer scorer(keys, d, 0.5);
  QuantizedSearchOptions options;
  options.eps = 0.001;
  options.bytes = {d, d};
  QuantizedSearchScratch scratch;
  const SearchResult r =
      tvk::quantized_search(codes, n, scorer, query.data(), 0.5, options, scratch);
  const std::vector<double> logits = scorer.all(query.data(), n);
  check_result(r, logits, options.eps, codes, options, scorer, "flat");
  EXPECT_TRUE(r.dense_fallback);
  EXPECT_EQ(r.stop, SearchStop::kDenseFallback);
  EXPECT_EQ(r.scored, n);
  EXPECT_EQ(r.kept, n);
  EXPECT_EQ(r.bound, 0.0);
  for (std::size_t p = 0; p < r.kept; ++p)
    EXPECT_EQ(r.kept_keys[p], p);
  // Two levels at eps 0.05: 10 keys far above 290 flat ones whose bounds are close to their
  // logits; with few unscored keys allowed the search ends dense and keeps a top-k < n.
  std::vector<double> two(n * d, 0.25);
  for (std::size_t j = 0; j < 10; ++j)
    two[j * d + 3] = 3.0;
  const QuantizedKeys two_codes = QuantizedKeys::build(two.data(), n, d, {8, 0});
  tvk::RowMajorScorer two_scorer(two, d, 0.5);
  options.eps = 0.01;
  const SearchResult t =
      tvk::quantized_search(two_codes, n, two_scorer, query.data(), 0.5, options, scratch);
  check_result(t, two_scorer.all(query.data(), n), options.eps, two_codes, options, two_scorer,
               "two levels");
}

TEST(QuantizedSearch, SinksAndRecentAreScoredWithoutCodes) {
  std::mt19937_64 rng(13);
  for (std::size_t n : {3, 10, 500}) {
    const Row row = random_row(rng, n, 16, 2.0);
    run_row(row, "sinks 4 recent 64 n " + std::to_string(n), 4, 64);
    run_row(row, "sinks 1 n " + std::to_string(n), 1, 0);
    run_row(row, "recent 8 n " + std::to_string(n), 0, 8);
  }
  // With sinks + recent covering the row, no codes are read and every key is exact.
  const Row row = random_row(rng, 20, 8, 2.0);
  const QuantizedKeys codes = QuantizedKeys::build(row.keys.data(), row.n, row.d, {8, 0});
  tvk::RowMajorScorer scorer(row.keys, row.d, row.scale);
  QuantizedSearchOptions options;
  options.sinks = 12;
  options.recent = 12;
  QuantizedSearchScratch scratch;
  const SearchResult r =
      tvk::quantized_search(codes, row.n, scorer, row.query.data(), row.scale, options, scratch);
  EXPECT_EQ(r.summaries_read, 0u);
  EXPECT_EQ(r.scored, 20u);
  EXPECT_TRUE(r.dense_fallback);
}

TEST(QuantizedSearch, SearchesAPrefixOfTheCodes) {
  std::mt19937_64 rng(14);
  const Row row = random_row(rng, 400, 16, 3.0);
  const QuantizedKeys codes = QuantizedKeys::build(row.keys.data(), row.n, row.d, {4, 8});
  for (std::size_t count : {1, 50, 399}) {
    tvk::RowMajorScorer scorer(row.keys, row.d, row.scale);
    QuantizedSearchOptions options;
    QuantizedSearchScratch scratch;
    const SearchResult r =
        tvk::quantized_search(codes, count, scorer, row.query.data(), row.scale, options, scratch);
    check_result(r, scorer.all(row.query.data(), count), options.eps, codes, options, scorer,
                 "prefix " + std::to_string(count));
    for (std::uint32_t j : scorer.scored_)
      EXPECT_LT(j, count);
  }
}

TEST(QuantizedSearch, LooseBoundFarAboveTheRowStillStops) {
  // int4, one scale per key: key 0 = (7e6, 0.45e6) has Δ = 1e6 and radius 0.45e6, so for
  // q = (0, 1000) its upper bound is ~9e8 above its logit and every other weight underflows
  // against it; once key 0 is scored (it dominates the row) the search must stop.
  const std::size_t n = 200, d = 2;
  std::vector<double> keys(n * d, 0.0);
  keys[0] = 7e6;
  keys[1] = 0.45e6;
  for (std::size_t j = 1; j < n; ++j)
    keys[j * d + 1] = (j % 2 ? 1.0 : -1.0) * static_cast<double>(j % 5);
  const std::vector<double> query = {0.0, 1000.0};
  const QuantizedKeys codes = QuantizedKeys::build(keys.data(), n, d, {4, 0});
  tvk::RowMajorScorer scorer(keys, d, 1.0);
  QuantizedSearchOptions options;
  options.bytes = {d, d};
  QuantizedSearchScratch scratch;
  const SearchResult r =
      tvk::quantized_search(codes, n, scorer, query.data(), 1.0, options, scratch);
  check_result(r, scorer.all(query.data(), n), options.eps, codes, options, scorer, "loose");
  EXPECT_EQ(r.stop, SearchStop::kCertified);
  EXPECT_EQ(r.kept_keys.front(), 0u);
  EXPECT_LT(r.scored, 10u);
}

TEST(QuantizedSearch, RejectsBadArguments) {
  const std::vector<double> keys = {1.0, 2.0};
  const QuantizedKeys codes = QuantizedKeys::build(keys.data(), 1, 2, {8, 0});
  tvk::RowMajorScorer scorer(keys, 2, 1.0);
  QuantizedSearchScratch scratch;
  for (double eps : {0.0, 1.0, -0.1, std::nan("")}) {
    QuantizedSearchOptions options;
    options.eps = eps;
    EXPECT_THROW(tvk::quantized_search(codes, 1, scorer, keys.data(), 1.0, options, scratch),
                 std::invalid_argument);
  }
  QuantizedSearchOptions options;
  EXPECT_THROW(tvk::quantized_search(codes, 2, scorer, keys.data(), 1.0, options, scratch),
               std::invalid_argument);
}

}  // namespace
