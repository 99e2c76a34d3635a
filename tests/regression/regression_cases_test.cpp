//! \file Canonical-text regression cases (OpenMC style). Each tests/regression/cases/<case>.yaml
//! is run as a sweep (two threads) and the points table read back from <name>.h5 is compared, as
//! canonical text, with the checked-in <case>.expected. Doubles computed from integer statistics
//! (mean, std, sem and quantiles of k/n, held fractions, n/mean k) are compared exactly; every
//! other double is rounded to 12 significant digits first, so last-bit differences of libm
//! between machines do not matter.
//!
//! To accept a deliberate change, rerun with TVK_REGRESSION_UPDATE=1 (or
//! `tests/regression/update.sh --update`), which rewrites the .expected files, and review the
//! diff. Adding a case = adding a <case>.yaml and generating its .expected that way.

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include "core/io/results_reader.h"
#include "core/io/sweep_config.h"
#include "experiments/synthetic_sweep.h"

namespace tvk {
namespace {

namespace fs = std::filesystem;

const fs::path kCasesDir = fs::path(TVK_SOURCE_DIR) / "tests/regression/cases";

bool update_mode() {
  const char* value = std::getenv("TVK_REGRESSION_UPDATE");
  return value != nullptr && std::string(value) != "" && std::string(value) != "0";
}

//! The case names: stems of cases/*.yaml, sorted.
std::vector<std::string> case_names() {
  std::vector<std::string> names;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(kCasesDir, error)) {
    if (entry.path().extension() == ".yaml") names.push_back(entry.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

//! Double columns computed only from integer statistics (exact on every machine that draws
//! the same k values): kept exact in the canonical text.
bool integer_derived(const std::string& name) {
  for (const char* suffix : {"k_over_n_mean", "k_over_n_std", "k_over_n_sem", "k_over_n_q05",
                             "k_over_n_q50", "k_over_n_q95", "_held"}) {
    if (ends_with(name, suffix)) return true;
  }
  return name == "key_reduction";
}

double round_to_12_digits(double value) {
  if (!std::isfinite(value)) return value;
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%.12g", value);
  return std::strtod(buffer, nullptr);
}

//! The canonical text of a points table with non-integer-derived doubles rounded.
std::string regression_text(Table table) {
  for (Column& column : table.columns) {
    if (column.kind() != ColumnKind::kDouble || integer_derived(column.name)) continue;
    for (double& value : std::get<std::vector<double>>(column.values))
      value = round_to_12_digits(value);
  }
  return to_canonical_text(table);
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  return lines;
}

//! "line 3 (row 2): expected ... / actual ..." for the first difference.
std::string first_difference(const std::string& expected, const std::string& actual) {
  const auto a = split_lines(expected), b = split_lines(actual);
  for (std::size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
    const std::string x = i < a.size() ? a[i] : "<end of file>";
    const std::string y = i < b.size() ? b[i] : "<end of output>";
    if (x != y) {
      return "first difference at line " + std::to_string(i + 1) + ":\n  expected: " + x +
             "\n  actual:   " + y;
    }
  }
  return "texts differ only in line endings";
}

class RegressionCaseTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("tvk_regression_" + std::to_string(::getpid()) + "_" + GetParam());
    fs::remove_all(dir_);
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
  fs::path dir_;
};

TEST_P(RegressionCaseTest, PointsTableMatchesExpected) {
  const fs::path config_path = kCasesDir / (GetParam() + ".yaml");
  const fs::path expected_path = kCasesDir / (GetParam() + ".expected");
  const SweepConfig config = load_sweep_config(config_path, {});
  RunOptions options;
  options.out_dir = dir_;
  options.threads = 2;
  options.progress = ProgressMode::kNone;
  const SweepOutcome outcome = run_synthetic_sweep(config, options);
  const Table points = read_table(outcome.h5_path, "points");
  const std::string actual = regression_text(points);

  // Whatever the expected text, every bound must hold on every row.
  for (const Column& column : points.columns) {
    if (!ends_with(column.name, "_held")) continue;
    for (double held : std::get<std::vector<double>>(column.values))
      EXPECT_EQ(held, 1.0) << column.name;
  }

  if (update_mode()) {
    std::ofstream(expected_path, std::ios::binary) << actual;
    std::printf("updated %s (%zu lines)\n", expected_path.c_str(), split_lines(actual).size());
    return;
  }
  ASSERT_TRUE(fs::exists(expected_path))
      << expected_path << " is missing: generate it with tests/regression/update.sh --update";
  const std::string expected = slurp(expected_path);
  EXPECT_TRUE(expected == actual)
      << GetParam() << ": the points table changed; " << first_difference(expected, actual)
      << "\nIf the change is intended, run tests/regression/update.sh --update and review the "
         "diff of tests/regression/cases/.";
}

INSTANTIATE_TEST_SUITE_P(Regression, RegressionCaseTest, ::testing::ValuesIn(case_names()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

TEST(RegressionCasesTest, EveryCaseHasItsExpectedTextAndNoOrphans) {
  const std::vector<std::string> cases = case_names();
  EXPECT_GE(cases.size(), 3u) << "cases went missing from " << kCasesDir;
  for (const auto& entry : fs::directory_iterator(kCasesDir)) {
    if (entry.path().extension() != ".expected") continue;
    const std::string stem = entry.path().stem().string();
    EXPECT_TRUE(std::find(cases.begin(), cases.end(), stem) != cases.end())
        << entry.path() << " has no " << stem << ".yaml";
  }
  if (update_mode()) return;
  for (const auto& name : cases) {
    EXPECT_TRUE(fs::exists(kCasesDir / (name + ".expected")))
        << name << ".expected is missing: tests/regression/update.sh --update";
  }
}

TEST(RegressionCasesTest, RoundingKeepsTwelveDigitsAndIntegerStatistics) {
  EXPECT_EQ(round_to_12_digits(0.1234567890123456), 0.123456789012);
  EXPECT_EQ(round_to_12_digits(1.0 / 3.0), 0.333333333333);
  EXPECT_EQ(round_to_12_digits(0.05), 0.05);
  EXPECT_TRUE(std::isnan(round_to_12_digits(std::nan(""))));
  Table table;
  table.columns.push_back({"k_over_n_mean", std::vector<double>{1.0 / 3.0}, ""});
  table.columns.push_back({"tau_at_k_mean", std::vector<double>{1.0 / 3.0}, ""});
  const std::string text = regression_text(table);
  EXPECT_NE(text.find("0.3333333333333333,0.333333333333\n"), std::string::npos) << text;
}

}  // namespace
}  // namespace tvk
