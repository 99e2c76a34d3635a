//! \file The logit_store experiment kind on the committed BERT fixture: per-(layer, head) k_eps/n
//! equal to an independent computation from the stored q and k, the fitted-sigma rule per row,
//! identical tables at 1 and 2 threads, and clear errors for a bad selection or store.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numeric>
#include <variant>

#include "core/config/config_document.h"
#include "core/config/store_sweep_config.h"
#include "core/error.h"
#include "core/hdf5/logit_store.h"
#include "core/hdf5/results_reader.h"
#include "experiments/logit_store_sweep.h"
#include "tests/support/fixtures.h"

namespace tvk {
namespace {

namespace fs = std::filesystem;
const fs::path kStore = fs::path(TVK_SOURCE_DIR) / "tests" / "fixtures" / "minilm_store.h5";

StoreSweepConfig config_of(const std::string& yaml) {
  return read_store_sweep_config(ConfigDocument::parse(yaml, "test.yaml"));
}

//! k_eps of one row by the definition: sort descending, tail sums from the bottom.
std::size_t reference_k_eps(std::vector<double> s, double eps) {
  std::sort(s.begin(), s.end(), std::greater<>());
  std::vector<double> w(s.size());
  for (std::size_t i = 0; i < s.size(); ++i)
    w[i] = std::exp(s[i] - s[0]);
  std::vector<double> tail(s.size() + 1, 0.0);
  for (std::size_t i = s.size(); i-- > 0;)
    tail[i] = tail[i + 1] + w[i];
  for (std::size_t k = 1; k <= s.size(); ++k) {
    if (tail[k] / tail[0] <= eps) return k;
  }
  return s.size();
}

class LogitStoreSweep : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(kStore)) << test::missing_fixture(kStore);
    out_ = fs::temp_directory_path() / ("tvk_store_sweep_" + std::to_string(::getpid()));
    fs::remove_all(out_);
  }
  void TearDown() override { fs::remove_all(out_); }
  fs::path out_;
};

TEST_F(LogitStoreSweep, MatchesAnIndependentComputationPerHead) {
  const StoreSweepConfig config =
      config_of("kind: logit_store\nname: s\nstore: " + kStore.string() +
                "\nlayers: [0, 4]\nheads: [2, 11]\neps: [0.01, 0.1]\nbounds: [b1, b4]\n");
  RunOptions options;
  options.out_dir = out_;
  options.progress = ProgressMode::kNone;
  const StoreSweepOutcome outcome = run_logit_store_sweep(config, options);
  const auto& layer = std::get<std::vector<std::int64_t>>(outcome.points.find("layer")->values);
  const auto& head = std::get<std::vector<std::int64_t>>(outcome.points.find("head")->values);
  const auto& eps = std::get<std::vector<double>>(outcome.points.find("eps")->values);
  const auto& mean = std::get<std::vector<double>>(outcome.points.find("k_over_n_mean")->values);
  const auto& rule =
      std::get<std::vector<double>>(outcome.points.find("rule_k_over_n_mean")->values);
  const auto& held = std::get<std::vector<double>>(outcome.points.find("b1_held")->values);
  ASSERT_EQ(outcome.points.rows(), 2u * 2u * 2u);

  const LogitStore store = LogitStore::open(kStore);
  for (std::size_t r = 0; r < outcome.points.rows(); ++r) {
    double ratio_sum = 0.0, rule_sum = 0.0;
    std::size_t rows = 0;
    for (std::size_t s = 0; s < store.info().sequences.size(); ++s) {
      const HeadVectors h = store.read_head(s, layer[r], head[r]);
      const Eigen::MatrixXd logits = store.info().scale * h.q * h.k.transpose();
      for (Eigen::Index i = 0; i < logits.rows(); ++i) {
        std::vector<double> row(logits.cols());
        for (Eigen::Index j = 0; j < logits.cols(); ++j)
          row[j] = logits(i, j);
        ratio_sum += static_cast<double>(reference_k_eps(row, eps[r])) / row.size();
        const double m = std::accumulate(row.begin(), row.end(), 0.0) / row.size();
        double v = 0.0;
        for (double x : row)
          v += (x - m) * (x - m);
        const double sigma = std::sqrt(v / row.size());
        // Gaussian rule Phi_c(sigma + Phi^{-1}(eps)), Phi^{-1} by bisection on erfc.
        double lo = -40, hi = 40;
        for (int it = 0; it < 200; ++it) {
          const double mid = 0.5 * (lo + hi);
          (0.5 * std::erfc(-mid / std::sqrt(2.0)) < eps[r] ? lo : hi) = mid;
        }
        rule_sum += 0.5 * std::erfc((sigma + lo) / std::sqrt(2.0));
        ++rows;
      }
    }
    // Logits differ from tvk's only in summation order (Eigen's product vs tvk's loop), which
    // can move a k only when tau sits within rounding of eps; the means agree to 1e-9 here.
    EXPECT_NEAR(mean[r], ratio_sum / rows, 1e-9) << "layer " << layer[r] << " head " << head[r];
    EXPECT_NEAR(rule[r], rule_sum / rows, 1e-9);
    EXPECT_EQ(held[r], 1.0);
  }
  EXPECT_TRUE(fs::exists(outcome.h5_path));
  EXPECT_TRUE(fs::exists(outcome.layers_csv_path));
  EXPECT_EQ(read_table(outcome.h5_path, "rows").rows(), 576u * 4u * 2u);  // tokens x heads x eps
}

