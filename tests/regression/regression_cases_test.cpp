//! \file Canonical-text regression cases (OpenMC style). Each tests/regression/cases/<case>.yaml
//! (any experiment kind: synthetic, logit_store, certified) is run by the tvk binary with two
//! threads under every kernel set this CPU can run (TVK_KERNELS), and
//!  * the points table read back from <name>.h5 is compared with the checked-in golden
//!    <case>.expected, written one value per line (`<row>.<column> = <value>`, after one
//!    `kind.<column> = <kind>` line per column) so that a diff of a golden names the row and column
//!    that changed. Values are written as to_canonical_text writes them; doubles computed from
//!    integer statistics (mean, std, sem and quantiles of k/n, held fractions, n/mean k) are
//!    compared exactly; every other double is rounded to 12 significant digits first, so that
//!    closed-form columns computed with libm (the rule, through Boost.Math) do not depend on the
//!    libm version;
//!  * every CSV file the run writes (except timings, *_speed.csv) is byte-identical across
//!    kernel sets: the kernels change speed, never data.
//! A store path in a case is relative to the source tree (the runs start there).
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
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include "core/hdf5/results_reader.h"
#include "core/kernels/kernel_set.h"
#include "tests/support/run_tvk.h"

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

//! The golden text of a points table: regression_text's fields, one per line, keyed by row and
//! column. Built from the canonical text itself so that every value is spelled exactly as there.
std::string golden_text(const Table& table) {
  const std::vector<std::string> lines = split_lines(regression_text(table));
  std::vector<std::string> names;
  std::string text;
  for (const std::string& field : parse_csv_record(lines.at(0))) {
    const std::size_t colon = field.rfind(':');
    names.push_back(field.substr(0, colon));
    text += "kind." + names.back() + " = " + field.substr(colon + 1) + "\n";
  }
  for (std::size_t line = 1; line < lines.size(); ++line) {
    const std::vector<std::string> fields = parse_csv_record(lines[line]);
    for (std::size_t i = 0; i < fields.size(); ++i)
      text += std::to_string(line - 1) + "." + names.at(i) + " = " + csv_field(fields[i]) + "\n";
  }
  return text;
}

//! The golden lines that differ, keyed: "3.tau_mean: expected 0.1 / actual 0.2", at most
//! `limit` of them, then how many more.
std::string golden_differences(const std::string& expected, const std::string& actual,
                               std::size_t limit = 20) {
  const auto keyed = [](const std::string& text) {
    std::map<std::string, std::string> values;
    for (const std::string& line : split_lines(text)) {
      const std::size_t equals = line.find(" = ");
      if (equals == std::string::npos) {
        values[line] = "";
      } else {
        values[line.substr(0, equals)] = line.substr(equals + 3);
      }
    }
    return values;
  };
  const auto a = keyed(expected), b = keyed(actual);
  std::set<std::string> keys;
  for (const auto& [key, value] : a)
    keys.insert(key);
  for (const auto& [key, value] : b)
    keys.insert(key);
  std::string report;
  std::size_t count = 0;
  for (const std::string& key : keys) {
    const auto x = a.find(key), y = b.find(key);
    const std::string xs = x == a.end() ? "<absent>" : x->second;
    const std::string ys = y == b.end() ? "<absent>" : y->second;
    if (xs == ys) continue;
    if (++count <= limit) report += "\n  " + key + ": expected " + xs + " / actual " + ys;
  }
  if (count > limit) report += "\n  ... and " + std::to_string(count - limit) + " more";
  return count == 0 ? "texts differ only in line order or endings" : report;
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

//! The `name:` of a case's config (its results are <out>/<name>.h5).
std::string config_name(const fs::path& config) {
  std::istringstream in(slurp(config));
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("name:", 0) != 0) continue;
    std::string name = line.substr(5);
    name.erase(0, name.find_first_not_of(" \t"));
    name.erase(name.find_last_not_of(" \t\r") + 1);
    return name;
  }
  return "";
}

