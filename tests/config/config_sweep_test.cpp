// The synthetic-sweep schema: load_sweep_config on files written to a temporary folder.
#include "core/config/sweep_config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include "core/error.h"
#include "core/models/model_registry.h"

namespace tvk {
namespace {

// The config of issue 4, line for line.
const char* const kIssueExample =
    "name: gaussian_scaling      # output file stem\n"                          // 1
    "seed: 2025\n"                                                              // 2
    "rows: 4000                  # rows per grid point\n"                       // 3
    "n: [128, 512, 4096]         # a list is a grid axis; a scalar is fixed\n"  // 4
    "eps: [0.01, 0.05, 0.1]\n"                                                  // 5
    "model:\n"                                                                  // 6
    "  type: gaussian\n"                                                        // 7
    "  sigma: [0.5, 1, 2, 3, 4]\n"                                              // 8
    "bounds: [b1, b2, b3, b4]\n";                                               // 9

class ConfigSweep : public testing::Test {
 protected:
  void SetUp() override {
    const auto* test = testing::UnitTest::GetInstance()->current_test_info();
    folder_ = std::filesystem::path(testing::TempDir()) /
              ("tvk_config_sweep_" + std::string(test->name()) + "_" + std::to_string(::getpid()));
    std::filesystem::create_directories(folder_);
    path_ = (folder_ / "bad.yaml").string();
  }
  void TearDown() override { std::filesystem::remove_all(folder_); }

  //! Writes `text` to a file in the temporary folder and returns its path.
  std::string write(const std::string& name, const std::string& text) const {
    const std::filesystem::path path = folder_ / name;
    std::ofstream(path) << text;
    return path.string();
  }

  //! The message of the InputError that loading `text` (with `overrides`) throws.
  std::string load_error(const std::string& text, const std::vector<std::string>& overrides = {}) {
    write("bad.yaml", text);
    try {
      load_sweep_config(path_, overrides);
    } catch (const InputError& error) {
      return error.what();
    }
    return "<no InputError>";
  }

  //! The issue's example with `from` replaced by `to` (which must occur once).
  static std::string example_with(const std::string& from, const std::string& to) {
    std::string text = kIssueExample;
    const auto at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) text.replace(at, from.size(), to);
    return text;
  }

  std::filesystem::path folder_;
  std::string path_;  // the file load_error() writes, known before it is written
};

const ModelAxis* axis(const ModelGrid& grid, const std::string& param) {
  for (const auto& a : grid.axes) {
    if (a.param == param) return &a;
  }
  return nullptr;
}

// Everything but the bookkeeping strings.
void expect_same_sweep(const SweepConfig& a, const SweepConfig& b) {
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.seed, b.seed);
  EXPECT_EQ(a.rows, b.rows);
  EXPECT_EQ(a.n, b.n);
  EXPECT_EQ(a.analysis.eps, b.analysis.eps);
  ASSERT_EQ(a.models.size(), b.models.size());
  for (std::size_t m = 0; m < a.models.size(); ++m) {
    EXPECT_EQ(a.models[m].type, b.models[m].type);
    ASSERT_EQ(a.models[m].axes.size(), b.models[m].axes.size());
    for (std::size_t i = 0; i < a.models[m].axes.size(); ++i) {
      EXPECT_EQ(a.models[m].axes[i].param, b.models[m].axes[i].param);
      EXPECT_EQ(a.models[m].axes[i].values, b.models[m].axes[i].values);
    }
  }
  EXPECT_EQ(a.analysis.bounds, b.analysis.bounds);
  EXPECT_EQ(a.analysis.block, b.analysis.block);
  EXPECT_EQ(a.analysis.b3_grouping, b.analysis.b3_grouping);
  EXPECT_EQ(a.analysis.b3_groups, b.analysis.b3_groups);
  EXPECT_EQ(a.analysis.k_grid, b.analysis.k_grid);
  EXPECT_EQ(a.store_rows, b.store_rows);
  EXPECT_EQ(a.analysis.chunk_rows, b.analysis.chunk_rows);
}

