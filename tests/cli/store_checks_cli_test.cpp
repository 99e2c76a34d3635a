//! \file The store-dependent checks of kinds logit_store and certified, end to end: a selection
//! that leaves no query row is one line and exit 2 with nothing written (no checkpoint folder);
//! `tvk validate` opens the store's metadata and refuses what a run would; a multirun whose later
//! job fails on its store writes nothing; errors locate an overridden key at the command line;
//! shards of a decoder store each get a fair share.

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/support/fixtures.h"
#include "tests/support/run_tvk.h"
#include "tests/support/temp_dir.h"

namespace {

namespace fs = std::filesystem;
using tvk::test::RunResult;

const fs::path kStore = fs::path(TVK_SOURCE_DIR) / "tests" / "fixtures" / "smollm2_store.h5";

std::size_t entries_in(const fs::path& dir) {
  if (!fs::exists(dir)) return 0;
  std::size_t count = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir))
    ++count;
  return count;
}

class StoreChecksCli : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(kStore)) << tvk::test::missing_fixture(kStore);
    // The decoder fixture: 6 layers, 9 heads, one sequence of 2048 tokens.
    std::ofstream(dir_ / "certified.yaml")
        << "kind: certified\nname: cert\nsource:\n  type: logit_store\n  store: " << kStore.string()
        << "\n  layers: [0]\n  heads: [0, 1, 2, 3]\n  min_n: 1024\n  query_stride: 383\n"
           "eps: [0.05]\nsearches:\n  - {name: oracle, type: oracle_topk}\nbounds: [b2]\n"
           "output_error: false\nchunk_rows: 4\n";
    std::ofstream(dir_ / "store.yaml") << "kind: logit_store\nname: st\nstore: " << kStore.string()
                                       << "\nlayers: [0]\nheads: [0]\nquery_stride: 383\n"
                                          "eps: [0.05]\n";
  }
  RunResult tvk(const std::vector<std::string>& args) { return tvk::test::run_tvk(dir_, args); }
  std::string config(const std::string& name) const { return (dir_ / name).string(); }

  //! Expects one stderr line, exit 2, containing every part, and nothing under out/.
  void expect_refused(const RunResult& result, const std::vector<std::string>& parts) {
    EXPECT_EQ(result.code, 2) << result.out << result.err;
    EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
    for (const std::string& part : parts)
      EXPECT_NE(result.err.find(part), std::string::npos) << "'" << part << "' in " << result.err;
    EXPECT_EQ(entries_in(dir_ / "out"), 0u);
  }

  tvk::test::TempDir temp_ = tvk::test::TempDir::numbered("tvk_store_checks_cli_");
  const fs::path dir_ = temp_.path();
};

TEST_F(StoreChecksCli, ASelectionWithNoQueryRowIsRefusedLikeKindLogitStore) {
  for (const std::string file : {"certified.yaml", "store.yaml"}) {
    const std::string key = file == "certified.yaml" ? "source.min_n" : "+min_n";
    const std::string where = file == "certified.yaml" ? "source.min_n" : "min_n";
    expect_refused(tvk({"run", config(file), key + "=4096", "--out", "out", "--progress", "none"}),
                   {where, "no selected query row", "4096"});
    expect_refused(tvk({"validate", config(file), key + "=4096"}), {where, "4096"});
  }
  // A store whose only sequence is shorter than min_length.
  expect_refused(tvk({"run", config("certified.yaml"), "+source.min_length=4096", "--out", "out"}),
                 {"source.min_length", "no selected sequence"});
}

TEST_F(StoreChecksCli, ValidateChecksTheStoreMetadata) {
  expect_refused(tvk({"validate", config("certified.yaml"), "source.layers=[6]"}),
                 {"<command line>: source.layers", "index 6 is out of range", "has 6"});
  expect_refused(tvk({"validate", config("certified.yaml"), "source.heads=[0,9]"}),
                 {"source.heads", "index 9"});
  expect_refused(tvk({"validate", config("store.yaml"), "store=absent.h5"}),
                 {"<command line>: store", "absent.h5"});
  expect_refused(tvk({"validate", config("certified.yaml"), "source.store=absent.h5"}),
                 {"source.store", "absent.h5"});
  // A key written in the file is located at its line.
  std::ofstream(dir_ / "bad.yaml") << "kind: logit_store\nname: st\nstore: " << kStore.string()
                                   << "\nlayers: [0, 7]\neps: [0.05]\n";
  expect_refused(tvk({"validate", config("bad.yaml")}), {"bad.yaml:4:", "layers", "index 7"});
  const RunResult good = tvk({"validate", config("certified.yaml")});
  EXPECT_EQ(good.code, 0) << good.err;
}

TEST_F(StoreChecksCli, MultirunChecksEveryJobsStoreBeforeTheFirstRuns) {
  const std::vector<std::string> sweeps = {"source.layers=[0],[6]", "source.min_n=1,4096",
                                           "source.store=" + kStore.string() + ",x.h5"};
  for (const std::string& sweep : sweeps) {
    expect_refused(tvk({"run", "-m", config("certified.yaml"), sweep, "--out", "out", "--progress",
                        "none", "--quiet"}),
                   {"source."});
    expect_refused(tvk({"validate", "-m", config("certified.yaml"), sweep}), {"source."});
  }
}

TEST_F(StoreChecksCli, ShardsOfADecoderStoreShareItsItems) {
  // Four heads of one sequence with one query row each: four units of one work item. Each of two
  // shards computes two of them (not shard 0 all four).
  std::vector<std::uintmax_t> sizes;
  for (const std::string shard : {"0/2", "1/2"}) {
    const RunResult run = tvk({"run", config("certified.yaml"), "--shard", shard, "--out", "parts",
                               "--progress", "none"});
    ASSERT_EQ(run.code, 0) << run.err;
  }
  for (const auto& entry : fs::directory_iterator(dir_ / "parts"))
    sizes.push_back(fs::file_size(entry.path()));
  ASSERT_EQ(sizes.size(), 2u);
  EXPECT_LT(std::max(sizes[0], sizes[1]), 2 * std::min(sizes[0], sizes[1]));
  const RunResult merged =
      tvk({"merge", "merged", (dir_ / "parts" / "cert.shard-0-of-2.tvkpart").string(),
           (dir_ / "parts" / "cert.shard-1-of-2.tvkpart").string()});
  EXPECT_EQ(merged.code, 0) << merged.err;
}

TEST_F(StoreChecksCli, AShardCountThatMergeCannotCombineIsRefused) {
  const RunResult run =
      tvk({"run", config("certified.yaml"), "--shard", "0/1000000", "--out", "out"});
  expect_refused(run, {"--shard", "tvk merge"});
}

}  // namespace
