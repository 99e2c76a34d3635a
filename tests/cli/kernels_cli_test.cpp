//! \file The kernel set as a user sees it: `tvk --version` names it, TVK_KERNELS forces one, an
//! unknown or unavailable set is one line and exit 2, and results files record the set.

#include <gtest/gtest.h>

#include <string>
#include <variant>

#include "core/hdf5/results_reader.h"
#include "core/kernels/kernel_set.h"
#include "tests/support/run_tvk.h"
#include "tests/support/temp_dir.h"

namespace tvk {
namespace {

using kernels::KernelSet;

class KernelsCli : public ::testing::Test {
 protected:
  test::RunResult run(const std::vector<std::string>& args, const std::string& kernels) {
    return test::run_tvk(temp_.path(), args, "", {{"TVK_KERNELS", kernels}});
  }
  test::TempDir temp_ = test::TempDir::numbered("tvk_kernels_cli_");
};

TEST_F(KernelsCli, VersionNamesTheBestSetOrTheForcedOne) {
  const auto available = kernels::available_kernel_sets();
  const test::RunResult best = run({"--version"}, "");
  ASSERT_EQ(best.code, 0) << best.err;
  EXPECT_NE(
      best.out.find(std::string("\nkernels: ") + kernels::kernel_set_name(available.back()) + "\n"),
      std::string::npos)
      << best.out;
  for (KernelSet set : available) {
    const test::RunResult forced = run({"--version"}, kernels::kernel_set_name(set));
    ASSERT_EQ(forced.code, 0) << forced.err;
    EXPECT_NE(forced.out.find(std::string("kernels: ") + kernels::kernel_set_name(set)),
              std::string::npos)
        << forced.out;
  }
}

TEST_F(KernelsCli, UnknownOrUnavailableSetIsOneLineAndExitTwo) {
  const test::RunResult unknown = run({"--version"}, "avx1024");
  EXPECT_EQ(unknown.code, 2);
  EXPECT_EQ(unknown.err,
            "tvk: error: TVK_KERNELS=avx1024: unknown kernel set (expected one of generic, avx2, "
            "avx512)\n");
  const test::RunResult verb = run({"models"}, "avx1024");
  EXPECT_EQ(verb.code, 2) << "a verb must not run with a bad TVK_KERNELS";
  const auto available = kernels::available_kernel_sets();
  if (available.back() != KernelSet::kAvx512) {
    const test::RunResult missing = run({"--version"}, "avx512");
    EXPECT_EQ(missing.code, 2);
    EXPECT_NE(missing.err.find("this CPU cannot run the avx512 kernels"), std::string::npos)
        << missing.err;
  }
}

TEST_F(KernelsCli, ResultsRecordTheKernelSet) {
  const std::string config = std::string(TVK_SOURCE_DIR) + "/configs/quickstart.yaml";
  const test::RunResult done = run(
      {"run", config, "rows=40", "--out", temp_.path().string(), "--progress", "none", "--quiet"},
      "generic");
  ASSERT_EQ(done.code, 0) << done.err;
  const Provenance provenance = read_provenance(temp_.path() / "quickstart.h5");
  const AttributeValue* kernels = provenance.find("kernels");
  ASSERT_NE(kernels, nullptr);
  EXPECT_EQ(std::get<std::string>(*kernels), "generic");
}

}  // namespace
}  // namespace tvk
