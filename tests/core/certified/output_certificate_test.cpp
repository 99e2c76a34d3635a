//! \file Output-level certificate (THEORY §3): on every row the certificate from value summaries
//! is >= the exact error (checked against a long double reference), O2–O5 bound it too and
//! agree with core/certified/output_error.h on Top-k sets, no unscored value is read, and a kept
//! set with every key has error and certificate 0.

#include "core/certified/output_certificate.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/random/uniform_int_distribution.hpp>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>
#include "core/numerics/eigen.h"

#include "core/certified/cells.h"
#include "core/certified/delta_k_search.h"
#include "core/certified/logits.h"
#include "core/certified/mc_search.h"
#include "core/certified/output_error.h"
#include "core/certified/qkv_models.h"
#include "core/certified/search.h"
#include "core/random/stream.h"
#include "core/rows/tail_profile.h"

namespace {

using tvk::CellKind;
using tvk::CellOptions;
using tvk::KeptMode;
using tvk::KeyCells;
using tvk::McSearchOptions;
using tvk::OutputCertificate;
using tvk::QkvFamily;
using tvk::QkvParameters;
using tvk::QkvRow;
using tvk::RandomStream;
using tvk::SearchResult;

//! A random row from the synthetic families (n <= 160), sometimes float32, with a constant
//! value offset (means far from 0) or duplicated values.
QkvRow random_row(RandomStream& rng, std::string& name, std::size_t index) {
  boost::random::uniform_int_distribution<int> pick(0, 99);
  QkvParameters p;
  static constexpr QkvFamily kFamilies[] = {QkvFamily::kGaussian, QkvFamily::kClustered,
                                            QkvFamily::kPositional};
  p.family = kFamilies[pick(rng) % 3];
  p.n = boost::random::uniform_int_distribution<std::size_t>(1, pick(rng) < 30 ? 8 : 160)(rng);
  static constexpr std::size_t kDims[] = {1, 3, 8, 16};
  p.d = kDims[pick(rng) % 4];
  p.dv = kDims[pick(rng) % 4];
  static constexpr double kStrengths[] = {0.0, 1.0, 3.0, 8.0, 12.0, 30.0};
  p.strength = kStrengths[pick(rng) % 6];
  p.spread = pick(rng) < 50 ? 0.1 : 0.5;
  p.clusters = boost::random::uniform_int_distribution<std::size_t>(1, 8)(rng);
  p.correlation_length = 8.0;
  p.value_noise = pick(rng) < 20 ? 0.0 : 0.5;
  p.float32 = pick(rng) < 30;
  QkvRow row = tvk::sample_row(p, rng, rng);
  name = tvk::qkv_family_name(p.family) + " n=" + std::to_string(p.n) +
         " d=" + std::to_string(p.d) + " dv=" + std::to_string(p.dv) +
         " strength=" + std::to_string(p.strength) + " #" + std::to_string(index);
  const int tweak = pick(rng);
  if (tweak < 15) {
    row.values.array() += 1000.0;
    name += " offset";
  } else if (tweak < 25) {
    row.values.rowwise() = row.values.row(0);
    name += " equal values";
  }
  return row;
}

//! ‖Σ_{j∉K} P_j (v_j − μ_K)‖₂ in long double with μ_K in long double: the exact error.
long double reference_error(const std::vector<double>& logits, const Eigen::MatrixXd& values,
                            const std::vector<char>& kept) {
  const long double top = *std::max_element(logits.begin(), logits.end());
  const std::size_t n = logits.size();
  std::vector<long double> w(n);
  long double z = 0.0L, head = 0.0L;
  for (std::size_t i = 0; i < n; ++i) {
    w[i] = std::exp(static_cast<long double>(logits[i]) - top);
    z += w[i];
    if (kept[i]) head += w[i];
  }
  long double squared = 0.0L;
  for (Eigen::Index c = 0; c < values.cols(); ++c) {
    long double mean = 0.0L;
    for (std::size_t i = 0; i < n; ++i) {
      if (kept[i]) mean += w[i] * values(static_cast<Eigen::Index>(i), c);
    }
    mean /= head;
    long double diff = 0.0L;
    for (std::size_t i = 0; i < n; ++i) {
      if (!kept[i]) diff += w[i] * (values(static_cast<Eigen::Index>(i), c) - mean);
    }
    diff /= z;
    squared += diff * diff;
  }
  return std::sqrt(squared);
}

//! Checks one selection; returns false after the first failure.
bool check(const std::string& where, const SearchResult& r, const QkvRow& row,
           const KeyCells* cells, const std::vector<double>& logits) {
  const OutputCertificate c = tvk::output_certificate(r, row.values, cells, logits);
  std::vector<char> kept(logits.size(), 0);
  for (std::uint32_t i : r.kept_keys)
    kept[i] = 1;
  const long double exact = reference_error(logits, row.values, kept);
  const double largest = row.values.rowwise().norm().maxCoeff();
  auto fail = [&](const std::string& what) {
    ADD_FAILURE() << where << ": " << what << " (kept " << r.kept << " of " << r.n << ", tau "
                  << c.tau << ", bound " << c.tau_bound << ", exact " << c.exact << " reference "
                  << static_cast<double>(exact) << ", certificate " << c.certificate << ")";
    return false;
  };
  if (!(c.certificate >= c.exact)) return fail("certificate < exact");
  if (static_cast<long double>(c.certificate) < exact * (1.0L - 1e-15L)) {
    return fail("certificate < long double exact");
  }
  if (std::abs(static_cast<long double>(c.exact) - exact) >
      1e-10L * exact + 1e-13L * static_cast<long double>(c.tau * largest)) {
    return fail("exact differs from the long double reference");
  }
  if (c.tau != r.true_tau) return fail("tau differs from the search's true tau");
  // The oracle bounds are computed from the values directly: where the error is pure rounding
  // noise (equal values) they may sit below the computed exact error by that noise.
  const double floor = c.exact * (1.0 - 1e-12) - 1e-13 * c.tau * largest;
  if (!(c.diameter >= floor) || !(c.head_radius >= floor) || !(c.variance >= floor) ||
      !(c.generic >= floor)) {
    return fail("an oracle bound < exact");
  }
  if (c.certificate != tvk::certified_output_bound(r, row.values, cells)) {
    return fail("certificate differs from certified_output_bound");
  }
  if (c.exact > 0.0 && std::abs(c.certificate_ratio - c.certificate / c.exact) > 0.0) {
    return fail("ratio");
  }
  if (r.kept == r.n && (c.certificate != 0.0 || c.exact != 0.0)) return fail("K = all not 0");
  return true;
}

TEST(OutputCertificate, BoundsTheExactErrorOnEveryRow) {
  RandomStream rng(0x0c01);
  const tvk::DeltaKSearch delta_k("b3", {}, 1, 2);
  std::size_t checked = 0;
  std::vector<double> ratios;
  for (std::size_t index = 0; index < 800 && !HasFailure(); ++index) {
    std::string name;
    const QkvRow row = random_row(rng, name, index);
    const std::vector<double> logits = tvk::row_logits(row.keys, row.query, row.scale);
    for (CellKind kind : {CellKind::kBlocks, CellKind::kClusters}) {
      const KeyCells cells(row.keys, row.values,
                           CellOptions{.kind = kind, .block = 1 + index % 12, .clusters = 5});
      for (KeptMode mode : {KeptMode::kScored, KeptMode::kTopk}) {
        for (double eps : {0.001, 0.01, 0.1}) {
          McSearchOptions options;
          options.eps = eps;
          options.kept = mode;
          const SearchResult r = tvk::mc_search(cells, row.query, row.scale, options);
          if (!check(name + " " + tvk::cell_kind_name(kind) + " " + tvk::kept_mode_name(mode) +
                         " eps " + std::to_string(eps),
                     r, row, &cells, logits)) {
            return;
          }
          ++checked;
          const OutputCertificate c = tvk::output_certificate(r, row.values, &cells, logits, false);
          if (c.exact > 1e-12 * c.tau * row.values.rowwise().norm().maxCoeff()) {
            ratios.push_back(c.certificate_ratio);  // errors above rounding noise
          }
        }
      }
    }
    const tvk::TailProfile profile(logits);
    for (double eps : {0.01, 0.1}) {
      if (!check(name + " delta-k", delta_k.run(profile, eps), row, nullptr, logits)) return;
      ++checked;
    }
  }
  EXPECT_EQ(checked, 800u * 14u);
  ASSERT_GT(ratios.size(), 2000u);
  std::sort(ratios.begin(), ratios.end());
  std::printf("certificate/exact over %zu MC selections: quartiles %.2f %.2f %.2f\n", ratios.size(),
              ratios[ratios.size() / 4], ratios[ratios.size() / 2], ratios[3 * ratios.size() / 4]);
}

TEST(OutputCertificate, OracleBoundsMatchOutputErrorOnTopkSets) {
  RandomStream rng(0x0c02);
  const tvk::DeltaKSearch delta_k("b2");
  for (std::size_t index = 0; index < 200; ++index) {
    std::string name;
    const QkvRow row = random_row(rng, name, index);
    const std::vector<double> logits = tvk::row_logits(row.keys, row.query, row.scale);
    const tvk::TailProfile profile(logits);
    const SearchResult r = delta_k.run(profile, 0.05);
    const OutputCertificate c = tvk::output_certificate(r, row.values, nullptr, logits);
    const tvk::OutputError e = tvk::output_error(profile, row.values, r.kept);
    const double largest = row.values.rowwise().norm().maxCoeff();
    const double slack = 1e-12 * e.tau * largest + 1e-300;
    EXPECT_EQ(c.tau, e.tau) << name;
    EXPECT_NEAR(c.exact, e.factorised, 1e-9 * e.factorised + slack) << name;
    EXPECT_NEAR(c.diameter, e.diameter, 1e-12 * e.diameter + slack) << name;
    EXPECT_NEAR(c.head_radius, e.head_radius, 1e-9 * e.head_radius + slack) << name;
    EXPECT_NEAR(c.variance, e.variance, 1e-9 * e.variance + slack) << name;
    EXPECT_NEAR(c.generic, e.generic, 1e-12 * e.generic + slack) << name;
  }
}

TEST(OutputCertificate, ReadsNoUnscoredValue) {
  RandomStream rng(0x0c03);
  std::size_t with_unscored = 0;
  for (std::size_t index = 0; index < 300; ++index) {
    std::string name;
    const QkvRow row = random_row(rng, name, index);
    const KeyCells cells(row.keys, row.values, CellOptions{.kind = CellKind::kClusters});
    const SearchResult r = tvk::mc_search(cells, row.query, row.scale, McSearchOptions{});
    Eigen::MatrixXd poisoned = row.values;
    std::vector<char> scored(r.n, 0);
    for (std::uint32_t i : r.kept_keys)
      scored[i] = 1;
    for (std::uint32_t i : r.dropped_keys)
      scored[i] = 1;
    for (std::size_t i = 0; i < r.n; ++i) {
      if (!scored[i]) poisoned.row(static_cast<Eigen::Index>(i)).setConstant(std::nan(""));
    }
    with_unscored += r.scored < r.n;
    const double clean = tvk::certified_output_bound(r, row.values, &cells);
    const double blind = tvk::certified_output_bound(r, poisoned, &cells);
    ASSERT_TRUE(std::isfinite(blind)) << name;
    ASSERT_EQ(clean, blind) << name;
  }
  EXPECT_GT(with_unscored, 50u);
}

TEST(OutputCertificate, HandExample) {
  // Keys 5, 0, 0, 0 (d = 1, q = 1), blocks of 2; values 0, 0, 2, 4 (dv = 1). The search keeps
  // key 0 after visiting block 0; key 1 is scored and dropped, block 1 is unvisited.
  Eigen::MatrixXd keys(4, 1), values(4, 1);
  keys << 5.0, 0.0, 0.0, 0.0;
  values << 0.0, 0.0, 2.0, 4.0;
  const KeyCells cells(keys, values, CellOptions{.kind = CellKind::kBlocks, .block = 2});
  McSearchOptions options;
  options.eps = 0.05;
  options.kept = KeptMode::kTopk;
  const SearchResult r = tvk::mc_search(cells, Eigen::VectorXd::Ones(1), 1.0, options);
  ASSERT_EQ(r.kept, 1u);
  ASSERT_EQ(r.dropped_keys.size(), 1u);
  ASSERT_EQ(r.unvisited_cells.size(), 1u);
  // μ_K = 0; D = max(|0 − 0|, min(|3 − 0| + 1, max(|2|, |4|))) = 4.
  EXPECT_NEAR(tvk::tail_radius_bound(r, values, &cells), 4.0, 1e-12);
  const OutputCertificate c =
      tvk::output_certificate(r, values, &cells, std::vector<double>{5.0, 0.0, 0.0, 0.0});
  const double z = std::exp(5.0) + 3.0;
  EXPECT_NEAR(c.exact, (2.0 + 4.0) / z, 1e-14);
  EXPECT_NEAR(c.tau, 3.0 / z, 1e-15);
  EXPECT_NEAR(c.certificate, r.bound * 4.0, 1e-12);
  EXPECT_GE(c.certificate, c.exact);
  EXPECT_NEAR(c.head_radius, c.tau * 4.0, 1e-14);
  EXPECT_NEAR(c.certificate_ratio, c.certificate / c.exact, 1e-12);
}

TEST(OutputCertificate, RejectsBadArguments) {
  Eigen::MatrixXd keys = Eigen::MatrixXd::Zero(6, 2);
  keys(0, 0) = 10.0;
  const KeyCells with_values(keys, Eigen::MatrixXd::Ones(6, 3), CellOptions{.block = 2});
  const KeyCells without_values(keys, CellOptions{.block = 2});
  const SearchResult r =
      tvk::mc_search(with_values, Eigen::Vector2d(1.0, 0.0), 1.0, McSearchOptions{.eps = 0.1});
  ASSERT_FALSE(r.unvisited_cells.empty());
  EXPECT_THROW(tvk::certified_output_bound(r, Eigen::MatrixXd::Ones(5, 3), &with_values),
               std::invalid_argument);
  EXPECT_THROW(tvk::certified_output_bound(r, Eigen::MatrixXd::Ones(6, 3), nullptr),
               std::invalid_argument);
  EXPECT_THROW(tvk::certified_output_bound(r, Eigen::MatrixXd::Ones(6, 3), &without_values),
               std::invalid_argument);
  EXPECT_THROW(tvk::output_certificate(r, Eigen::MatrixXd::Ones(6, 3), &with_values,
                                       std::vector<double>(5, 0.0)),
               std::invalid_argument);
}

}  // namespace