TEST_F(ConfigSweep, IssueExampleParses) {
  const std::string path = write("example.yaml", kIssueExample);
  const SweepConfig config = load_sweep_config(path, {});
  EXPECT_EQ(config.kind, "synthetic");
  EXPECT_EQ(config.name, "gaussian_scaling");
  EXPECT_EQ(config.seed, 2025u);
  EXPECT_EQ(config.rows, 4000);
  EXPECT_EQ(config.n, (std::vector<std::int64_t>{128, 512, 4096}));
  EXPECT_EQ(config.analysis.eps, (std::vector<double>{0.01, 0.05, 0.1}));
  ASSERT_EQ(config.models.size(), 1u);
  const ModelGrid& model = config.models[0];
  EXPECT_EQ(model.type, "gaussian");
  // One axis per ParamSpec, in spec order; parameters left out are their default.
  const ModelInfo* info = find_model_info("gaussian");
  ASSERT_NE(info, nullptr);
  ASSERT_EQ(model.axes.size(), info->params.size());
  for (std::size_t i = 0; i < info->params.size(); ++i) {
    EXPECT_EQ(model.axes[i].param, info->params[i].name);
  }
  ASSERT_NE(axis(model, "sigma"), nullptr);
  EXPECT_EQ(axis(model, "sigma")->values, (std::vector<double>{0.5, 1, 2, 3, 4}));
  ASSERT_NE(axis(model, "mu"), nullptr);
  EXPECT_EQ(axis(model, "mu")->values, (std::vector<double>{0.0}));
  EXPECT_EQ(model.size(), 5u);
  EXPECT_EQ(config.analysis.bounds, (std::vector<std::string>{"b1", "b2", "b3", "b4"}));
  // Documented defaults.
  EXPECT_EQ(config.analysis.block, 16);
  EXPECT_EQ(config.analysis.b3_grouping, "geometric");
  EXPECT_EQ(config.analysis.b3_groups, 8);
  EXPECT_EQ(config.analysis.k_grid, (std::vector<double>{0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5}));
  EXPECT_FALSE(config.store_rows);
  EXPECT_EQ(config.analysis.chunk_rows, 64);
  EXPECT_EQ(config.source, path);
  EXPECT_EQ(config.command_line_overrides, "");
  EXPECT_EQ(model_point_count(config), 5u);
  EXPECT_EQ(grid_point_count(config), 15u);
}

TEST_F(ConfigSweep, ScalarAndListAxesExpandRowMajor) {
  const SweepConfig config =
      load_sweep_config(write("axes.yaml",
                              "name: axes\nseed: 1\nrows: 10\nn: 512\neps: 0.05\n"
                              "model: {type: gaussian, mu: [0, 1], sigma: [1, 2, 3]}\n"),
                        {});
  EXPECT_EQ(config.n, (std::vector<std::int64_t>{512}));
  EXPECT_EQ(config.analysis.eps, (std::vector<double>{0.05}));
  const ModelGrid& model = config.models[0];
  EXPECT_EQ(model.size(), 6u);
  // mu is the first gaussian parameter, so sigma (the last axis) runs fastest.
  EXPECT_EQ(model.point(0), (ParamValues{{"mu", 0.0}, {"sigma", 1.0}}));
  EXPECT_EQ(model.point(1), (ParamValues{{"mu", 0.0}, {"sigma", 2.0}}));
  EXPECT_EQ(model.point(3), (ParamValues{{"mu", 1.0}, {"sigma", 1.0}}));
  EXPECT_EQ(model.point(5), (ParamValues{{"mu", 1.0}, {"sigma", 3.0}}));
  EXPECT_THROW(model.point(6), std::out_of_range);
  EXPECT_EQ(grid_point_count(config), 6u);
}

