// Certified searches and their baselines on causal decoder rows (THEORY §7–§8): the committed
// SmolLM2-135M fixture, every row its own key set of keys 0..i.

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "core/config/certified_config.h"
#include "core/config/config_document.h"
#include "core/hdf5/results_reader.h"
#include "core/results/results_table.h"
#include "experiments/certified_sweep.h"
#include "tests/support/fixtures.h"

namespace tvk {
namespace {

namespace fs = std::filesystem;
const fs::path kStore = fs::path(TVK_SOURCE_DIR) / "tests" / "fixtures" / "smollm2_store.h5";

template <class T>
const std::vector<T>& column(const Table& table, const std::string& name) {
  const Column* c = table.find(name);
  if (c == nullptr) throw std::runtime_error("no column " + name);
  return std::get<std::vector<T>>(c->values);
}

class CertifiedDecoder : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(kStore)) << test::missing_fixture(kStore);
    out_ = fs::temp_directory_path() / ("tvk_certified_decoder_" + std::to_string(::getpid()));
    fs::remove_all(out_);
  }
  void TearDown() override { fs::remove_all(out_); }

  CertifiedOutcome run(const std::string& extra, std::size_t threads, const std::string& folder) {
    const std::string yaml =
        "kind: certified\nname: d\nsource:\n  type: logit_store\n  store: " + kStore.string() +
        "\n  layers: [2]\n  heads: [0, 5]\n  min_n: 1024\n"
        "  query_stride: 12\neps: [0.01, 0.05]\nsearches:\n"
        "  - {name: quantized8, type: quantized}\n"
        "  - {name: quantized4, type: quantized, bits: 4, group: 8, sinks: 4, "
        "recent: 16}\n"
        "  - {name: quest_256, type: quest, budget: 256}\n"
        "  - {name: streaming, type: streaming}\n"
        "  - {name: oracle_topk, type: oracle_topk}\n"
        "  - {name: mc_blocks, type: mc_search, cells: blocks}\n"
        "bounds: [b2]\noutput_error: true\nstore_rows: true\nchunk_rows: 4\n" +
        extra;
    RunOptions options;
    options.out_dir = out_ / folder;
    options.threads = threads;
    options.progress = ProgressMode::kNone;
    return run_certified_sweep(read_certified_config(ConfigDocument::parse(yaml, "test.yaml")),
                               options);
  }

  fs::path out_;
};

TEST_F(CertifiedDecoder, CertifiedSearchesHoldAndBaselinesReportTheirViolations) {
  const CertifiedOutcome outcome = run("", 2, "a");
  ASSERT_GT(outcome.rows_total, 0u);
  const Table& rows = outcome.rows;
  const auto& search = column<std::string>(rows, "search");
  const auto& n = column<std::int64_t>(rows, "n");
  const auto& tau = column<double>(rows, "true_tau");
  const auto& bound = column<double>(rows, "bound");
  const auto& eps = column<double>(rows, "eps");
  const auto& error = column<double>(rows, "exact_error");
  const auto& certificate = column<double>(rows, "certificate");
  const auto& valid = column<std::uint8_t>(rows, "valid");
  std::map<std::string, std::size_t> violations;
  for (std::size_t r = 0; r < rows.rows(); ++r) {
    ASSERT_GE(n[r], 1024) << "row " << r;
    const bool baseline = search[r] == "quest_256" || search[r] == "streaming";
    if (baseline) {
      EXPECT_TRUE(std::isnan(bound[r]));
      EXPECT_EQ(valid[r], 0);
      violations[search[r]] += tau[r] > eps[r] ? 1 : 0;
    } else {
      ASSERT_EQ(valid[r], 1) << search[r] << " row " << r;
      ASSERT_LE(tau[r], bound[r]) << search[r] << " row " << r;
      ASSERT_LE(bound[r], eps[r]) << search[r] << " row " << r;
      ASSERT_LE(error[r], certificate[r]) << search[r] << " row " << r;
    }
  }
  // Points: certified searches valid everywhere; baselines certify nothing and their violation
  // fraction counts the rows with tau > eps.
  const Table& points = outcome.points;
  const auto& psearch = column<std::string>(points, "search");
  const auto& layer = column<std::int64_t>(points, "layer");
  const auto& prows = column<std::int64_t>(points, "rows");
  const auto& bucket = column<std::int64_t>(points, "n_bucket");
  const auto& cv = column<double>(points, "certificate_valid");
  const auto& cf = column<double>(points, "certified_fraction");
  const auto& vf = column<double>(points, "violation_fraction");
  const auto& bytes = column<double>(points, "bytes_over_dense_mean");
  std::map<std::string, double> counted;
  for (std::size_t r = 0; r < points.rows(); ++r) {
    EXPECT_EQ(layer[r], 12);  // store index 2 is model layer 12
    EXPECT_TRUE(bucket[r] == 1024 || bucket[r] == 2048) << bucket[r];
    EXPECT_TRUE(std::isfinite(bytes[r]) && bytes[r] > 0.0) << psearch[r];
    if (psearch[r] == "quest_256" || psearch[r] == "streaming") {
      EXPECT_TRUE(std::isnan(cv[r]));
      EXPECT_EQ(cf[r], 0.0);
      counted[psearch[r]] += vf[r] * static_cast<double>(prows[r]);
    } else {
      EXPECT_EQ(cv[r], 1.0) << psearch[r];
      EXPECT_EQ(vf[r], 0.0) << psearch[r];
    }
  }
  for (const auto& [name, count] : violations)
    EXPECT_NEAR(counted[name], static_cast<double>(count), 1e-9) << name;
  // The main CSV is per (layer, n_bucket, search, eps) with the documented columns.
  std::ifstream csv(outcome.csv_path);
  std::string header;
  std::getline(csv, header);
  for (const char* name :
       {"search", "layer", "n_bucket", "eps", "scored_over_n_mean", "kept_over_n_mean",
        "k_over_n_mean", "bytes_over_dense_mean", "certified_fraction", "certificate_valid",
        "violation_fraction", "tau_mean"}) {
    EXPECT_NE(("," + header + ",").find("," + std::string(name) + ","), std::string::npos)
        << name << " not in " << header;
  }
}

TEST_F(CertifiedDecoder, TablesAreIdenticalAtOneAndTwoThreads) {
  std::string text[2];
  for (std::size_t threads : {1, 2}) {
    const CertifiedOutcome outcome = run("", threads, "t" + std::to_string(threads));
    text[threads - 1] = to_canonical_text(outcome.points) + to_canonical_text(outcome.pooled) +
                        to_canonical_text(outcome.rows);
  }
  EXPECT_EQ(text[0], text[1]);
}

}  // namespace
}  // namespace tvk
