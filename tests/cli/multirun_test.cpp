//! \file `tvk run -m` / `tvk validate -m`: the expansion of comma sweeps (unit tests of
//! experiments/cli/multirun), and end to end: one results file per job, each equal to the
//! single run with that job's overrides; bad values fail before any job runs.

#include "experiments/cli/multirun.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <tuple>
#include <vector>

#include "core/error.h"
#include "tests/support/run_tvk.h"
#include "tests/support/temp_dir.h"

namespace tvk::cli {
namespace {

namespace fs = std::filesystem;
using Strings = std::vector<std::string>;

TEST(Multirun, SplitsAtTopLevelCommasOnly) {
  EXPECT_EQ(split_top_level_commas("1,2,3"), (Strings{"1", "2", "3"}));
  EXPECT_EQ(split_top_level_commas("[1,2],[3]"), (Strings{"[1,2]", "[3]"}));
  EXPECT_EQ(split_top_level_commas("{a: 1, b: 2},x"), (Strings{"{a: 1, b: 2}", "x"}));
  EXPECT_EQ(split_top_level_commas("'a,b',c"), (Strings{"'a,b'", "c"}));
  EXPECT_EQ(split_top_level_commas("[1,2]"), (Strings{"[1,2]"}));
  EXPECT_EQ(split_top_level_commas(""), (Strings{""}));
}

TEST(Multirun, JobsAreTheProductFirstKeySlowest) {
  const auto jobs = expand_multirun({"rows=10", "seed=1,2", "+model.sigma=[1],[2,3]", "~k_grid"});
  ASSERT_EQ(jobs.size(), 4u);
  EXPECT_EQ(jobs[0].overrides, (Strings{"rows=10", "seed=1", "+model.sigma=[1]", "~k_grid"}));
  EXPECT_EQ(jobs[1].overrides, (Strings{"rows=10", "seed=1", "+model.sigma=[2,3]", "~k_grid"}));
  EXPECT_EQ(jobs[2].overrides, (Strings{"rows=10", "seed=2", "+model.sigma=[1]", "~k_grid"}));
  EXPECT_EQ(jobs[3].label, "seed=2 model.sigma=[2,3]");
  EXPECT_EQ(jobs[3].name_suffix, "_seed-2_model.sigma-2-3");
}

TEST(Multirun, ListIndicesInKeysBecomeFileNameParts) {
  const auto jobs = expand_multirun({"models[1].nu=3,5"});
  ASSERT_EQ(jobs.size(), 2u);
  EXPECT_EQ(jobs[1].name_suffix, "_models.1.nu-5");
  EXPECT_EQ(jobs[1].label, "models[1].nu=5");
}

TEST(Multirun, WithoutASweepThereIsOneJobAsGiven) {
  const auto jobs = expand_multirun({"rows=10", "model.sigma=[1,2]"});
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].overrides, (Strings{"rows=10", "model.sigma=[1,2]"}));
  EXPECT_EQ(jobs[0].name_suffix, "");
}

TEST(Multirun, EmptyValuesAndClashingNamesAreErrors) {
  EXPECT_THROW(expand_multirun({"seed=1,,2"}), InputError);
  EXPECT_THROW(expand_multirun({"seed=1,"}), InputError);
  EXPECT_THROW(expand_multirun({"model.sigma=[1 2],[1,2]"}), InputError);  // both "1-2"
}

class MultirunCli : public ::testing::Test {
 protected:
  test::RunResult tvk(const Strings& args) { return test::run_tvk(dir_, args); }
  static std::string config() { return std::string(TVK_SOURCE_DIR) + "/configs/quickstart.yaml"; }
  static std::size_t files_in(const fs::path& dir) {
    if (!fs::exists(dir)) return 0;
    std::size_t count = 0;
    for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir))
      ++count;
    return count;
  }

  test::TempDir temp_ = test::TempDir::numbered("tvk_multirun_cli_");
  const fs::path dir_ = temp_.path();
};

TEST_F(MultirunCli, EachJobEqualsTheSingleRunWithItsOverrides) {
  const auto multi = tvk({"run", "-m", config(), "rows=30", "seed=1,2", "model.sigma=[1],[2,3]",
                          "--out", "multi", "--threads", "2", "--progress", "none", "--quiet"});
  ASSERT_EQ(multi.code, 0) << multi.err;
  EXPECT_NE(multi.out.find("== multirun job 4 of 4: seed=2 model.sigma=[2,3]"), std::string::npos)
      << multi.out;
  EXPECT_EQ(files_in(dir_ / "multi"), 8u);  // an .h5 and a .csv per job, nothing else
  for (const auto& [seed, sigma, stem] :
       {std::tuple{"1", "[1]", "quickstart_seed-1_model.sigma-1"},
        std::tuple{"1", "[2,3]", "quickstart_seed-1_model.sigma-2-3"},
        std::tuple{"2", "[1]", "quickstart_seed-2_model.sigma-1"},
        std::tuple{"2", "[2,3]", "quickstart_seed-2_model.sigma-2-3"}}) {
    const auto single = tvk({"run", config(), "rows=30", std::string("seed=") + seed,
                             std::string("model.sigma=") + sigma, std::string("name=") + stem,
                             "--out", "single", "--threads", "1", "--progress", "none", "--quiet"});
    ASSERT_EQ(single.code, 0) << single.err;
    const std::string csv = std::string(stem) + ".csv";
    ASSERT_TRUE(fs::exists(dir_ / "multi" / csv)) << csv;
    EXPECT_EQ(test::read_text(dir_ / "multi" / csv), test::read_text(dir_ / "single" / csv)) << csv;
  }
}

TEST_F(MultirunCli, ABadValueInALaterJobFailsBeforeAnyJobRuns) {
  const auto bad =
      tvk({"run", "-m", config(), "rows=30", "seed=1,2,x", "--out", "bad", "--progress", "none"});
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("seed: expected a non-negative integer, got 'x'"), std::string::npos)
      << bad.err;
  EXPECT_EQ(files_in(dir_ / "bad"), 0u);
  const auto empty = tvk({"run", "--multirun", config(), "seed=1,,2", "--out", "bad"});
  EXPECT_EQ(empty.code, 2);
  EXPECT_NE(empty.err.find("empty value"), std::string::npos) << empty.err;
  EXPECT_EQ(files_in(dir_ / "bad"), 0u);
}

TEST_F(MultirunCli, WithoutMinusMACommaSweepGetsAHint) {
  const auto plain = tvk({"run", config(), "seed=1,2", "--out", "plain"});
  EXPECT_EQ(plain.code, 2);
  EXPECT_NE(plain.err.find("for one run per value use -m"), std::string::npos) << plain.err;
  EXPECT_EQ(files_in(dir_ / "plain"), 0u);
}

TEST_F(MultirunCli, ValidateListsEveryJobAndWritesNothing) {
  const auto listed = tvk({"validate", "-m", config(), "rows=10,20"});
  ASSERT_EQ(listed.code, 0) << listed.err;
  EXPECT_NE(listed.out.find("== multirun job 2 of 2: rows=20"), std::string::npos) << listed.out;
  EXPECT_NE(listed.out.find("name: quickstart_rows-20"), std::string::npos) << listed.out;
  EXPECT_EQ(files_in(dir_), 2u);  // stdout.txt and stderr.txt of run_tvk only
}

}  // namespace
}  // namespace tvk::cli
