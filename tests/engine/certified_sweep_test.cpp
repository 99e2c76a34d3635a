//! \file The certified experiment kind: identical tables at 1 and 2 threads (store and qkv),
//! every certificate valid on the committed BERT fixture and on synthetic rows, one row equal
//! to the library run by hand, config errors located file:line:col, and the CSV columns the
//! results README promises.

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <variant>

#include "core/certified/cells.h"
#include "core/certified/mc_search.h"
#include "core/certified/output_certificate.h"
#include "core/certified/qkv_models.h"
#include "core/certified/search.h"
#include "core/config/certified_config.h"
#include "core/config/config_document.h"
#include "core/error.h"
#include "core/hdf5/results_reader.h"
#include "core/random/stream.h"
#include "core/results/results_table.h"
#include "core/rows/tail_profile.h"
#include "experiments/certified_sweep.h"
#include "tests/support/fixtures.h"

namespace tvk {
namespace {

namespace fs = std::filesystem;
const fs::path kStore = fs::path(TVK_SOURCE_DIR) / "tests" / "fixtures" / "minilm_store.h5";

CertifiedConfig config_of(const std::string& yaml) {
  return read_certified_config(ConfigDocument::parse(yaml, "test.yaml"));
}

//! The message of the InputError reading `yaml` throws ("" when it does not throw).
std::string config_error(const std::string& yaml) {
  try {
    config_of(yaml);
  } catch (const InputError& error) {
    return error.what();
  }
  return "";
}

const std::vector<double>& doubles(const Table& table, const std::string& name) {
  const Column* column = table.find(name);
  EXPECT_NE(column, nullptr) << name;
  return std::get<std::vector<double>>(column->values);
}

//! Small synthetic rows of every family, several work items per key set.
const std::string kQkvYaml = R"(kind: certified
name: q
source:
  - {type: qkv, family: clustered, n: 200, d: [8, 16], clusters: 6, rows: 12, queries_per_key_set: 5, seed: 7}
  - {type: qkv, family: gaussian, n: 150, d: 8, strength: 2.5, rows: 6, seed: 7}
  - {type: qkv, family: positional, n: 180, d: 8, correlation_length: 20, rows: 6, seed: 7}
eps: [0.01, 0.1]
searches:
  - {name: mc_clusters, type: mc_search, clusters: 8}
  - {name: mc_blocks_scored, type: mc_search, cells: blocks, block: 12, kept: scored, bound: box}
  - {name: b5, type: b5, block: 16, bound: centroid_radius}
  - {name: delta_k, type: delta_k, delta_bound: b3, k0: 2, delta_k: 5}
chunk_rows: 2
)";

class CertifiedSweep : public ::testing::Test {
 protected:
  void SetUp() override {
    out_ = fs::temp_directory_path() / ("tvk_certified_" + std::to_string(::getpid()));
    fs::remove_all(out_);
  }
  void TearDown() override { fs::remove_all(out_); }

  CertifiedOutcome run(const CertifiedConfig& config, std::size_t threads,
                       const std::string& folder) {
    RunOptions options;
    options.out_dir = out_ / folder;
    options.threads = threads;
    options.progress = ProgressMode::kNone;
    return run_certified_sweep(config, options);
  }

  std::string store_yaml(const std::string& selection) const {
    return "kind: certified\nname: s\nsource:\n  type: logit_store\n  store: " + kStore.string() +
           "\n" + selection + "eps: [0.01, 0.1]\nchunk_rows: 40\n";
  }