TEST_F(LogitStoreSweep, TablesAreIdenticalAtOneAndTwoThreads) {
  const StoreSweepConfig config =
      config_of("kind: logit_store\nname: t\nstore: " + kStore.string() +
                "\nlayers: [1]\nheads: [0, 3, 6]\neps: [0.05]\nchunk_rows: 50\n");
  std::string text[2];
  for (int threads : {1, 2}) {
    RunOptions options;
    options.out_dir = out_ / std::to_string(threads);
    options.threads = threads;
    options.progress = ProgressMode::kNone;
    const StoreSweepOutcome outcome = run_logit_store_sweep(config, options);
    text[threads - 1] = to_canonical_text(outcome.points) + to_canonical_text(outcome.layers) +
                        to_canonical_text(read_table(outcome.h5_path, "rows"));
  }
  EXPECT_EQ(text[0], text[1]);
}

TEST_F(LogitStoreSweep, BadSelectionsAndStoresAreInputErrors) {
  RunOptions options;
  options.out_dir = out_;
  options.progress = ProgressMode::kNone;
  try {
    run_logit_store_sweep(config_of("kind: logit_store\nname: b\nstore: " + kStore.string() +
                                    "\nlayers: [6]\neps: 0.1\n"),
                          options);
    FAIL() << "expected InputError";
  } catch (const InputError& error) {
    EXPECT_NE(std::string(error.what()).find("layers: index 6 is out of range"), std::string::npos)
        << error.what();
  }
  EXPECT_THROW(
      run_logit_store_sweep(config_of("kind: logit_store\nname: b\nstore: /no/such.h5\neps: 0.1\n"),
                            options),
      InputError);
  EXPECT_THROW(run_logit_store_sweep(config_of("kind: logit_store\nname: b\nstore: " +
                                               kStore.string() + "\nmin_length: 1000\neps: 0.1\n"),
                                     options),
               InputError);
  try {
    config_of("kind: logit_store\nname: b\nstore: x.h5\nheads: [1, x]\neps: 0.1\n");
    FAIL() << "expected InputError";
  } catch (const InputError& error) {
    EXPECT_NE(std::string(error.what()).find("heads[1]"), std::string::npos) << error.what();
  }
  // An empty list selects nothing: an error at its key (it once meant "all").
  for (const char* key : {"layers", "heads", "sequences"}) {
    try {
      config_of("kind: logit_store\nname: b\nstore: x.h5\n" + std::string(key) +
                ": []\neps: 0.1\n");
      ADD_FAILURE() << key << ": [] was accepted";
    } catch (const InputError& error) {
      EXPECT_NE(std::string(error.what()).find(std::string("test.yaml:4:")), std::string::npos)
          << error.what();
      EXPECT_NE(std::string(error.what()).find("must list at least one index, or be `all`"),
                std::string::npos)
          << error.what();
    }
  }
  EXPECT_FALSE(fs::exists(out_ / "b.h5"));
}

const fs::path kDecoderStore = fs::path(TVK_SOURCE_DIR) / "tests" / "fixtures" / "smollm2_store.h5";

