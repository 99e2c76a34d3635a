//! \file Synthetic q/K/V families: shapes, determinism from the stream, float32 rounding, the
//! logit law of Gaussian keys, the query's alignment to one cluster, positional locality, and
//! parameter validation.

#include "core/certified/qkv_models.h"

#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <vector>
#include "core/numerics/eigen.h"

#include "core/certified/cells.h"
#include "core/certified/logits.h"
#include "core/random/stream.h"

namespace {

using tvk::QkvFamily;
using tvk::QkvParameters;
using tvk::QkvRow;
using tvk::RandomStream;

constexpr QkvFamily kFamilies[] = {QkvFamily::kGaussian, QkvFamily::kClustered,
                                   QkvFamily::kPositional};

TEST(QkvModels, ShapesAndScale) {
  for (QkvFamily family : kFamilies) {
    QkvParameters p;
    p.family = family;
    p.n = 37;
    p.d = 5;
    p.dv = 3;
    RandomStream a(1), b(2);
    const QkvRow row = tvk::sample_row(p, a, b);
    EXPECT_EQ(row.query.size(), 5);
    EXPECT_EQ(row.keys.rows(), 37);
    EXPECT_EQ(row.keys.cols(), 5);
    EXPECT_EQ(row.values.rows(), 37);
    EXPECT_EQ(row.values.cols(), 3);
    EXPECT_DOUBLE_EQ(row.scale, 1.0 / std::sqrt(5.0));
    EXPECT_NEAR(row.scale * row.query.norm(), p.strength, 1e-12 * p.strength);
    EXPECT_TRUE(row.keys.allFinite() && row.values.allFinite() && row.query.allFinite());
    p.scale = 0.3;
    EXPECT_EQ(tvk::qkv_scale(p), 0.3);
    EXPECT_EQ(tvk::parse_qkv_family(tvk::qkv_family_name(family)), family);
  }
  EXPECT_THROW(tvk::parse_qkv_family("uniform"), std::invalid_argument);
}

TEST(QkvModels, DeterministicFromTheStream) {
  for (QkvFamily family : kFamilies) {
    QkvParameters p;
    p.family = family;
    p.n = 64;
    p.d = 8;
    RandomStream k1 = tvk::make_stream(7, 0, 3, tvk::StreamPurpose::kKeys);
    RandomStream q1 = tvk::make_stream(7, 0, 3, tvk::StreamPurpose::kQuery);
    RandomStream k2 = tvk::make_stream(7, 0, 3, tvk::StreamPurpose::kKeys);
    RandomStream q2 = tvk::make_stream(7, 0, 3, tvk::StreamPurpose::kQuery);
    const QkvRow a = tvk::sample_row(p, k1, q1), b = tvk::sample_row(p, k2, q2);
    EXPECT_EQ(a.keys, b.keys);
    EXPECT_EQ(a.values, b.values);
    EXPECT_EQ(a.query, b.query);
    EXPECT_EQ(a.target, b.target);
    RandomStream k3 = tvk::make_stream(7, 0, 4, tvk::StreamPurpose::kKeys);
    const tvk::QkvKeySet other = tvk::sample_key_set(p, k3);
    EXPECT_NE(a.keys, other.keys);
    // A second query of the same key set leaves the keys alone.
    RandomStream k4 = tvk::make_stream(7, 0, 3, tvk::StreamPurpose::kKeys);
    const tvk::QkvKeySet set = tvk::sample_key_set(p, k4);
    EXPECT_EQ(set.keys, a.keys);
  }
}

TEST(QkvModels, Float32RoundsEveryEntry) {
  for (QkvFamily family : kFamilies) {
    QkvParameters p;
    p.family = family;
    p.n = 50;
    p.d = 16;
    p.float32 = true;
    RandomStream a(3), b(4);
    const QkvRow row = tvk::sample_row(p, a, b);
    EXPECT_EQ(row.keys, row.keys.cast<float>().cast<double>());
    EXPECT_EQ(row.values, row.values.cast<float>().cast<double>());
    EXPECT_EQ(row.query, row.query.cast<float>().cast<double>());
  }
}

TEST(QkvModels, GaussianLogitsHaveTheRequestedSpread) {
  QkvParameters p;
  p.family = QkvFamily::kGaussian;
  p.n = 8192;
  p.d = 32;
  p.strength = 2.0;
  RandomStream a(5), b(6);
  const QkvRow row = tvk::sample_row(p, a, b);
  const std::vector<double> s = tvk::row_logits(row.keys, row.query, row.scale);
  double mean = 0.0, square = 0.0;
  for (double x : s) {
    mean += x;
    square += x * x;
  }
  mean /= static_cast<double>(s.size());
  const double sd = std::sqrt(square / static_cast<double>(s.size()) - mean * mean);
  EXPECT_NEAR(mean, 0.0, 0.1);
  EXPECT_NEAR(sd, 2.0, 0.1);
}

TEST(QkvModels, ClusteredQueryIsAlignedToOneCluster) {
  QkvParameters p;
  p.family = QkvFamily::kClustered;
  p.n = 1024;
  p.d = 64;
  p.clusters = 16;
  RandomStream a(7), b(8);
  const tvk::QkvKeySet set = tvk::sample_key_set(p, a);
  ASSERT_EQ(set.latent.rows(), 16);
  ASSERT_EQ(set.labels.size(), 1024u);
  std::size_t target = 99;
  const Eigen::VectorXd q = tvk::sample_query(p, set, b, &target);
  ASSERT_LT(target, 16u);
  const std::vector<double> s = tvk::row_logits(set.keys, q, tvk::qkv_scale(p));
  double aligned = 0.0, others = 0.0;
  std::size_t n_aligned = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (set.labels[i] == target) {
      aligned += s[i];
      ++n_aligned;
    } else {
      others += s[i];
    }
  }
  aligned /= static_cast<double>(n_aligned);
  others /= static_cast<double>(s.size() - n_aligned);
  EXPECT_NEAR(aligned, p.strength, 0.1 * p.strength);
  EXPECT_LT(std::abs(others), 0.3 * p.strength);
  for (Eigen::Index c = 0; c < set.latent.rows(); ++c)
    EXPECT_NEAR(set.latent.row(c).norm(), 1.0, 1e-12);
}

