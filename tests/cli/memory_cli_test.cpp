//! \file Memory linear in n: a q/K/V source with output_error (the O2 ratio's value distances)
//! runs at n = 20000 under a 1.5 GB address-space limit, where an n x n distance matrix (3.2 GB)
//! cannot be allocated.

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "tests/support/run_tvk.h"
#include "tests/support/temp_dir.h"

namespace {

namespace fs = std::filesystem;

TEST(MemoryCli, OutputErrorsOfALargeKeySetFitInMemoryLinearInN) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "a sanitizer reserves more address space than the limit";
#endif
  const tvk::test::TempDir temp = tvk::test::TempDir::numbered("tvk_memory_cli_");
  const fs::path dir = temp.path();
  std::ofstream(dir / "big.yaml")
      << "kind: certified\nname: big\nsource:\n  - {type: qkv, family: clustered, n: 20000, d: 8, "
         "dv: 4, clusters: 4, strength: 12, spread: 0.1, rows: 1, seed: 7}\neps: [0.05]\n"
         "searches:\n  - {name: oracle, type: oracle_topk}\nbounds: [b2]\noutput_error: true\n";
  const std::string command = "ulimit -v 1500000 && cd " + tvk::test::shell_quote(dir.string()) +
                              " && " + tvk::test::shell_quote(TVK_BINARY) +
                              " run big.yaml --out out --threads 1 --progress none --quiet"
                              " > out.txt 2> err.txt";
  const int status = std::system(command.c_str());
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << tvk::test::read_text(dir / "err.txt");
  EXPECT_TRUE(fs::exists(dir / "out" / "big.h5"));
}

}  // namespace