TEST_F(ConfigSweep, OverridesChangeAddAndReplaceLists) {
  const std::vector<std::string> overrides = {"rows=100",         "model.sigma=[1,2]", "n=512",
                                              "+store_rows=true", "eps[1]=0.2",        "+block=4"};
  const SweepConfig config = load_sweep_config(write("example.yaml", kIssueExample), overrides);
  EXPECT_EQ(config.rows, 100);
  EXPECT_EQ(axis(config.models[0], "sigma")->values, (std::vector<double>{1, 2}));
  EXPECT_EQ(config.n, (std::vector<std::int64_t>{512}));
  EXPECT_TRUE(config.store_rows);
  EXPECT_EQ(config.analysis.eps, (std::vector<double>{0.01, 0.2, 0.1}));
  EXPECT_EQ(config.analysis.block, 4);
  EXPECT_EQ(config.command_line_overrides,
            "rows=100 model.sigma=[1,2] n=512 +store_rows=true eps[1]=0.2 +block=4");
  EXPECT_EQ(grid_point_count(config), 2u);
  EXPECT_EQ(config.resolved_text,
            "name: gaussian_scaling\n"
            "seed: 2025\n"
            "rows: 100\n"
            "n: 512\n"
            "eps: [0.01, 0.2, 0.1]\n"
            "model:\n"
            "  type: gaussian\n"
            "  sigma: [1, 2]\n"
            "bounds: [b1, b2, b3, b4]\n"
            "store_rows: true\n"
            "block: 4\n");
}

TEST_F(ConfigSweep, OverrideErrors) {
  EXPECT_EQ(load_error(kIssueExample, {"model.sigm=2"}),
            "<command line>: override 'model.sigm=2': no key model.sigm (did you mean "
            "model.sigma?)");
  EXPECT_EQ(load_error(kIssueExample, {"+rows=5"}),
            "<command line>: override '+rows=5': key rows already exists (use rows=... to change "
            "it)");
  EXPECT_EQ(load_error(kIssueExample, {"rows=abc"}),
            "<command line>: rows: expected an integer, got 'abc'");
  EXPECT_EQ(load_error(kIssueExample, {"+model.sigmaa=1"}),
            "<command line>: model.sigmaa: unknown key (did you mean model.sigma?)");
}

TEST_F(ConfigSweep, UnknownKeysTopLevelAndNested) {
  EXPECT_EQ(load_error(std::string(kIssueExample) + "store_row: true\n"),
            path_ + ":10:1: store_row: unknown key (did you mean store_rows?)");
  EXPECT_EQ(load_error(example_with("  sigma: [0.5, 1, 2, 3, 4]\n",
                                    "  sigma: [0.5, 1, 2, 3, 4]\n  sigmaa: 2\n")),
            path_ + ":9:3: model.sigmaa: unknown key (did you mean model.sigma?)");
  EXPECT_EQ(load_error(example_with("  sigma:", "  sigm:")),
            path_ + ":8:3: model.sigm: unknown key (did you mean model.sigma?)");
  EXPECT_EQ(load_error(example_with("rows:", "rowz:")),
            path_ + ":3:1: rowz: unknown key (did you mean rows?)");
}

TEST_F(ConfigSweep, DuplicateKeys) {
  EXPECT_EQ(load_error(std::string(kIssueExample) + "seed: 3\n"),
            path_ + ":10:1: seed: duplicate key (first at line 2)");
  EXPECT_EQ(load_error(example_with("  type: gaussian\n", "  type: gaussian\n  type: laplace\n")),
            path_ + ":8:3: model.type: duplicate key (first at line 7)");
}

TEST_F(ConfigSweep, WrongTypes) {
  EXPECT_EQ(load_error(example_with("rows: 4000", "rows: abc")),
            path_ + ":3:7: rows: expected an integer, got 'abc'");
  EXPECT_EQ(load_error(example_with("[128, 512, 4096]", "[128, 5x2]")),
            path_ + ":4:10: n[1]: expected an integer, got '5x2'");
  EXPECT_EQ(load_error(example_with("seed: 2025", "seed: -1")),
            path_ + ":2:7: seed: expected a non-negative integer, got '-1'");
  EXPECT_EQ(load_error(example_with("model:\n  type: gaussian\n  sigma: [0.5, 1, 2, 3, 4]\n",
                                    "model: gaussian\n")),
            path_ + ":6:8: model: expected a map of keys, got 'gaussian'");
  EXPECT_EQ(load_error(std::string(kIssueExample) + "store_rows: maybe\n"),
            path_ + ":10:13: store_rows: expected true or false, got 'maybe'");
}