//! The decoder fixture (format v2): causal rows, grouped KV heads, stored query positions.
TEST(LogitStoreSweepDecoder, CausalRowsByNBucketMatchAnIndependentComputation) {
  ASSERT_TRUE(fs::exists(kDecoderStore)) << test::missing_fixture(kDecoderStore);
  const fs::path out =
      fs::temp_directory_path() / ("tvk_decoder_sweep_" + std::to_string(::getpid()));
  const StoreSweepConfig config =
      config_of("kind: logit_store\nname: d\nstore: " + kDecoderStore.string() +
                "\nlayers: [0, 3]\nheads: [1, 4]\nquery_stride: 3\nmin_n: 16\nn_buckets: true\n"
                "eps: [0.05]\nbounds: [b2]\n");
  RunOptions options;
  options.out_dir = out;
  options.progress = ProgressMode::kNone;
  const StoreSweepOutcome outcome = run_logit_store_sweep(config, options);
  const Table rows = read_table(outcome.h5_path, "rows");
  const auto ints = [&](const Table& t, const char* name) -> const std::vector<std::int64_t>& {
    return std::get<std::vector<std::int64_t>>(t.find(name)->values);
  };
  const auto& query = ints(rows, "query");
  const auto& n = ints(rows, "n");
  const auto& k = ints(rows, "k_eps");
  const auto& layer = ints(rows, "layer");
  const auto& head = ints(rows, "head");
  const LogitStore store = LogitStore::open(kDecoderStore);
  const LogitStoreInfo& info = store.info();
  const std::vector<std::size_t>& positions = info.sequences[0].query_positions;
  // Every 3rd stored query counted back from the last, with at least 16 keys: a causal row at
  // position i has i + 1 keys, and its k_eps is the definition's on scale * q . k_j, j <= i.
  std::size_t expected_rows = 0;
  for (std::size_t r = 0; r < positions.size(); ++r)
    expected_rows += (positions.size() - 1 - r) % 3 == 0 && positions[r] + 1 >= 16 ? 1 : 0;
  ASSERT_EQ(rows.rows(), expected_rows * 2 * 2);
  EXPECT_EQ(static_cast<std::size_t>(query.back()), positions.back());
  for (std::size_t r = 0; r < rows.rows(); r += 37) {
    EXPECT_EQ(n[r], query[r] + 1);
    const std::size_t stored_layer = layer[r] == info.layer_ids[0] ? 0 : 3;
    ASSERT_EQ(info.layer_ids[stored_layer], layer[r]);
    const HeadVectors h = store.read_head(0, stored_layer, static_cast<std::size_t>(head[r]));
    const std::size_t q_row = static_cast<std::size_t>(
        std::find(positions.begin(), positions.end(), static_cast<std::size_t>(query[r])) -
        positions.begin());
    std::vector<double> logits(static_cast<std::size_t>(n[r]));
    for (std::size_t j = 0; j < logits.size(); ++j)
      logits[j] =
          info.scale *
          h.q.row(static_cast<Eigen::Index>(q_row)).dot(h.k.row(static_cast<Eigen::Index>(j)));
    EXPECT_EQ(static_cast<std::size_t>(k[r]), reference_k_eps(logits, 0.05)) << "row " << r;
  }
  // Points: one per (layer, head, n_bucket); the buckets are powers of two, rows add up.
  const auto& bucket = ints(outcome.points, "n_bucket");
  const auto& kv = ints(outcome.points, "kv_head");
  const auto& point_rows = ints(outcome.points, "rows");
  const auto& point_head = ints(outcome.points, "head");
  std::int64_t total = 0;
  for (std::size_t p = 0; p < outcome.points.rows(); ++p) {
    EXPECT_EQ(bucket[p] & (bucket[p] - 1), 0) << bucket[p];
    EXPECT_GE(bucket[p], 16);
    EXPECT_EQ(static_cast<std::size_t>(kv[p]), info.kv_head_of[point_head[p]]);
    total += point_rows[p];
  }
  EXPECT_EQ(static_cast<std::size_t>(total), rows.rows());
  const auto& sink = std::get<std::vector<double>>(outcome.points.find("sink_mass_mean")->values);
  for (double mass : sink) {
    EXPECT_GT(mass, 0.0);
    EXPECT_LT(mass, 1.0);
  }
  fs::remove_all(out);
}

}  // namespace
}  // namespace tvk
