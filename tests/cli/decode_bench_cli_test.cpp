//! \file decode_bench's command line: a value that is not wholly a number in range, or more
//! threads than tvk accepts, is one stderr line naming the option and exit code 2, before the
//! store is read.

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/run_tvk.h"
#include "tests/support/temp_dir.h"

namespace {

namespace fs = std::filesystem;

class DecodeBenchCli : public ::testing::Test {
 protected:
  void SetUp() override {
#ifndef TVK_DECODE_BENCH
    GTEST_SKIP() << "the benchmarks are not built";
#endif
  }

  //! Runs decode_bench with `args` in the temp folder.
  tvk::test::RunResult run(const std::vector<std::string>& args) {
    tvk::test::RunResult result;
#ifdef TVK_DECODE_BENCH
    std::string command = "cd " + tvk::test::shell_quote(dir_.string()) + " && " +
                          tvk::test::shell_quote(TVK_DECODE_BENCH);
    for (const std::string& arg : args)
      command += " " + tvk::test::shell_quote(arg);
    command += " < /dev/null > out.txt 2> err.txt";
    const int status = std::system(command.c_str());
    result.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    result.out = tvk::test::read_text(dir_ / "out.txt");
    result.err = tvk::test::read_text(dir_ / "err.txt");
#else
    (void)args;
#endif
    return result;
  }

  tvk::test::TempDir temp_ = tvk::test::TempDir::numbered("tvk_decode_bench_cli_");
  const fs::path dir_ = temp_.path();
};

TEST_F(DecodeBenchCli, ValuesThatAreNotWhollyANumberInRangeAreRefused) {
  // The store does not exist: every case must be refused before it is opened.
  const std::string store = (dir_ / "absent.h5").string();
  const std::vector<std::vector<std::string>> cases = {{"--repeats", "1e9"},
                                                       {"--n", "10.5"},
                                                       {"--eps", "0.05abc"},
                                                       {"--n", "-1"},
                                                       {"--repeats", "0"},
                                                       {"--eps", "1"},
                                                       {"--threads", "1000000"},
                                                       {"--threads", "-2"},
                                                       {"--n", "99999999999999999999999"},
                                                       {"--frobnicate", "1"},
                                                       {"--n-list", "1024,abc"},
                                                       {"--n-list", "1024,,2048"},
                                                       {"--n-list", "0"},
                                                       {"--eps"}};
  for (const auto& args : cases) {
    std::vector<std::string> full = {"--store", store};
    full.insert(full.end(), args.begin(), args.end());
    const tvk::test::RunResult result = run(full);
    EXPECT_EQ(result.code, 2) << args[0] << ": " << result.err;
    EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
    EXPECT_NE(result.err.find(args[0]), std::string::npos) << result.err;
    EXPECT_EQ(result.err.find("absent.h5"), std::string::npos) << result.err;
  }
}

TEST_F(DecodeBenchCli, HelpExitsZeroAndAMissingStoreIsExitTwo) {
  const tvk::test::RunResult help = run({"--help"});
  EXPECT_EQ(help.code, 0) << help.err;
  EXPECT_NE(help.out.find("--threads"), std::string::npos) << help.out;
  const tvk::test::RunResult missing = run({"--store", (dir_ / "absent.h5").string()});
  EXPECT_EQ(missing.code, 2) << missing.err;
  EXPECT_NE(missing.err.find("absent.h5"), std::string::npos) << missing.err;
}

}  // namespace
