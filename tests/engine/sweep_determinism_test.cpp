//! \file Reproducibility of sweeps (issue 4, "1 and 2 threads give identical data"): the same
//! config and seed give bit-identical points and rows tables, CSV and HDF5 datasets at 1, 2 and
//! 3 threads; chunk_rows changes only the rounding of floating-point sums; another seed changes
//! the data. The engine itself (run_sweep) is checked with several batches in flight.

#include <gtest/gtest.h>
#include <hdf5.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "core/bounds/bound_registry.h"
#include "core/config/sweep_config.h"
#include "core/engine/sweep_runner.h"
#include "core/hdf5/results_reader.h"
#include "core/models/model_registry.h"
#include "core/random/stream.h"
#include "experiments/synthetic_sweep.h"

namespace tvk {
namespace {

namespace fs = std::filesystem;

const fs::path kConfig = fs::path(TVK_SOURCE_DIR) / "configs/tests/sweep_determinism.yaml";

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

//! The raw bytes of a dataset in its file datatype (compound layout included).
std::string dataset_bytes(const fs::path& file, const std::string& name) {
  std::string bytes;
  const hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0) return "<cannot open " + file.string() + ">";
  const hid_t d = H5Dopen2(f, name.c_str(), H5P_DEFAULT);
  if (d >= 0) {
    const hid_t type = H5Dget_type(d);
    const hid_t space = H5Dget_space(d);
    const auto count = static_cast<std::size_t>(H5Sget_simple_extent_npoints(space));
    bytes.assign(count * H5Tget_size(type), '\0');
    if (H5Dread(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, bytes.data()) < 0) bytes = "<read error>";
    H5Sclose(space);
    H5Tclose(type);
    H5Dclose(d);
  } else {
    bytes = "<no dataset " + name + ">";
  }
  H5Fclose(f);
  return bytes;
}

std::string attribute_text(const AttributeValue& value) {
  return std::visit(
      [](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string>) {
          return v;
        } else if constexpr (std::is_same_v<T, std::vector<std::int64_t>>) {
          std::string text;
          for (auto x : v)
            text += std::to_string(x) + ",";
          return text;
        } else {
          return format_shortest(static_cast<double>(v));
        }
      },
      value);
}

//! A finished run and what it wrote.
struct FinishedRun {
  fs::path dir;
  SweepOutcome outcome;
};

class SweepDeterminismTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    root_ = fs::temp_directory_path() /
            ("tvk_sweep_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(root_, ignored);
  }

  FinishedRun run(const std::string& label, std::size_t threads,
                  const std::vector<std::string>& overrides = {}) {
    FinishedRun result;
    result.dir = root_ / label;
    RunOptions options;
    options.out_dir = result.dir;
    options.threads = threads;
    options.progress = ProgressMode::kNone;
    options.command_line = "test";
    result.outcome = run_synthetic_sweep(load_sweep_config(kConfig, overrides), options);
    return result;
  }

  fs::path root_;
};

TEST_F(SweepDeterminismTest, ThreadCountDoesNotChangeAnyByte) {
  const FinishedRun one = run("t1", 1);
  const FinishedRun two = run("t2", 2);
  const FinishedRun three = run("t3", 3);

  // The grid: 3 model points × 2 n = 6 points, each × 3 eps rows in the points table.
  ASSERT_EQ(one.outcome.points.rows(), 18u);
  const std::string points_text = to_canonical_text(one.outcome.points);
  const Table rows_table = read_table(one.outcome.h5_path, "rows");
  ASSERT_EQ(rows_table.rows(), 6u * 150u * 3u);  // every row × every eps
  EXPECT_EQ(to_canonical_text(read_table(one.outcome.h5_path, "points")), points_text);

  for (const FinishedRun* other : {&two, &three}) {
    SCOPED_TRACE(other->dir.filename().string());
    EXPECT_EQ(to_canonical_text(other->outcome.points), points_text);
    EXPECT_EQ(to_canonical_text(read_table(other->outcome.h5_path, "points")), points_text);
    EXPECT_EQ(to_canonical_text(read_table(other->outcome.h5_path, "rows")),
              to_canonical_text(rows_table));
    EXPECT_EQ(read_bytes(other->outcome.csv_path), read_bytes(one.outcome.csv_path));
    for (const char* dataset : {"points", "rows"}) {
      const std::string a = dataset_bytes(one.outcome.h5_path, dataset);
      const std::string b = dataset_bytes(other->outcome.h5_path, dataset);
      EXPECT_GT(a.size(), 1000u) << dataset;
      EXPECT_TRUE(a == b) << dataset << " differs";
    }
    // The provenance differs only where the run differs: threads and the time.
    const Provenance p1 = read_provenance(one.outcome.h5_path);
    const Provenance p2 = read_provenance(other->outcome.h5_path);
    ASSERT_EQ(p1.attributes.size(), p2.attributes.size());
    for (std::size_t i = 0; i < p1.attributes.size(); ++i) {
      const auto& [name, value] = p1.attributes[i];
      EXPECT_EQ(p2.attributes[i].first, name);
      if (name == "threads" || name == "created_utc") continue;
      EXPECT_EQ(attribute_text(p2.attributes[i].second), attribute_text(value)) << name;
    }
    ASSERT_NE(p2.find("threads"), nullptr);
    EXPECT_EQ(attribute_text(*p2.find("threads")), other == &two ? "2" : "3");
  }
  ASSERT_NE(read_provenance(one.outcome.h5_path).find("threads"), nullptr);
  EXPECT_EQ(attribute_text(*read_provenance(one.outcome.h5_path).find("threads")), "1");
  // A finished run leaves no checkpoint and no temporary files behind.
  for (const FinishedRun* r : {&one, &two, &three}) {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(r->dir))
      names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    EXPECT_EQ(names, (std::vector<std::string>{"determinism.csv", "determinism.h5"}));
  }
}