TEST_F(ConfigSweep, EpsMustLieInTheOpenUnitInterval) {
  EXPECT_EQ(load_error(example_with("[0.01, 0.05, 0.1]", "[0.01, 1.5]")),
            path_ + ":5:13: eps[1]: must be in (0, 1), got 1.5");
  EXPECT_EQ(load_error(example_with("[0.01, 0.05, 0.1]", "0")),
            path_ + ":5:6: eps: must be in (0, 1), got 0");
  EXPECT_EQ(load_error(example_with("[0.01, 0.05, 0.1]", "[0.1, 1]")),
            path_ + ":5:12: eps[1]: must be in (0, 1), got 1");
  EXPECT_EQ(load_error(example_with("[0.01, 0.05, 0.1]", "[0.1, 0.1]")),
            path_ + ":5:12: eps[1]: duplicate value 0.1 (also at eps[0])");
  EXPECT_EQ(load_error(example_with("[0.01, 0.05, 0.1]", "[]")),
            path_ + ":5:6: eps: must list at least one value");
}

TEST_F(ConfigSweep, SigmaNotPositiveIsReportedAtTheElement) {
  // The offending element -2 sits at line 7, column 3.
  const std::string text =
      "name: sigma_check\n"                   // 1
      "seed: 1\n"                             // 2
      "rows: 10\n"                            // 3
      "n: 128\n"                              // 4
      "eps: 0.1\n"                            // 5
      "model: {type: gaussian, sigma: [1,\n"  // 6
      "  -2]}\n";                             // 7
  EXPECT_EQ(load_error(text), path_ + ":7:3: model.sigma[1]: must be > 0, got -2");
  // Block style: the element is where its value starts.
  EXPECT_EQ(
      load_error(example_with("  sigma: [0.5, 1, 2, 3, 4]\n", "  sigma:\n    - 1\n    - 0\n")),
      path_ + ":10:7: model.sigma[1]: must be > 0, got 0");
  EXPECT_EQ(load_error(example_with("[0.5, 1, 2, 3, 4]", "-1")),
            path_ + ":8:10: model.sigma: must be > 0, got -1");
}

TEST_F(ConfigSweep, MissingRequiredKeysPointAtTheParent) {
  EXPECT_EQ(load_error(example_with("rows: 4000                  # rows per grid point\n", "")),
            path_ + ":1:1: rows: missing required key");
  EXPECT_EQ(load_error(example_with("  type: gaussian\n", "")),
            path_ + ":6:1: model.type: missing required key");
  EXPECT_EQ(load_error(example_with("model:\n  type: gaussian\n  sigma: [0.5, 1, 2, 3, 4]\n", "")),
            path_ + ":1:1: model: missing required key");
}

TEST_F(ConfigSweep, ResolvedTextIsDeterministicAndReparses) {
  const std::string path = write("example.yaml", kIssueExample);
  const std::vector<std::string> overrides = {"rows=100", "+k_grid=[0.1, 0.5]", "+name_note=x"};
  // An unknown key added on the command line still fails; drop it and compare.
  EXPECT_THROW(load_sweep_config(path, overrides), InputError);
  const std::vector<std::string> valid = {"rows=100", "+k_grid=[0.1, 0.5]", "model.sigma=3",
                                          "+models_note=1", "~models_note"};
  const SweepConfig first = load_sweep_config(path, valid);
  const SweepConfig second = load_sweep_config(path, valid);
  EXPECT_EQ(first.resolved_text, second.resolved_text);
  const SweepConfig again = load_sweep_config(write("resolved.yaml", first.resolved_text), {});
  expect_same_sweep(first, again);
  EXPECT_EQ(again.resolved_text, first.resolved_text);  // a fixed point
  EXPECT_EQ(first.analysis.k_grid, (std::vector<double>{0.1, 0.5}));
}

