//! \file Cell summaries (THEORY §2 B5, §6): the partition covers every key once, the summaries
//! match their members, k-means is deterministic and finds separated clusters, and every upper
//! bound U_j is >= every computed logit of its cell (any summation order) on thousands of random
//! rows, float32-rounded keys and adversarial key sets.

#include "core/certified/cells.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/random/normal_distribution.hpp>
#include <boost/random/uniform_int_distribution.hpp>
#include <boost/random/uniform_real_distribution.hpp>
#include <cmath>
#include <limits>
#include <set>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>
#include "core/numerics/eigen.h"

#include "core/certified/kmeans.h"
#include "core/certified/logits.h"
#include "core/certified/qkv_models.h"
#include "core/random/stream.h"

namespace {

using tvk::CellKind;
using tvk::CellOptions;
using tvk::KeyCells;
using tvk::QkvFamily;
using tvk::QkvParameters;
using tvk::RandomStream;
using tvk::UpperBoundKind;

constexpr UpperBoundKind kAllBounds[] = {UpperBoundKind::kBox, UpperBoundKind::kCentroidRadius,
                                         UpperBoundKind::kMin};

//! A key set with a query, named for failure messages.
struct NamedKeys {
  std::string name;
  Eigen::MatrixXd keys;
  Eigen::VectorXd query;
  double scale = 1.0;
};

//! Random key sets from the synthetic families with random shapes, sometimes float32-rounded,
//! rescaled by huge or tiny factors, with duplicated keys or a zero query.
NamedKeys random_keys(RandomStream& rng, std::size_t index) {
  boost::random::uniform_int_distribution<int> pick(0, 99);
  QkvParameters p;
  static constexpr QkvFamily kFamilies[] = {QkvFamily::kGaussian, QkvFamily::kClustered,
                                            QkvFamily::kPositional};
  p.family = kFamilies[pick(rng) % 3];
  const int size_class = pick(rng);
  p.n = boost::random::uniform_int_distribution<std::size_t>(
      1, size_class < 20 ? 4 : (size_class < 60 ? 40 : 200))(rng);
  static constexpr std::size_t kDims[] = {1, 2, 3, 5, 8, 16, 33, 64};
  p.d = kDims[pick(rng) % 8];
  p.dv = 2;
  static constexpr double kStrengths[] = {0.0, 0.5, 2.0, 6.0, 12.0, 40.0};
  p.strength = kStrengths[pick(rng) % 6];
  static constexpr double kSpreads[] = {0.0, 0.01, 0.25, 1.0};
  p.spread = kSpreads[pick(rng) % 4];
  p.clusters = boost::random::uniform_int_distribution<std::size_t>(1, 12)(rng);
  p.correlation_length = pick(rng) < 50 ? 4.0 : 64.0;
  static constexpr double kScales[] = {0.0, 1e-3, 1.0, 1e3};
  p.scale = kScales[pick(rng) % 4];
  p.float32 = pick(rng) < 30;
  tvk::QkvRow row = tvk::sample_row(p, rng, rng);
  std::string name = tvk::qkv_family_name(p.family) + " n=" + std::to_string(p.n) +
                     " d=" + std::to_string(p.d) + " strength=" + std::to_string(p.strength) +
                     " spread=" + std::to_string(p.spread) + " #" + std::to_string(index);
  if (p.float32) name += " float32";
  const int tweak = pick(rng);
  if (tweak < 8) {  // keys and query rescaled: huge and tiny norms (logits stay finite)
    const double factor = pick(rng) < 50 ? 1e100 : 1e-100;
    row.keys *= factor;
    row.query /= std::sqrt(factor);
    name += " rescaled";
  } else if (tweak < 16) {  // duplicated keys
    for (Eigen::Index i = 1; i < row.keys.rows(); i += 2)
      row.keys.row(i) = row.keys.row(i - 1);
    name += " duplicates";
  } else if (tweak < 20) {
    row.query.setZero();
    name += " zero query";
  }
  return NamedKeys{name, row.keys, row.query, row.scale};
}

//! Uniform(−1, 1) entries from a Boost distribution (Eigen's Random uses std::rand).
Eigen::MatrixXd uniform_matrix(Eigen::Index rows, Eigen::Index cols, RandomStream& rng) {
  boost::random::uniform_real_distribution<double> unit(-1.0, 1.0);
  return Eigen::MatrixXd::NullaryExpr(rows, cols,
                                      [&](Eigen::Index, Eigen::Index) { return unit(rng); });
}

Eigen::VectorXd uniform_vector(Eigen::Index size, RandomStream& rng) {
  return uniform_matrix(size, 1, rng).col(0);
}

//! Logits of key i by several summation orders a GPU or BLAS might use: the canonical one,
//! Eigen's matrix-vector product, a plain sequential loop, and the scale applied to q first.
std::vector<double> logits_all_orders(const NamedKeys& k, Eigen::Index i) {
  const auto d = static_cast<std::size_t>(k.keys.cols());
  const Eigen::VectorXd key = k.keys.row(i).transpose();
  std::vector<double> out;
  out.push_back(tvk::key_logit(k.query.data(), key.data(), d, k.scale));
  out.push_back(k.scale * key.dot(k.query));
  double sequential = 0.0, prescaled = 0.0, backwards = 0.0;
  for (std::size_t e = 0; e < d; ++e) {
    sequential += k.query[static_cast<Eigen::Index>(e)] * key[static_cast<Eigen::Index>(e)];
    prescaled +=
        (k.scale * k.query[static_cast<Eigen::Index>(e)]) * key[static_cast<Eigen::Index>(e)];
  }
  for (std::size_t e = d; e-- > 0;)
    backwards += k.query[static_cast<Eigen::Index>(e)] * key[static_cast<Eigen::Index>(e)];
  out.push_back(k.scale * sequential);
  out.push_back(prescaled);
  out.push_back(k.scale * backwards);
  return out;
}

//! Checks U_j >= every computed logit of cell j for every bound kind; returns the cells checked.
std::size_t check_bounds(const NamedKeys& k, const KeyCells& cells) {
  std::size_t checked = 0;
  std::vector<double> box(cells.cells()), centroid(cells.cells()), both(cells.cells());
  cells.upper_bounds(k.query, k.scale, UpperBoundKind::kBox, box);
  cells.upper_bounds(k.query, k.scale, UpperBoundKind::kCentroidRadius, centroid);
  cells.upper_bounds(k.query, k.scale, UpperBoundKind::kMin, both);
  for (std::size_t j = 0; j < cells.cells(); ++j) {
    EXPECT_EQ(both[j], std::min(box[j], centroid[j])) << k.name << " cell " << j;
    std::vector<double> scored(cells.cell_size(j));
    cells.score_cell(k.query, k.scale, j, scored);
    for (std::size_t p = 0; p < scored.size(); ++p) {
      const auto i = static_cast<Eigen::Index>(cells.members(j)[p]);
      const std::vector<double> orders = logits_all_orders(k, i);
      EXPECT_EQ(scored[p], orders[0]) << k.name;
      for (double s : orders) {
        if (!(s <= box[j]) || !(s <= centroid[j])) {
          ADD_FAILURE() << k.name << ": cell " << j << " key " << i << " logit " << s << " box "
                        << box[j] << " centroid-radius " << centroid[j];
          return checked;
        }
      }
    }
    ++checked;
  }
  return checked;
}

TEST(CertifiedCells, UpperBoundsHoldOnEveryCellOfRandomRows) {
  RandomStream rng(0xce11);
  boost::random::uniform_int_distribution<std::size_t> block(1, 24), clusters(1, 10);
  std::size_t cells_checked = 0, rows = 0;
  for (std::size_t index = 0; index < 2500; ++index) {
    const NamedKeys k = random_keys(rng, index);
    CellOptions blocks;
    blocks.kind = CellKind::kBlocks;
    blocks.block = block(rng);
    cells_checked += check_bounds(k, KeyCells(k.keys, blocks));
    CellOptions clustered;
    clustered.kind = CellKind::kClusters;
    clustered.clusters = clusters(rng);
    clustered.iterations = 5;
    cells_checked += check_bounds(k, KeyCells(k.keys, clustered));
    ++rows;
    if (HasFailure()) break;
  }
  EXPECT_EQ(rows, 2500u);
  EXPECT_GT(cells_checked, 20000u);
}

//! Key sets built to break naive bounds.
std::vector<NamedKeys> adversarial_keys() {
  std::vector<NamedKeys> out;
  RandomStream rng(0xad5e);
  auto add = [&out](std::string name, Eigen::MatrixXd keys, Eigen::VectorXd query, double scale) {
    out.push_back(NamedKeys{std::move(name), std::move(keys), std::move(query), scale});
  };
  Eigen::MatrixXd keys(6, 3);
  keys << 1e16, 1.0, -1e16, 1e16, 1.0, -1e16, -1e16, 3.0, 1e16, 1.0, 2.0, 3.0, 0.1, 0.2, 0.3, 1e16,
      1e16, 1e16;
  add("cancellation", keys, Eigen::Vector3d(1.0, 1.0, 1.0), 1.0);
  add("cancellation scaled", keys, Eigen::Vector3d(1.0, 1.0 + 0x1p-52, 1.0), 0.125);
  add("identical keys", Eigen::MatrixXd::Constant(40, 8, 0.3), Eigen::VectorXd::Constant(8, 2.5),
      0.35355339059327373);
  add("zero query", uniform_matrix(30, 5, rng), Eigen::VectorXd::Zero(5), 1.0);
  add("zero keys", Eigen::MatrixXd::Zero(10, 4), Eigen::VectorXd::Ones(4), 1.0);
  add("subnormal keys", uniform_matrix(20, 6, rng) * 1e-310, Eigen::VectorXd::Ones(6), 1.0);
  add("subnormal products", uniform_matrix(20, 6, rng) * 1e-160, uniform_vector(6, rng) * 1e-160,
      1.0);
  add("huge norms", uniform_matrix(25, 16, rng) * 1e150, uniform_vector(16, rng) * 1e140, 0.25);
  add("huge query tiny keys", uniform_matrix(25, 16, rng) * 1e-200, uniform_vector(16, rng) * 1e200,
      1.0);
  add("one key", Eigen::MatrixXd::Constant(1, 7, -2.0), Eigen::VectorXd::LinSpaced(7, -1.0, 1.0),
      0.5);
  add("d = 1", uniform_matrix(50, 1, rng), Eigen::VectorXd::Constant(1, -3.0), 1.0);
  {
    Eigen::MatrixXd mixed = uniform_matrix(64, 32, rng);
    mixed.col(3) *= 1e12;
    mixed.col(7) *= 1e-12;
    mixed.row(5) = mixed.row(9);
    mixed.row(6) = mixed.row(9);
    add("mixed channel scales", mixed, uniform_vector(32, rng), 0.17677669529663687);
  }
  {
    Eigen::MatrixXd wide = uniform_matrix(12, 4096, rng);
    tvk::round_to_float(wide);
    add("d = 4096 float32", wide, uniform_vector(4096, rng), 1.0 / 64.0);
  }
  return out;
}

TEST(CertifiedCells, UpperBoundsHoldOnAdversarialKeySets) {
  for (const NamedKeys& k : adversarial_keys()) {
    SCOPED_TRACE(k.name);
    for (std::size_t b : {1u, 2u, 3u, 7u, 64u}) {
      CellOptions o;
      o.block = b;
      EXPECT_GT(check_bounds(k, KeyCells(k.keys, o)), 0u);
    }
    for (std::size_t c : {1u, 2u, 5u, 64u}) {
      CellOptions o;
      o.kind = CellKind::kClusters;
      o.clusters = c;
      EXPECT_GT(check_bounds(k, KeyCells(k.keys, o)), 0u);
    }
  }
}

TEST(CertifiedCells, OneKeyCellsAreTight) {
  // With one key per cell both summaries collapse onto the key: U_j is the logit up to the
  // rounding margin, so the bound is not vacuous.
  RandomStream rng(0xce12);
  for (std::size_t index = 0; index < 200; ++index) {
    const NamedKeys k = random_keys(rng, index);
    CellOptions o;
    o.block = 1;
    const KeyCells cells(k.keys, o);
    for (UpperBoundKind kind : kAllBounds) {
      std::vector<double> upper(cells.cells());
      cells.upper_bounds(k.query, k.scale, kind, upper);
      for (std::size_t j = 0; j < cells.cells(); ++j) {
        const Eigen::VectorXd key = k.keys.row(static_cast<Eigen::Index>(j)).transpose();
        const double s = tvk::key_logit(k.query.data(), key.data(), key.size(), k.scale);
        const double scale_of_terms = k.scale * (k.query.cwiseAbs().dot(key.cwiseAbs()));
        ASSERT_LE(upper[j] - s, 1e-10 * scale_of_terms + 1e-290) << k.name << " key " << j;
      }
    }
  }
}

TEST(CertifiedCells, PartitionCoversEveryKeyOnce) {
  RandomStream rng(0xce13);
  for (std::size_t index = 0; index < 300; ++index) {
    const NamedKeys k = random_keys(rng, index);
    const std::size_t n = static_cast<std::size_t>(k.keys.rows());
    for (CellKind kind : {CellKind::kBlocks, CellKind::kClusters}) {
      CellOptions o;
      o.kind = kind;
      o.block = 1 + index % 9;
      o.clusters = 1 + index % 7;
      const KeyCells cells(k.keys, o);
      std::vector<int> seen(n, 0);
      for (std::size_t j = 0; j < cells.cells(); ++j) {
        const auto members = cells.members(j);
        ASSERT_FALSE(members.empty()) << k.name;
        ASSERT_TRUE(std::is_sorted(members.begin(), members.end()));
        for (std::uint32_t i : members) {
          ++seen[i];
          ASSERT_EQ(cells.cell_of(i), j);
        }
      }
      for (std::size_t i = 0; i < n; ++i)
        ASSERT_EQ(seen[i], 1) << k.name << " key " << i;
      if (kind == CellKind::kBlocks) {
        ASSERT_EQ(cells.cells(), (n + o.block - 1) / o.block);
        for (std::size_t j = 0; j < cells.cells(); ++j) {
          ASSERT_EQ(cells.members(j)[0], j * o.block);
          ASSERT_EQ(cells.cell_size(j), std::min(o.block, n - j * o.block));
        }
      } else {
        ASSERT_LE(cells.cells(), std::min(o.clusters, n));
      }
    }
  }
}

TEST(CertifiedCells, SummariesMatchTheirMembers) {
  RandomStream rng(0xce14);
  for (std::size_t index = 0; index < 300; ++index) {
    const NamedKeys k = random_keys(rng, index);
    const Eigen::MatrixXd values = uniform_matrix(k.keys.rows(), 3, rng) * 5.0;
    CellOptions o;
    o.kind = index % 2 ? CellKind::kClusters : CellKind::kBlocks;
    o.block = 5;
    o.clusters = 4;
    const KeyCells cells(k.keys, values, o);
    ASSERT_TRUE(cells.has_values());
    ASSERT_EQ(cells.dv(), 3u);
    for (std::size_t j = 0; j < cells.cells(); ++j) {
      const auto members = cells.members(j);
      for (auto [data, lo, hi, centre, radius] :
           {std::tuple{&k.keys, cells.key_min(j), cells.key_max(j), cells.centroid(j),
                       cells.radius(j)},
            std::tuple{&values, cells.value_min(j), cells.value_max(j), cells.value_centroid(j),
                       cells.value_radius(j)}}) {
        for (Eigen::Index c = 0; c < data->cols(); ++c) {
          double mn = std::numeric_limits<double>::infinity(), mx = -mn;
          for (std::uint32_t i : members) {
            mn = std::min(mn, (*data)(i, c));
            mx = std::max(mx, (*data)(i, c));
          }
          ASSERT_EQ(lo[static_cast<std::size_t>(c)], mn);
          ASSERT_EQ(hi[static_cast<std::size_t>(c)], mx);
          ASSERT_GE(centre[static_cast<std::size_t>(c)], mn);
          ASSERT_LE(centre[static_cast<std::size_t>(c)], mx);
        }
        for (std::uint32_t i : members) {
          long double squared = 0.0L;
          for (Eigen::Index c = 0; c < data->cols(); ++c) {
            const long double diff = static_cast<long double>((*data)(i, c)) -
                                     static_cast<long double>(centre[static_cast<std::size_t>(c)]);
            squared += diff * diff;
          }
          ASSERT_GE(static_cast<long double>(radius), std::sqrt(squared)) << k.name;
        }
      }
    }
  }
}

TEST(CertifiedCells, KMeansIsDeterministicAndFindsSeparatedClusters) {
  QkvParameters p;
  p.family = QkvFamily::kClustered;
  p.n = 1024;
  p.d = 64;
  p.clusters = 16;
  p.spread = 0.1;
  RandomStream rng(0xce15);
  const tvk::QkvKeySet set = tvk::sample_key_set(p, rng);
  CellOptions o;
  o.kind = CellKind::kClusters;
  o.clusters = 16;
  const KeyCells a(set.keys, set.values, o), b(set.keys, set.values, o);
  ASSERT_EQ(a.cells(), b.cells());
  for (std::size_t j = 0; j < a.cells(); ++j) {
    ASSERT_TRUE(std::equal(a.members(j).begin(), a.members(j).end(), b.members(j).begin(),
                           b.members(j).end()));
    ASSERT_EQ(a.radius(j), b.radius(j));
    ASSERT_TRUE(std::equal(a.centroid(j).begin(), a.centroid(j).end(), b.centroid(j).begin()));
  }
  // Every cell is pure (one true cluster); with 16 well separated clusters few merge.
  std::size_t pure = 0;
  for (std::size_t j = 0; j < a.cells(); ++j) {
    std::set<std::uint32_t> labels;
    for (std::uint32_t i : a.members(j))
      labels.insert(set.labels[i]);
    pure += labels.size() == 1;
  }
  EXPECT_GE(pure, 12u);
  EXPECT_GE(a.cells(), 12u);
  // Another seed is allowed to differ but still partitions every key.
  o.seed = 99;
  const KeyCells c(set.keys, o);
  std::size_t total = 0;
  for (std::size_t j = 0; j < c.cells(); ++j)
    total += c.cell_size(j);
  EXPECT_EQ(total, p.n);
}

TEST(CertifiedCells, KMeansOnDuplicatesMakesFewerClusters) {
  const Eigen::MatrixXd keys = Eigen::MatrixXd::Constant(50, 4, 1.5);
  const auto labels = tvk::kmeans_labels(keys, 8, 10, 1);
  EXPECT_TRUE(std::all_of(labels.begin(), labels.end(), [](std::uint32_t l) { return l == 0; }));
  Eigen::MatrixXd two(6, 1);
  two << 0.0, 0.0, 0.0, 10.0, 10.0, 10.0;
  CellOptions o;
  o.kind = CellKind::kClusters;
  o.clusters = 5;
  const KeyCells cells(two, o);
  EXPECT_EQ(cells.cells(), 2u);
  EXPECT_EQ(cells.radius(0), 0.0);  // identical members: exactly 0, not rounded up
}

TEST(CertifiedCells, RowLogitsAreCanonical) {
  RandomStream rng(0xce16);
  const NamedKeys k = random_keys(rng, 0);
  CellOptions o;
  o.kind = CellKind::kClusters;
  const KeyCells cells(k.keys, o);
  EXPECT_EQ(cells.logits(k.query, k.scale), tvk::row_logits(k.keys, k.query, k.scale));
}

TEST(CertifiedCells, RejectsBadInput) {
  RandomStream rng(0xce17);
  const Eigen::MatrixXd keys = uniform_matrix(10, 3, rng);
  CellOptions o;
  EXPECT_THROW(KeyCells(Eigen::MatrixXd(0, 3), o), std::invalid_argument);
  EXPECT_THROW(KeyCells(Eigen::MatrixXd(4, 0), o), std::invalid_argument);
  Eigen::MatrixXd bad = keys;
  bad(2, 1) = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(KeyCells(bad, o), std::invalid_argument);
  EXPECT_THROW(KeyCells(keys, Eigen::MatrixXd::Zero(9, 2), o), std::invalid_argument);
  o.block = 0;
  EXPECT_THROW(KeyCells(keys, o), std::invalid_argument);
  o = CellOptions{};
  o.kind = CellKind::kClusters;
  o.clusters = 0;
  EXPECT_THROW(KeyCells(keys, o), std::invalid_argument);
  const KeyCells cells(keys, CellOptions{});
  std::vector<double> out(cells.cells());
  EXPECT_THROW(cells.upper_bounds(Eigen::VectorXd::Zero(4), 1.0, UpperBoundKind::kBox, out),
               std::invalid_argument);
  EXPECT_THROW(cells.upper_bounds(Eigen::VectorXd::Zero(3), 0.0, UpperBoundKind::kBox, out),
               std::invalid_argument);
  EXPECT_THROW(cells.upper_bounds(Eigen::VectorXd::Constant(3, std::nan("")), 1.0,
                                  UpperBoundKind::kBox, out),
               std::invalid_argument);
  EXPECT_EQ(tvk::parse_cell_kind("clusters"), CellKind::kClusters);
  EXPECT_EQ(
      tvk::parse_upper_bound_kind(tvk::upper_bound_kind_name(UpperBoundKind::kCentroidRadius)),
      UpperBoundKind::kCentroidRadius);
  EXPECT_THROW(tvk::parse_cell_kind("grid"), std::invalid_argument);
  EXPECT_THROW(tvk::parse_upper_bound_kind("quest"), std::invalid_argument);
}

}  // namespace