TEST_F(SweepDeterminismTest, RowsTableHoldsEveryRowInOrder) {
  const FinishedRun one = run("t1", 2);
  const Table rows = read_table(one.outcome.h5_path, "rows");
  const auto& point = std::get<std::vector<std::int64_t>>(rows.find("point")->values);
  const auto& row = std::get<std::vector<std::int64_t>>(rows.find("row")->values);
  const auto& eps = std::get<std::vector<double>>(rows.find("eps")->values);
  const auto& k = std::get<std::vector<std::int64_t>>(rows.find("k_eps")->values);
  const std::vector<double> eps_list = {0.01, 0.05, 0.1};
  const std::vector<std::int64_t> n_of_point = {64, 200, 64, 200, 64, 200};
  std::size_t i = 0;
  for (std::int64_t p = 0; p < 6; ++p) {
    for (std::int64_t r = 0; r < 150; ++r) {
      for (std::size_t e = 0; e < 3; ++e, ++i) {
        ASSERT_EQ(point[i], p);
        ASSERT_EQ(row[i], r);
        ASSERT_EQ(eps[i], eps_list[e]);
        ASSERT_GE(k[i], 1);
        ASSERT_LE(k[i], n_of_point[static_cast<std::size_t>(p)]);
      }
    }
  }
  // Every bound keeps at least k_eps keys and certifies a bound <= eps, row by row.
  for (const std::string& bound : bound_names()) {
    const auto& kept = std::get<std::vector<std::int64_t>>(rows.find(bound + "_k")->values);
    const auto& value = std::get<std::vector<double>>(rows.find(bound + "_bound")->values);
    for (std::size_t j = 0; j < kept.size(); ++j) {
      ASSERT_GE(kept[j], k[j]) << bound << " row " << j;
      ASSERT_LE(value[j], eps[j]) << bound << " row " << j;
    }
  }
  // The points table's mean k/n is the mean of the rows table's k_eps / n.
  const Table& points = one.outcome.points;
  const auto& mean = std::get<std::vector<double>>(points.find("k_over_n_mean")->values);
  for (std::size_t p = 0; p < 6; ++p) {
    for (std::size_t e = 0; e < 3; ++e) {
      double sum = 0.0;
      for (std::size_t r = 0; r < 150; ++r)
        sum += static_cast<double>(k[(p * 150 + r) * 3 + e]);
      EXPECT_NEAR(mean[p * 3 + e], sum / 150.0 / static_cast<double>(n_of_point[p]), 1e-15);
    }
  }
}

//! Columns computed from integer statistics only: exact whatever the chunking.
bool integer_derived(const std::string& name) {
  for (const char* suffix : {"k_over_n_mean", "k_over_n_std", "k_over_n_sem", "k_over_n_q05",
                             "k_over_n_q50", "k_over_n_q95", "_held"}) {
    const std::string s(suffix);
    if (name.size() >= s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0) {
      return true;
    }
  }
  return name == "key_reduction" || name == "n" || name == "rows" || name == "eps" ||
         name == "model" || name == "rule_k_over_n" || name == "rule_rel_error";
}

TEST_F(SweepDeterminismTest, ChunkingChangesOnlyTheRoundingOfDoubleSums) {
  const FinishedRun base = run("chunk16", 2);
  const FinishedRun other = run("chunk7", 1, {"chunk_rows=7"});
  const FinishedRun single = run("chunk1000", 2, {"chunk_rows=1000"});
  for (const FinishedRun* r : {&other, &single}) {
    SCOPED_TRACE(r->dir.filename().string());
    const Table& a = base.outcome.points;
    const Table& b = r->outcome.points;
    ASSERT_EQ(a.columns.size(), b.columns.size());
    std::size_t exact_columns = 0;
    for (std::size_t c = 0; c < a.columns.size(); ++c) {
      const Column& ca = a.columns[c];
      const Column& cb = b.columns[c];
      ASSERT_EQ(ca.name, cb.name);
      if (ca.kind() != ColumnKind::kDouble) {
        EXPECT_TRUE(ca.values == cb.values) << ca.name;
        continue;
      }
      const auto& va = std::get<std::vector<double>>(ca.values);
      const auto& vb = std::get<std::vector<double>>(cb.values);
      if (integer_derived(ca.name)) {
        ++exact_columns;
        for (std::size_t i = 0; i < va.size(); ++i) {
          EXPECT_TRUE(va[i] == vb[i] || (std::isnan(va[i]) && std::isnan(vb[i])))
              << ca.name << "[" << i << "]: " << va[i] << " vs " << vb[i];
        }
      } else {
        for (std::size_t i = 0; i < va.size(); ++i) {
          if (std::isnan(va[i])) {
            EXPECT_TRUE(std::isnan(vb[i])) << ca.name;
          } else {
            EXPECT_NEAR(va[i], vb[i], 1e-12 * std::max(1.0, std::abs(va[i]))) << ca.name;
          }
        }
      }
    }
    EXPECT_GT(exact_columns, 7u * 2u);
    // Per-row values do not depend on the chunking at all.
    EXPECT_EQ(to_canonical_text(read_table(r->outcome.h5_path, "rows")),
              to_canonical_text(read_table(base.outcome.h5_path, "rows")));
  }
}