TEST_F(ConfigSweep, ModelsListForm) {
  const SweepConfig config =
      load_sweep_config(write("models.yaml",
                              "name: heavy\nseed: 3\nrows: 50\nn: [256, 1024]\neps: [0.05]\n"
                              "models:\n"
                              "  - type: gaussian\n"
                              "    sigma: [1, 2]\n"
                              "  - {type: student_t, nu: [2, 3, 5]}\n"),
                        {});
  ASSERT_EQ(config.models.size(), 2u);
  EXPECT_EQ(config.models[0].type, "gaussian");
  EXPECT_EQ(config.models[1].type, "student_t");
  EXPECT_EQ(axis(config.models[1], "nu")->values, (std::vector<double>{2, 3, 5}));
  EXPECT_EQ(model_point_count(config), 5u);
  EXPECT_EQ(grid_point_count(config), 10u);
  const std::string again =
      load_sweep_config(write("again.yaml", config.resolved_text), {}).resolved_text;
  EXPECT_EQ(again, config.resolved_text);
}

TEST_F(ConfigSweep, ModelsListErrors) {
  const std::string head = "name: x\nseed: 3\nrows: 50\nn: 8\neps: 0.1\n";
  EXPECT_EQ(load_error(head + "models:\n  - type: gaussian\n  - type: laplace\n    sigma: 2\n"),
            path_ + ":9:5: models[1].sigma: unknown key (valid here: type, scale, mu)");
  EXPECT_EQ(load_error(head + "models: []\n"),
            path_ + ":6:9: models: must list at least one model");
  EXPECT_EQ(load_error(head + "model: {type: gaussian}\nmodels: [{type: laplace}]\n"),
            path_ + ":7:9: models: give either model or models, not both");
  EXPECT_EQ(load_error(head + "models:\n  - {sigma: 2}\n"),
            path_ + ":7:5: models[0].type: missing required key");
}

TEST_F(ConfigSweep, UnknownModelTypeAndBound) {
  EXPECT_EQ(load_error(example_with("type: gaussian", "type: gausian")),
            path_ + ":7:9: model.type: unknown model type 'gausian' (did you mean gaussian?)");
  const std::string unknown = load_error(example_with("type: gaussian", "type: cauchy"));
  EXPECT_EQ(
      unknown.rfind(path_ + ":7:9: model.type: unknown model type 'cauchy' (known: gaussian, ", 0),
      0u)
      << unknown;
  EXPECT_EQ(load_error(example_with("[b1, b2, b3, b4]", "[b1, b5]")),
            path_ +
                ":9:14: bounds[1]: unknown bound 'b5' (known: b1, b2, b3, b3_gap, b3_equal, "
                "b3_equal_gap, b4)");
  EXPECT_EQ(load_error(example_with("[b1, b2, b3, b4]", "[b2, b2]")),
            path_ + ":9:14: bounds[1]: duplicate value 'b2' (also at bounds[0])");
  EXPECT_EQ(load_error(std::string(kIssueExample) + "b3_grouping: eqaul\n"),
            path_ + ":10:14: b3_grouping: unknown b3_grouping 'eqaul' (did you mean equal?)");
}

TEST_F(ConfigSweep, OptionalKeys) {
  const SweepConfig config = load_sweep_config(
      write("options.yaml", std::string(kIssueExample) + "bounds_note_free: 1\n"),
      {"~bounds_note_free", "bounds=b2", "+block=4", "+b3_grouping=equal", "+b3_groups=3",
       "+k_grid=0.25", "+store_rows=yes", "+chunk_rows=128", "+kind=synthetic"});
  EXPECT_EQ(config.analysis.bounds, (std::vector<std::string>{"b2"}));
  EXPECT_EQ(config.analysis.block, 4);
  EXPECT_EQ(config.analysis.b3_grouping, "equal");
  EXPECT_EQ(config.analysis.b3_groups, 3);
  EXPECT_EQ(config.analysis.k_grid, (std::vector<double>{0.25}));
  EXPECT_TRUE(config.store_rows);
  EXPECT_EQ(config.analysis.chunk_rows, 128);
  EXPECT_EQ(load_error(kIssueExample, {"+chunk_rows=0"}),
            "<command line>: chunk_rows: must be >= 1, got 0");
  EXPECT_EQ(load_error(kIssueExample, {"+k_grid=[0.5, 0]"}),
            "<command line>: k_grid[1]: must be in (0, 1], got 0");
  EXPECT_EQ(load_error(kIssueExample, {"+kind=logit_store"}),
            "<command line>: kind: unknown experiment kind 'logit_store' (known: synthetic)");
}