TEST(QkvModels, PositionalKeysAreLocal) {
  QkvParameters p;
  p.family = QkvFamily::kPositional;
  p.n = 1024;
  p.d = 64;
  p.correlation_length = 32.0;
  double near = 0.0, far = 0.0;
  std::size_t n_near = 0, n_far = 0;
  for (std::uint64_t seed = 0; seed < 8; ++seed) {
    RandomStream a(100 + seed), b(200 + seed);
    const QkvRow row = tvk::sample_row(p, a, b);
    const std::vector<double> s = tvk::row_logits(row.keys, row.query, row.scale);
    for (std::size_t i = 0; i < s.size(); ++i) {
      const auto gap = static_cast<double>(i > row.target ? i - row.target : row.target - i);
      if (gap <= 4.0) {
        near += s[i];
        ++n_near;
      } else if (gap >= 200.0) {
        far += s[i];
        ++n_far;
      }
    }
  }
  near /= static_cast<double>(n_near);
  far /= static_cast<double>(n_far);
  EXPECT_GT(near, 0.7 * p.strength);
  EXPECT_LT(std::abs(far), 0.2 * p.strength);
}

TEST(QkvModels, RejectsBadParameters) {
  auto bad = [](auto edit) {
    QkvParameters p;
    edit(p);
    RandomStream rng(1);
    EXPECT_THROW(tvk::sample_key_set(p, rng), std::invalid_argument);
  };
  bad([](QkvParameters& p) { p.n = 0; });
  bad([](QkvParameters& p) { p.d = 0; });
  bad([](QkvParameters& p) { p.dv = 0; });
  bad([](QkvParameters& p) { p.clusters = 0; });
  bad([](QkvParameters& p) { p.scale = -1.0; });
  bad([](QkvParameters& p) { p.strength = std::nan(""); });
  bad([](QkvParameters& p) { p.spread = -0.1; });
  bad([](QkvParameters& p) { p.correlation_length = 0.0; });
  bad([](QkvParameters& p) { p.query_noise = -1.0; });
  bad([](QkvParameters& p) { p.value_noise = HUGE_VAL; });
}

}  // namespace