  fs::path out_;
};

//! Every certificate of a finished run holds: per row (rows table) and per point.
void expect_all_valid(const CertifiedOutcome& outcome) {
  const Table& rows = outcome.rows;
  ASSERT_GT(rows.rows(), 0u);
  const auto& valid = std::get<std::vector<std::uint8_t>>(rows.find("valid")->values);
  const auto& bound = doubles(rows, "bound");
  const auto& tau = doubles(rows, "true_tau");
  const auto& eps = doubles(rows, "eps");
  const auto& error = doubles(rows, "exact_error");
  const auto& certificate = doubles(rows, "certificate");
  for (std::size_t r = 0; r < rows.rows(); ++r) {
    ASSERT_EQ(valid[r], 1) << "row " << r;
    ASSERT_LE(tau[r], bound[r]) << "row " << r;
    ASSERT_LE(bound[r], eps[r]) << "row " << r;
    ASSERT_LE(error[r], certificate[r]) << "row " << r;
  }
  for (const Table* table : {&outcome.points, &outcome.pooled}) {
    if (table->rows() == 0) continue;
    for (double v : doubles(*table, "certificate_valid"))
      EXPECT_EQ(v, 1.0);
    for (double v : doubles(*table, "output_certificate_valid"))
      EXPECT_EQ(v, 1.0);
  }
}

TEST_F(CertifiedSweep, TablesAreIdenticalAtOneAndTwoThreads) {
  const CertifiedConfig qkv = config_of(kQkvYaml);
  std::string text[2];
  for (std::size_t threads : {1, 2}) {
    const CertifiedOutcome outcome = run(qkv, threads, "q" + std::to_string(threads));
    text[threads - 1] = to_canonical_text(outcome.points) + to_canonical_text(outcome.rows) +
                        to_canonical_text(read_table(outcome.h5_path, "rows"));
  }
  EXPECT_EQ(text[0], text[1]);
  ASSERT_TRUE(fs::exists(kStore)) << test::missing_fixture(kStore);
  const CertifiedConfig store = config_of(store_yaml("  layers: [2]\n  heads: [1, 7]\n"));
  for (std::size_t threads : {1, 2}) {
    const CertifiedOutcome outcome = run(store, threads, "s" + std::to_string(threads));
    text[threads - 1] = to_canonical_text(outcome.points) + to_canonical_text(outcome.pooled) +
                        to_canonical_text(read_table(outcome.h5_path, "rows"));
  }
  EXPECT_EQ(text[0], text[1]);
}

TEST_F(CertifiedSweep, EveryCertificateHoldsOnTheBertFixture) {
  ASSERT_TRUE(fs::exists(kStore)) << test::missing_fixture(kStore);
  const CertifiedOutcome outcome =
      run(config_of(store_yaml("  layers: [0, 5]\n  heads: [0, 4, 9]\n")), 2, "bert");
  // 6 heads × 576 tokens (sequences of 32, 64, 96, 128, 256), 4 searches, 2 eps.
  EXPECT_EQ(outcome.rows_total, 6u * 576u);
  EXPECT_EQ(outcome.rows.rows(), 6u * 576u * 4u * 2u);
  EXPECT_EQ(outcome.pooled.rows(), 5u * 4u * 2u);  // n × search × eps
  expect_all_valid(outcome);
  // Kept keys are never fewer than the exact k_eps; scored keys never fewer than kept ones.
  const auto& kept = doubles(outcome.pooled, "kept_over_n_mean");
  const auto& scored = doubles(outcome.pooled, "scored_over_n_mean");
  const auto& exact = doubles(outcome.pooled, "k_over_n_mean");
  for (std::size_t r = 0; r < outcome.pooled.rows(); ++r) {
    EXPECT_GE(kept[r], exact[r] - 1e-12);
    EXPECT_GE(scored[r], kept[r] - 1e-12);
  }
}

TEST_F(CertifiedSweep, EveryCertificateHoldsOnSyntheticRows) {
  const CertifiedOutcome outcome = run(config_of(kQkvYaml), 2, "qkv");
  EXPECT_EQ(outcome.rows_total, 2u * 12u + 6u + 6u);
  expect_all_valid(outcome);
  EXPECT_EQ(outcome.points.rows(), 4u * 4u * 2u);  // points × searches × eps
  // Clustered keys with the query on one cluster: MC-Search over clusters leaves keys unscored.
  const auto& scored = doubles(outcome.points, "scored_over_n_mean");
  EXPECT_LT(scored[0], 1.0);
}

TEST_F(CertifiedSweep, OneRowEqualsTheLibraryRunByHand) {
  const CertifiedConfig config = config_of(R"(kind: certified
name: one
source: {type: qkv, family: clustered, n: 300, d: 12, clusters: 5, rows: 1, seed: 99}
eps: 0.05
searches: [{name: mc, type: mc_search, clusters: 7, iterations: 6}]
bounds: [b2]
)");
  const CertifiedOutcome outcome = run(config, 1, "one");
  ASSERT_EQ(outcome.points.rows(), 1u);

  QkvParameters p;
  p.family = QkvFamily::kClustered;
  p.n = 300;
  p.d = 12;
  p.dv = 64;
  p.clusters = 5;
  RandomStream key_rng = make_stream(99, 0, 0, StreamPurpose::kKeys);
  const QkvKeySet set = sample_key_set(p, key_rng);
  RandomStream query_rng = make_stream(99, 0, 0, StreamPurpose::kQuery);
  const Eigen::VectorXd q = sample_query(p, set, query_rng);
  CellOptions cells_options;
  cells_options.kind = CellKind::kClusters;
  cells_options.clusters = 7;
  cells_options.iterations = 6;
  const KeyCells cells(set.keys, set.values, cells_options);
  McSearchOptions options;
  options.eps = 0.05;
  const SearchResult result = mc_search(cells, q, qkv_scale(p), options);
  const std::vector<double> logits = cells.logits(q, qkv_scale(p));
  const OutputCertificate oc = output_certificate(result, set.values, &cells, logits);
  const TailProfile profile(logits);

  const double n = 300.0;
  EXPECT_EQ(doubles(outcome.points, "scored_over_n_mean")[0], result.scored / n);
  EXPECT_EQ(doubles(outcome.points, "kept_over_n_mean")[0], result.kept / n);
  EXPECT_EQ(doubles(outcome.points, "bound_mean")[0], result.bound);
  EXPECT_EQ(doubles(outcome.points, "true_tau_mean")[0], result.true_tau);
  EXPECT_EQ(doubles(outcome.points, "k_over_n_mean")[0], profile.k_eps(0.05) / n);
  EXPECT_EQ(doubles(outcome.points, "exact_error_mean")[0], oc.exact);
  EXPECT_EQ(doubles(outcome.points, "certificate_ratio_median")[0], oc.certificate_ratio);
  EXPECT_EQ(doubles(outcome.points, "o3_ratio_median")[0], oc.head_radius_ratio);
  EXPECT_EQ(doubles(outcome.points, "o5_ratio_median")[0], oc.generic_ratio);
  // O2 comes from the key set's distance matrix (a different summation order).
  EXPECT_NEAR(doubles(outcome.points, "o2_ratio_median")[0], oc.diameter_ratio,
              1e-12 * oc.diameter_ratio);
}

TEST_F(CertifiedSweep, ConfigErrorsAreLocated) {
  const std::string head =
      "kind: certified\nname: x\nsource: {type: qkv, family: clustered, "
      "rows: 4, seed: 1}\neps: 0.1\n";
  EXPECT_EQ(config_error(head + "searches:\n  - {type: mc_serch}\n"),
            "test.yaml:6:12: searches[0].type: unknown search type 'mc_serch' (did you mean "
            "mc_search?)");
  EXPECT_EQ(config_error(head + "searches:\n  - type: mc_search\n    cells: blokcs\n"),
            "test.yaml:7:12: searches[0].cells: unknown cells kind 'blokcs' (did you mean "
            "blocks?)");
  EXPECT_EQ(config_error(head + "searches:\n  - {type: b5, kept: topk}\n"),
            "test.yaml:6:22: searches[0].kept: is not a key of search type b5 (it applies to "
            "mc_search)");
  EXPECT_EQ(config_error(head + "searches:\n  - {type: delta_k, delta_bound: b4}\n"),
            "test.yaml:6:34: searches[0].delta_bound: unknown Δk bound 'b4' (known: b1, b2, b3, "
            "b3_gap, b3_equal, b3_equal_gap)");
  EXPECT_EQ(config_error(head + "searches:\n  - {type: b5}\n  - {type: b5}\n"),
            "test.yaml:7:5: searches[1].name: duplicate search name 'b5' (give each search its "
            "own name)");
  EXPECT_EQ(config_error("kind: certified\nname: x\nsource: {type: qkv, family: gaussian, "
                         "clusters: 8, rows: 4, seed: 1}\neps: 0.1\n"),
            "test.yaml:3:49: source.clusters: is not used by the gaussian family");
  EXPECT_EQ(config_error("kind: certified\nname: x\nsource: {type: qkv, family: clusterd, "
                         "rows: 4, seed: 1}\neps: 0.1\n"),
            "test.yaml:3:29: source.family: unknown qkv family 'clusterd' (did you mean "
            "clustered?)");
  EXPECT_EQ(config_error(head + "output_eror: true\n"),
            "test.yaml:5:1: output_eror: unknown key (did you mean output_error?)");
}

TEST_F(CertifiedSweep, TheCsvHasTheDocumentedColumns) {
  const CertifiedOutcome outcome = run(config_of(kQkvYaml), 2, "csv");
  std::ifstream csv(outcome.csv_path);
  std::string header;
  std::getline(csv, header);
  for (const char* column :
       {"search", "eps", "scored_over_n_mean", "kept_over_n_mean", "k_over_n_mean",
        "certified_fraction", "certificate_valid", "summaries_over_n_mean", "b1_k_over_n_mean",
        "b4_k_over_n_mean", "o2_ratio_median", "o5_ratio_median"}) {
    EXPECT_NE(("," + header + ",").find("," + std::string(column) + ","), std::string::npos)
        << column << " not in " << header;
  }
  EXPECT_TRUE(fs::exists(outcome.speed_csv_path));
  EXPECT_GT(outcome.speed.rows(), 0u);
}

}  // namespace
}  // namespace tvk