TEST_F(ConfigSweep, NameAndCountsAreValidated) {
  EXPECT_EQ(load_error(example_with("name: gaussian_scaling", "name: a/b")),
            path_ +
                ":1:7: name: must be a file stem of letters, digits, '_', '.' and '-', got "
                "'a/b'");
  EXPECT_EQ(load_error(example_with("rows: 4000", "rows: 0")),
            path_ + ":3:7: rows: must be >= 1, got 0");
  EXPECT_EQ(load_error(example_with("[128, 512, 4096]", "[128, 0]")),
            path_ + ":4:10: n[1]: must be >= 1, got 0");
  EXPECT_EQ(load_error(example_with("[128, 512, 4096]", "[128, 128]")),
            path_ + ":4:10: n[1]: duplicate value 128 (also at n[0])");
  // A name the file system cannot take with tvk's suffixes: refused when read.
  EXPECT_NE(load_error(example_with("name: gaussian_scaling", "name: " + std::string(201, 'a')))
                .find("name: must be at most 200 characters, got 201"),
            std::string::npos);
  // A model parameter that counts keys (sinks' m) cannot exceed the row length.
  EXPECT_NE(load_error("name: s\nseed: 1\nrows: 10\nn: [64, 16]\neps: 0.1\n"
                       "model: {type: sinks, m: [4, 20]}\n")
                .find("model.m[1]: must be <= the smallest n (16), got 20"),
            std::string::npos);
  // Several duplicates: the first later position that repeats an earlier value, named with the
  // first earlier one (what a scan of every pair reports; the check now sorts instead).
  EXPECT_EQ(load_error(example_with("[128, 512, 4096]", "[5, 3, 7, 3, 5, 3]")),
            path_ + ":4:14: n[3]: duplicate value 3 (also at n[1])");
  std::string many = "[";
  for (int i = 1; i <= 100000; ++i)
    many += std::to_string(i) + ", ";
  many += "99999]";
  EXPECT_NE(load_error(example_with("[128, 512, 4096]", many))
                .find("n[100000]: duplicate value 99999 (also at n[99998])"),
            std::string::npos);
}

TEST_F(ConfigSweep, MissingFileAndSyntaxErrors) {
  const std::string missing = (folder_ / "nope.yaml").string();
  try {
    load_sweep_config(missing, {});
    FAIL() << "no error";
  } catch (const InputError& error) {
    EXPECT_EQ(std::string(error.what()), missing + ": cannot open config file");
  }
  const std::string syntax = load_error("name: x\nn: [1, 2\nrows: 3\n");
  EXPECT_EQ(syntax.rfind(path_ + ":", 0), 0u) << syntax;
  EXPECT_NE(syntax.find(": YAML syntax error: "), std::string::npos) << syntax;
}

TEST_F(ConfigSweep, DescribeShowsResolvedYamlAndGridSizes) {
  const SweepConfig config = load_sweep_config(write("example.yaml", kIssueExample), {"rows=64"});
  const std::string text = describe(config);
  EXPECT_NE(text.find(config.resolved_text), std::string::npos) << text;
  EXPECT_NE(text.find("rows=64"), std::string::npos) << text;
  EXPECT_NE(text.find("model points: 5"), std::string::npos) << text;
  EXPECT_NE(text.find("grid points: 15"), std::string::npos) << text;
  EXPECT_NE(text.find("960 in all"), std::string::npos) << text;
}

}  // namespace
}  // namespace tvk
