//! \file PointStatistics: add / merge / clear, the exact checkpoint serialisation (round trip and
//! rejection of corrupt, truncated or mismatched records), summarize_k against a direct
//! computation, and add_quantiles against numpy's default ("linear") quantile.

#include "core/engine/point_statistics.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/rows/row_analysis.h"

namespace tvk {
namespace {

constexpr StatisticsShape kShape{3, 2, 4, 50, false};
constexpr StatisticsShape kShapeWithRows{3, 2, 4, 50, true};

//! A random but valid row analysis for `shape` (k in [1, n], n = shape.max_n).
RowAnalysis random_row(const StatisticsShape& shape, std::mt19937_64& engine) {
  std::uniform_int_distribution<std::size_t> k_dist(1, shape.max_n);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  RowAnalysis row;
  row.n = shape.max_n;
  row.logit_mean = unit(engine) - 0.5;
  row.logit_std = unit(engine) + 0.5;
  row.first_key_mass = unit(engine);
  row.last_keys_mass = unit(engine);
  for (std::size_t e = 0; e < shape.eps; ++e) {
    row.k_eps.push_back(k_dist(engine));
    row.tau_at_k_eps.push_back(unit(engine) * 0.1);
  }
  for (std::size_t g = 0; g < shape.grid; ++g)
    row.tau_grid.push_back(unit(engine));
  for (std::size_t b = 0; b < shape.bounds; ++b) {
    for (std::size_t e = 0; e < shape.eps; ++e) {
      Certificate c;
      c.kept = std::min(shape.max_n, row.k_eps[e] + k_dist(engine) % 5);
      c.tau = unit(engine) * 0.1;
      // Every third certificate "fails" (tau > bound) so the held count is not trivial.
      c.bound = (b + e + row.k_eps[e]) % 3 == 0 ? c.tau * 0.5 : c.tau + 0.01;
      row.certificates.push_back(c);
    }
  }
  return row;
}

std::vector<RowAnalysis> random_rows(const StatisticsShape& shape, std::size_t count,
                                     std::uint64_t seed) {
  std::mt19937_64 engine(seed);
  std::vector<RowAnalysis> rows;
  for (std::size_t i = 0; i < count; ++i)
    rows.push_back(random_row(shape, engine));
  return rows;
}

TEST(PointStatisticsTest, AddKeepsExactIntegerSums) {
  const auto rows = random_rows(kShape, 37, 1);
  PointStatistics stats(kShape);
  for (const auto& row : rows)
    stats.add(row);
  ASSERT_EQ(stats.rows(), 37);
  for (std::size_t e = 0; e < kShape.eps; ++e) {
    std::int64_t sum = 0, sq = 0;
    std::vector<std::int64_t> histogram(kShape.max_n + 1, 0);
    double tau = 0.0, reduction = 0.0;
    for (const auto& row : rows) {
      const auto k = static_cast<std::int64_t>(row.k_eps[e]);
      sum += k;
      sq += k * k;
      ++histogram[row.k_eps[e]];
      tau += row.tau_at_k_eps[e];
      reduction += static_cast<double>(row.n) / static_cast<double>(k);
    }
    EXPECT_EQ(stats.k_sum(e), sum);
    EXPECT_EQ(stats.k_sq_sum(e), sq);
    const auto h = stats.k_histogram(e);
    EXPECT_EQ(std::vector<std::int64_t>(h.begin(), h.end()), histogram);
    // Sequential adds in row order: the same operations as this loop, so exactly equal.
    EXPECT_EQ(stats.tau_at_k_sum(e), tau);
    EXPECT_EQ(stats.reduction_sum(e), reduction);
    for (std::size_t b = 0; b < kShape.bounds; ++b) {
      std::int64_t kept = 0, kept_sq = 0, held = 0;
      for (const auto& row : rows) {
        const Certificate& c = row.certificates[b * kShape.eps + e];
        kept += static_cast<std::int64_t>(c.kept);
        kept_sq += static_cast<std::int64_t>(c.kept * c.kept);
        held += c.tau <= c.bound ? 1 : 0;
      }
      EXPECT_EQ(stats.bound_k_sum(b, e), kept);
      EXPECT_EQ(stats.bound_k_sq_sum(b, e), kept_sq);
      EXPECT_EQ(stats.bound_held(b, e), held);
      EXPECT_GT(held, 0);
      EXPECT_LT(held, 37);  // the fixture has failures, so "held" is really counted
    }
  }
  for (std::size_t g = 0; g < kShape.grid; ++g) {
    double sum = 0.0, sq = 0.0;
    for (const auto& row : rows) {
      sum += row.tau_grid[g];
      sq += row.tau_grid[g] * row.tau_grid[g];
    }
    EXPECT_EQ(stats.tau_grid_sum(g), sum);
    EXPECT_EQ(stats.tau_grid_sq_sum(g), sq);
  }
  EXPECT_TRUE(stats.row_values().empty());  // store_rows is off
}

TEST(PointStatisticsTest, StoredRowsReadBackEveryValueOfTheRow) {
  const auto rows = random_rows(kShapeWithRows, 5, 2);
  PointStatistics stats(kShapeWithRows);
  for (const auto& row : rows)
    stats.add(row);
  ASSERT_EQ(stats.row_value_count(), StoredRow::width(kShape.eps, kShape.bounds));
  ASSERT_EQ(stats.row_values().size(), rows.size() * stats.row_value_count());
  const std::vector<StoredRow> stored = stats.stored_rows();
  ASSERT_EQ(stored.size(), rows.size());
  for (std::size_t r = 0; r < rows.size(); ++r) {
    EXPECT_EQ(stored[r].n(), static_cast<double>(rows[r].n));
    EXPECT_EQ(stored[r].logit_mean(), rows[r].logit_mean);
    EXPECT_EQ(stored[r].logit_std(), rows[r].logit_std);
    EXPECT_EQ(stored[r].first_key_mass(), rows[r].first_key_mass);
    EXPECT_EQ(stored[r].last_keys_mass(), rows[r].last_keys_mass);
    for (std::size_t e = 0; e < kShape.eps; ++e) {
      EXPECT_EQ(stored[r].k_eps(e), static_cast<double>(rows[r].k_eps[e]));
      EXPECT_EQ(stored[r].tau_at_k_eps(e), rows[r].tau_at_k_eps[e]);
    }
    for (std::size_t b = 0; b < kShape.bounds; ++b) {
      for (std::size_t e = 0; e < kShape.eps; ++e) {
        const Certificate& c = rows[r].certificates[b * kShape.eps + e];
        EXPECT_EQ(stored[r].bound_kept(b, e), static_cast<double>(c.kept));
        EXPECT_EQ(stored[r].bound_value(b, e), c.bound);
        EXPECT_EQ(stored[r].bound_held(b, e), c.tau <= c.bound * (1 + 1e-9));
      }
    }
  }
}

TEST(PointStatisticsTest, HeldToleratesRoundingButNotRealViolations) {
  // A bound that is exact for the kept set equals tau up to the order of summation.
  const StatisticsShape shape{1, 4, 0, 10, false};
  RowAnalysis row;
  row.n = 10;
  row.k_eps = {9};
  row.tau_at_k_eps = {0.01};
  const double tau = 0.0084843272665943957;
  row.certificates = {
      Certificate{9, tau, tau},                   // equal: held
      Certificate{9, 0.008484327266594394, tau},  // 2 ulp below tau (seen in a sweep): held
      Certificate{9, tau * (1 - 1e-6), tau},      // a real violation: not held
      Certificate{10, 0.0, 0.0},                  // every key kept: held
  };
  PointStatistics stats(shape);
  stats.add(row);
  EXPECT_EQ(stats.bound_held(0, 0), 1);
  EXPECT_EQ(stats.bound_held(1, 0), 1);
  EXPECT_EQ(stats.bound_held(2, 0), 0);
  EXPECT_EQ(stats.bound_held(3, 0), 1);
}

TEST(PointStatisticsTest, MergeOfChunksMatchesOneAccumulator) {
  const auto rows = random_rows(kShapeWithRows, 53, 3);
  PointStatistics whole(kShapeWithRows);
  for (const auto& row : rows)
    whole.add(row);
  // Chunks of 8 rows (the last one short), merged in order.
  PointStatistics merged(kShapeWithRows), reversed(kShapeWithRows);
  std::vector<PointStatistics> chunks;
  for (std::size_t begin = 0; begin < rows.size(); begin += 8) {
    PointStatistics chunk(kShapeWithRows);
    for (std::size_t r = begin; r < std::min(rows.size(), begin + 8); ++r)
      chunk.add(rows[r]);
    chunks.push_back(chunk);
  }
  for (const auto& chunk : chunks)
    merged.merge(chunk);
  for (auto it = chunks.rbegin(); it != chunks.rend(); ++it)
    reversed.merge(*it);

  EXPECT_EQ(merged.rows(), whole.rows());
  EXPECT_EQ(merged.row_values(), whole.row_values());  // rows kept in item order
  for (const PointStatistics* other : {&merged, &reversed}) {
    for (std::size_t e = 0; e < kShape.eps; ++e) {
      // Integer parts are exact and commute.
      EXPECT_EQ(other->k_sum(e), whole.k_sum(e));
      EXPECT_EQ(other->k_sq_sum(e), whole.k_sq_sum(e));
      const auto a = other->k_histogram(e), b = whole.k_histogram(e);
      EXPECT_TRUE(std::equal(a.begin(), a.end(), b.begin(), b.end()));
      for (std::size_t bound = 0; bound < kShape.bounds; ++bound) {
        EXPECT_EQ(other->bound_k_sum(bound, e), whole.bound_k_sum(bound, e));
        EXPECT_EQ(other->bound_k_sq_sum(bound, e), whole.bound_k_sq_sum(bound, e));
        EXPECT_EQ(other->bound_held(bound, e), whole.bound_held(bound, e));
        EXPECT_NEAR(other->bound_price_sum(bound, e), whole.bound_price_sum(bound, e), 1e-12);
      }
      // Double parts agree to rounding (their order differs).
      EXPECT_NEAR(other->tau_at_k_sum(e), whole.tau_at_k_sum(e), 1e-12);
      EXPECT_NEAR(other->reduction_sum(e), whole.reduction_sum(e), 1e-10);
    }
  }
  // The same chunks merged in the same order again: bit-identical.
  PointStatistics again(kShapeWithRows);
  for (const auto& chunk : chunks)
    again.merge(chunk);
  EXPECT_TRUE(again == merged);
}

TEST(PointStatisticsTest, ClearKeepsTheShapeAndEmpties) {
  PointStatistics stats(kShapeWithRows);
  for (const auto& row : random_rows(kShapeWithRows, 4, 4))
    stats.add(row);
  stats.clear();
  EXPECT_TRUE(stats == PointStatistics(kShapeWithRows));
  EXPECT_EQ(stats.rows(), 0);
  EXPECT_TRUE(stats.row_values().empty());
}

TEST(PointStatisticsTest, SerializeRoundTripIsExact) {
  for (const StatisticsShape& shape : {kShape, kShapeWithRows}) {
    PointStatistics stats(shape);
    // Include values whose bits a text format would lose.
    for (auto row : random_rows(shape, 29, 5)) {
      row.tau_at_k_eps[0] = 0.1 + 1e-17 * static_cast<double>(row.k_eps[0]);
      stats.add(row);
    }
    const std::string bytes = stats.serialize();
    const PointStatistics back = PointStatistics::deserialize(bytes, shape);
    EXPECT_TRUE(back == stats);
    EXPECT_EQ(back.serialize(), bytes);
    const double a = back.tau_at_k_sum(0), b = stats.tau_at_k_sum(0);
    EXPECT_EQ(std::memcmp(&a, &b, sizeof(double)), 0);
  }
  // An empty point round-trips too.
  const PointStatistics empty(kShape);
  EXPECT_TRUE(PointStatistics::deserialize(empty.serialize(), kShape) == empty);
}

TEST(PointStatisticsTest, DeserializeRejectsEveryTruncation) {
  PointStatistics stats(kShapeWithRows);
  for (const auto& row : random_rows(kShapeWithRows, 3, 6))
    stats.add(row);
  const std::string bytes = stats.serialize();
  for (std::size_t length = 0; length < bytes.size(); ++length) {
    EXPECT_THROW((void)PointStatistics::deserialize(bytes.substr(0, length), kShapeWithRows),
                 std::runtime_error)
        << "prefix of " << length << " of " << bytes.size() << " bytes accepted";
  }
}

TEST(PointStatisticsTest, DeserializeRejectsCorruptRecords) {
  PointStatistics stats(kShapeWithRows);
  for (const auto& row : random_rows(kShapeWithRows, 3, 7))
    stats.add(row);
  const std::string bytes = stats.serialize();

  EXPECT_THROW((void)PointStatistics::deserialize("", kShapeWithRows), std::runtime_error);
  EXPECT_THROW((void)PointStatistics::deserialize(std::string(200, 'x'), kShapeWithRows),
               std::runtime_error);
  std::string bad_magic = bytes;
  bad_magic[0] ^= 0x01;
  EXPECT_THROW((void)PointStatistics::deserialize(bad_magic, kShapeWithRows), std::runtime_error);
  EXPECT_THROW((void)PointStatistics::deserialize(bytes + '\0', kShapeWithRows),
               std::runtime_error);

  // The first vector's length field (after magic and row count) set huge, then off by one.
  const std::size_t size_offset = 2 * sizeof(std::uint64_t);
  for (const std::uint64_t size : {~std::uint64_t{0}, std::uint64_t{1} << 61}) {
    std::string huge = bytes;
    std::memcpy(huge.data() + size_offset, &size, sizeof size);
    EXPECT_THROW((void)PointStatistics::deserialize(huge, kShapeWithRows), std::runtime_error);
  }
  std::uint64_t ints = 0;
  std::memcpy(&ints, bytes.data() + size_offset, sizeof ints);
  std::string shorter = bytes;
  const std::uint64_t fewer = ints - 1;
  std::memcpy(shorter.data() + size_offset, &fewer, sizeof fewer);
  EXPECT_THROW((void)PointStatistics::deserialize(shorter, kShapeWithRows), std::runtime_error);

  // A row count that disagrees with the histograms (a flipped bit in the header).
  std::string bad_rows = bytes;
  bad_rows[sizeof(std::uint64_t)] ^= 0x10;
  EXPECT_THROW((void)PointStatistics::deserialize(bad_rows, kShapeWithRows), std::runtime_error);
}

TEST(PointStatisticsTest, DeserializeRejectsAnotherShape) {
  PointStatistics stats(kShapeWithRows);
  for (const auto& row : random_rows(kShapeWithRows, 3, 8))
    stats.add(row);
  const std::string bytes = stats.serialize();
  for (StatisticsShape other :
       {StatisticsShape{2, 2, 4, 50, true}, StatisticsShape{3, 1, 4, 50, true},
        StatisticsShape{3, 2, 5, 50, true}, StatisticsShape{3, 2, 4, 49, true},
        StatisticsShape{3, 2, 4, 50, false}}) {
    EXPECT_THROW((void)PointStatistics::deserialize(bytes, other), std::runtime_error)
        << "eps " << other.eps << " bounds " << other.bounds << " grid " << other.grid << " max_n "
        << other.max_n << " store_rows " << other.store_rows;
  }
  // And the other way: a record without rows where rows are expected.
  PointStatistics plain(kShape);
  for (const auto& row : random_rows(kShape, 3, 9))
    plain.add(row);
  EXPECT_THROW((void)PointStatistics::deserialize(plain.serialize(), kShapeWithRows),
               std::runtime_error);
}

TEST(PointStatisticsTest, SummarizeKMatchesADirectComputation) {
  std::mt19937_64 engine(10);
  for (const std::size_t n : {std::size_t{1}, std::size_t{7}, std::size_t{128}, std::size_t{4096},
                              std::size_t{1} << 20}) {
    for (const std::int64_t rows : {1, 2, 3, 17, 1000}) {
      std::uniform_int_distribution<std::int64_t> dist(1, static_cast<std::int64_t>(n));
      std::vector<std::int64_t> ks;
      std::int64_t sum = 0, sq = 0;
      for (std::int64_t r = 0; r < rows; ++r) {
        ks.push_back(dist(engine));
        sum += ks.back();
        sq += ks.back() * ks.back();
      }
      // Two-pass reference on k/n in long double.
      long double mean = 0.0L;
      for (auto k : ks)
        mean += static_cast<long double>(k) / n;
      mean /= rows;
      long double m2 = 0.0L;
      for (auto k : ks) {
        const long double d = static_cast<long double>(k) / n - mean;
        m2 += d * d;
      }
      const double std_ref = rows > 1 ? static_cast<double>(std::sqrt(m2 / (rows - 1))) : 0.0;
      const double sem_ref = rows > 1 ? std_ref / std::sqrt(static_cast<double>(rows)) : 0.0;

      const KSummary s = summarize_k(sum, sq, rows, n);
      EXPECT_NEAR(s.mean, static_cast<double>(mean), 1e-15) << "n " << n << " rows " << rows;
      EXPECT_NEAR(s.std, std_ref, 1e-13 * std::max(1.0, std_ref)) << "n " << n << " rows " << rows;
      EXPECT_NEAR(s.sem, sem_ref, 1e-13 * std::max(1.0, sem_ref)) << "n " << n << " rows " << rows;
    }
  }
  // All rows equal, with rows·Σk² beyond 64 bits: exactly zero spread (the 128-bit numerator).
  const std::int64_t k = 1'000'000'000;
  const KSummary same = summarize_k(4 * k, 4 * k * k, 4, 2 * k);
  EXPECT_EQ(same.std, 0.0);
  EXPECT_EQ(same.sem, 0.0);
  EXPECT_EQ(same.mean, 0.5);
  // No rows: zeros, not NaN.
  const KSummary none = summarize_k(0, 0, 0, 10);
  EXPECT_EQ(none.mean, 0.0);
  EXPECT_EQ(none.std, 0.0);
  EXPECT_EQ(none.sem, 0.0);
}

//! numpy.quantile(values, q) with the default method "linear" (numpy >= 1.22): virtual index
//! h = n·q + (1 − q) − 1 (alpha = beta = 1), then numpy's _lerp.
double numpy_linear_quantile(const std::vector<double>& sorted, double q) {
  const double count = static_cast<double>(sorted.size());
  double h = count * q + (1.0 + q * (1.0 - 1.0 - 1.0)) - 1.0;
  h = std::clamp(h, 0.0, count - 1.0);
  const auto lower = static_cast<std::size_t>(std::floor(h));
  const std::size_t upper = std::min(lower + 1, sorted.size() - 1);
  const double t = h - static_cast<double>(lower);
  const double a = sorted[lower], b = sorted[upper];
  const double diff = b - a;
  return t >= 0.5 ? b - diff * (1.0 - t) : a + diff * t;
}

TEST(PointStatisticsTest, QuantilesMatchNumpyLinear) {
  std::mt19937_64 engine(11);
  const std::size_t n = 300;
  for (const std::size_t rows : {1, 2, 3, 4, 5, 19, 20, 21, 100, 101, 1000, 2001}) {
    for (int trial = 0; trial < 3; ++trial) {
      // Trial 2 uses few distinct ks, so many order statistics tie.
      std::uniform_int_distribution<std::size_t> dist(1, trial == 2 ? 4 : n);
      std::vector<std::int64_t> histogram(n + 1, 0);
      std::vector<double> k_over_n;
      for (std::size_t r = 0; r < rows; ++r) {
        const std::size_t k = dist(engine);
        ++histogram[k];
        k_over_n.push_back(static_cast<double>(k) / static_cast<double>(n));
      }
      std::sort(k_over_n.begin(), k_over_n.end());
      KSummary s;
      add_quantiles(s, histogram, static_cast<std::int64_t>(rows), n);
      EXPECT_NEAR(s.q05, numpy_linear_quantile(k_over_n, 0.05), 1e-14) << "rows " << rows;
      EXPECT_NEAR(s.q50, numpy_linear_quantile(k_over_n, 0.50), 1e-14) << "rows " << rows;
      EXPECT_NEAR(s.q95, numpy_linear_quantile(k_over_n, 0.95), 1e-14) << "rows " << rows;
      EXPECT_LE(s.q05, s.q50);
      EXPECT_LE(s.q50, s.q95);
    }
  }
  // Hand-checked: numpy.quantile([1, 2, 3, 4] / 4, [.05, .5, .95]) = [0.2875, 0.625, 0.9625].
  std::vector<std::int64_t> histogram = {0, 1, 1, 1, 1};
  KSummary s;
  add_quantiles(s, histogram, 4, 4);
  EXPECT_DOUBLE_EQ(s.q05, 0.2875);
  EXPECT_DOUBLE_EQ(s.q50, 0.625);
  EXPECT_DOUBLE_EQ(s.q95, 0.9625);
}

TEST(PointStatisticsTest, QuantilesFromAccumulatedHistogram) {
  const auto rows = random_rows(kShape, 41, 12);
  PointStatistics stats(kShape);
  for (const auto& row : rows)
    stats.add(row);
  for (std::size_t e = 0; e < kShape.eps; ++e) {
    std::vector<double> k_over_n;
    for (const auto& row : rows)
      k_over_n.push_back(static_cast<double>(row.k_eps[e]) / static_cast<double>(kShape.max_n));
    std::sort(k_over_n.begin(), k_over_n.end());
    KSummary s = summarize_k(stats.k_sum(e), stats.k_sq_sum(e), stats.rows(), kShape.max_n);
    add_quantiles(s, stats.k_histogram(e), stats.rows(), kShape.max_n);
    EXPECT_NEAR(s.q05, numpy_linear_quantile(k_over_n, 0.05), 1e-14);
    EXPECT_NEAR(s.q50, numpy_linear_quantile(k_over_n, 0.50), 1e-14);
    EXPECT_NEAR(s.q95, numpy_linear_quantile(k_over_n, 0.95), 1e-14);
  }
}

}  // namespace
}  // namespace tvk