//! The CSV files of a run folder (timings excluded), by file name.
std::vector<std::pair<std::string, std::string>> data_csv_files(const fs::path& dir) {
  std::vector<std::pair<std::string, std::string>> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string file = entry.path().filename().string();
    if (entry.path().extension() != ".csv" || ends_with(file, "_speed.csv")) continue;
    files.emplace_back(file, slurp(entry.path()));
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST_P(RegressionCaseTest, PointsTableMatchesExpectedUnderEveryKernelSet) {
  const fs::path config_path = kCasesDir / (GetParam() + ".yaml");
  const fs::path expected_path = kCasesDir / (GetParam() + ".expected");
  const std::string name = config_name(config_path);
  ASSERT_FALSE(name.empty()) << config_path << " has no top-level name: line";
  std::vector<std::pair<std::string, std::string>> reference_csv;
  std::string reference_set;
  for (kernels::KernelSet set : kernels::available_kernel_sets()) {
    const std::string set_name = kernels::kernel_set_name(set);
    const fs::path out = dir_ / set_name;
    fs::create_directories(out);
    const test::RunResult run = test::run_tvk(out,
                                              {"run", config_path.string(), "--out", out.string(),
                                               "--threads", "2", "--progress", "none", "--quiet"},
                                              "", {{"TVK_KERNELS", set_name}}, TVK_SOURCE_DIR);
    ASSERT_EQ(run.code, 0) << set_name << ": " << run.err;
    const Table points = read_table(out / (name + ".h5"), "points");
    const std::string actual = golden_text(points);

    // Whatever the expected text, every bound must hold on every row.
    for (const Column& column : points.columns) {
      if (!ends_with(column.name, "_held")) continue;
      for (double held : std::get<std::vector<double>>(column.values))
        EXPECT_EQ(held, 1.0) << column.name;
    }

    const auto csv = data_csv_files(out);
    ASSERT_FALSE(csv.empty()) << set_name << ": the run wrote no CSV";
    if (reference_set.empty()) {
      reference_csv = csv;
      reference_set = set_name;
    } else {
      ASSERT_EQ(csv.size(), reference_csv.size()) << set_name << " vs " << reference_set;
      for (std::size_t i = 0; i < csv.size(); ++i) {
        EXPECT_EQ(csv[i].first, reference_csv[i].first);
        EXPECT_TRUE(csv[i].second == reference_csv[i].second)
            << GetParam() << ": " << csv[i].first << " differs between the " << reference_set
            << " and " << set_name << " kernels; "
            << first_difference(reference_csv[i].second, csv[i].second);
      }
    }

    if (update_mode()) {
      if (set_name == reference_set) {
        std::ofstream(expected_path, std::ios::binary) << actual;
        std::printf("updated %s (%zu lines)\n", expected_path.c_str(), split_lines(actual).size());
      }
      continue;
    }
    ASSERT_TRUE(fs::exists(expected_path))
        << expected_path << " is missing: generate it with tests/regression/update.sh --update";
    const std::string expected = slurp(expected_path);
    EXPECT_TRUE(expected == actual)
        << GetParam() << " (" << set_name
        << " kernels): the points table changed:" << golden_differences(expected, actual)
        << "\nIf the change is intended, run tests/regression/update.sh --update and review the "
           "diff of tests/regression/cases/.";
  }
}

INSTANTIATE_TEST_SUITE_P(Regression, RegressionCaseTest, ::testing::ValuesIn(case_names()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

TEST(RegressionCasesTest, EveryCaseHasItsExpectedTextAndNoOrphans) {
  const std::vector<std::string> cases = case_names();
  EXPECT_GE(cases.size(), 6u) << "cases went missing from " << kCasesDir;
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

TEST(RegressionCasesTest, GoldenTextIsOneValuePerLineKeyedByRowAndColumn) {
  Table table;
  table.columns.push_back({"point", std::vector<std::int64_t>{0, 1}, ""});
  table.columns.push_back({"search", std::vector<std::string>{"b5", "a,b"}, ""});
  table.columns.push_back({"tau_mean", std::vector<double>{0.5, std::nan("")}, ""});
  EXPECT_EQ(golden_text(table),
            "kind.point = i64\nkind.search = str\nkind.tau_mean = f64\n"
            "0.point = 0\n0.search = b5\n0.tau_mean = 0.5\n"
            "1.point = 1\n1.search = \"a,b\"\n1.tau_mean = nan\n");
  const std::string changed = golden_differences("0.a = 1\n0.b = 2\n", "0.a = 1\n0.b = 3\n");
  EXPECT_NE(changed.find("0.b: expected 2 / actual 3"), std::string::npos) << changed;
}

}  // namespace
}  // namespace tvk