TEST_F(SweepDeterminismTest, AnotherSeedGivesOtherData) {
  const FinishedRun base = run("seed7", 2);
  const FinishedRun other = run("seed8", 2, {"seed=8"});
  const auto& a = std::get<std::vector<double>>(base.outcome.points.find("k_over_n_mean")->values);
  const auto& b = std::get<std::vector<double>>(other.outcome.points.find("k_over_n_mean")->values);
  std::size_t differing = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    differing += a[i] != b[i] ? 1 : 0;
  EXPECT_GE(differing, a.size() / 2) << "seed 7 and 8 agree on too many points";
  EXPECT_NE(to_canonical_text(read_table(base.outcome.h5_path, "rows")),
            to_canonical_text(read_table(other.outcome.h5_path, "rows")));
}

// ---------------------------------------------------------------------------------------------
// The engine alone: many batches of work items in flight, counted progress, point callbacks.

class GaussianSource final : public RowSource {
 public:
  explicit GaussianSource(std::vector<std::size_t> lengths, std::size_t rows)
      : lengths_(std::move(lengths)), rows_(rows) {
    model_ = make_model("gaussian", {{"mu", 0.0}, {"sigma", 2.0}});
  }
  std::size_t point_count() const override { return lengths_.size(); }
  std::size_t row_count(std::size_t) const override { return rows_; }
  std::size_t row_length(std::size_t p) const override { return lengths_[p]; }
  void fill(std::size_t p, std::size_t r, std::span<double> out) const override {
    RandomStream stream = make_stream(99, p, r, StreamPurpose::kLogits);
    model_->sample(stream, out);
  }

 private:
  std::vector<std::size_t> lengths_;
  std::size_t rows_;
  std::shared_ptr<const ScoreModel> model_;
};

std::shared_ptr<const RowAnalysisPlan> small_plan() {
  auto plan = std::make_shared<RowAnalysisPlan>();
  plan->eps = {0.02, 0.1};
  plan->k_grid = {0.05, 0.5};
  for (const char* name : {"b1", "b2", "b4"})
    plan->bounds.push_back(make_bound(name, BoundOptions{}));
  return plan;
}

TEST(SweepRunnerTest, ManyBatchesAnyThreadsSameStatistics) {
  const GaussianSource source({33, 100, 7}, 203);
  const auto plan = small_plan();
  std::vector<PointStatistics> reference;
  for (const std::size_t threads : {1, 2, 3}) {
    SweepOptions options;
    options.threads = threads;
    options.chunk_rows = 5;
    options.store_rows = true;
    options.slot_memory_bytes = 1;  // the smallest batch: 4 × threads work items at a time
    std::atomic<std::size_t> rows_done{0};
    std::vector<std::size_t> points_done;
    SweepCallbacks callbacks;
    callbacks.rows_done = [&](std::size_t rows) { rows_done += rows; };
    callbacks.point_done = [&](std::size_t p, const PointStatistics& stats) {
      points_done.push_back(p);
      EXPECT_EQ(stats.rows(), 203);
    };
    const auto stats = run_sweep(source, plan, options, {}, callbacks);
    ASSERT_EQ(stats.size(), 3u);
    EXPECT_EQ(rows_done.load(), 3u * 203u);
    EXPECT_EQ(points_done, (std::vector<std::size_t>{0, 1, 2}));
    if (reference.empty()) {
      reference = stats;
    } else {
      for (std::size_t p = 0; p < 3; ++p)
        EXPECT_TRUE(stats[p] == reference[p]) << "threads " << threads << " point " << p;
    }
  }
  // A different batch size (the default) merges the same items in the same order.
  SweepOptions options;
  options.threads = 2;
  options.chunk_rows = 5;
  options.store_rows = true;
  const auto stats = run_sweep(source, plan, options, {});
  for (std::size_t p = 0; p < 3; ++p)
    EXPECT_TRUE(stats[p] == reference[p]) << "point " << p;
}

}  // namespace
}  // namespace tvk
