//! \file End-to-end tests of `tvk store`: --help, `tvk store info` on a valid store (every
//! count it prints), and one stderr line with exit code 2 for every bad store.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <hdf5.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "core/hdf5/hdf5_handle.h"
#include "core/hdf5/logit_store_writer.h"
#include "core/hdf5/results_writer.h"
#include "tests/support/run_tvk.h"
#include "tests/support/temp_dir.h"

namespace {

namespace fs = std::filesystem;

using tvk::test::RunResult;

std::size_t line_count(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

// A store of `lengths.size()` sequences, 2 layers x 3 heads, head_dim 4, values i/100 (with
// `poison`, the last sequence's k of layer 1 is NaN: an error found only when that head is read).
void write_store(const fs::path& path, const std::vector<std::size_t>& lengths, bool poison = false,
                 float factor = 1.0f) {
  constexpr std::size_t kLayers = 2, kHeads = 3, kHeadDim = 4;
  std::vector<tvk::StoreSequenceData> sequences;
  for (std::size_t length : lengths) {
    tvk::StoreSequenceData sequence;
    sequence.text = "text of length " + std::to_string(length);
    for (std::size_t token = 0; token < length; ++token)
      sequence.token_ids.push_back(static_cast<std::int64_t>(token));
    const std::size_t size = kLayers * kHeads * length * kHeadDim;
    for (auto* values : {&sequence.q, &sequence.k, &sequence.v}) {
      values->resize(size);
      for (std::size_t i = 0; i < size; ++i)
        (*values)[i] = factor * static_cast<float>(i % 17) / 100.0f;
    }
    sequences.push_back(std::move(sequence));
  }
  if (poison) {
    auto& k = sequences.back().k;
    std::fill(k.begin() + static_cast<std::ptrdiff_t>(k.size() / 2), k.end(),
              std::numeric_limits<float>::quiet_NaN());
  }
  tvk::Provenance provenance = tvk::synthetic_store_provenance("store CLI test");
  provenance.set("model_name", std::string("cli-test-model"));
  tvk::write_logit_store(path, provenance, kLayers, kHeads, kHeadDim, sequences);
}

class StoreCli : public ::testing::Test {
 protected:
  //! Runs `tvk ARGS` in the temp dir.
  RunResult run(const std::vector<std::string>& args) { return tvk::test::run_tvk(dir_, args); }

  //! Expects `tvk store info path` to fail with exit code 2 and one stderr line naming the file
  //! and containing `part`.
  void expect_bad_store(const fs::path& path, const std::string& part) {
    const RunResult result = run({"store", "info", path.string()});
    EXPECT_EQ(result.code, 2) << result.out << result.err;
    EXPECT_EQ(line_count(result.err), 1u) << result.err;
    EXPECT_EQ(result.err.rfind("tvk: error: ", 0), 0u) << result.err;
    EXPECT_NE(result.err.find(path.string()), std::string::npos) << result.err;
    EXPECT_NE(result.err.find(part), std::string::npos) << result.err;
    EXPECT_TRUE(result.out.empty()) << result.out;
  }

  tvk::test::TempDir temp_ = tvk::test::TempDir::numbered("tvk_store_cli_");
  const fs::path dir_ = temp_.path();
};

TEST_F(StoreCli, ToolHelpListsTheVerb) {
  const RunResult result = run({"--help"});
  EXPECT_EQ(result.code, 0) << result.err;
  EXPECT_NE(result.out.find("store"), std::string::npos) << result.out;
}

TEST_F(StoreCli, StoreHelpListsInfo) {
  const RunResult result = run({"store", "--help"});
  EXPECT_EQ(result.code, 0) << result.err;
  EXPECT_NE(result.out.find("usage: tvk store"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("info"), std::string::npos) << result.out;
  EXPECT_TRUE(result.err.empty()) << result.err;
}

TEST_F(StoreCli, InfoHelp) {
  const RunResult result = run({"store", "info", "--help"});
  EXPECT_EQ(result.code, 0) << result.err;
  EXPECT_NE(result.out.find("usage: tvk store info STORE"), std::string::npos) << result.out;
  EXPECT_TRUE(result.err.empty()) << result.err;
}

TEST_F(StoreCli, MissingOrUnknownSubcommandIsOneLineExitTwo) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"store"}, {"store", "frobnicate"}, {"store", "info"}}) {
    const RunResult result = run(args);
    EXPECT_EQ(result.code, 2) << args.size() << result.err;
    EXPECT_EQ(line_count(result.err), 1u) << result.err;
  }
}

TEST_F(StoreCli, InfoPrintsAttributesAndCounts) {
  const fs::path path = dir_ / "store.h5";
  write_store(path, {5, 7, 7});
  const RunResult result = run({"store", "info", path.string()});
  ASSERT_EQ(result.code, 0) << result.err;
  EXPECT_TRUE(result.err.empty()) << result.err;
  const std::string& out = result.out;
  for (const std::string& expected : {
           path.string() + ": tvk logit store, format 1.0",
           std::string("filetype"),
           std::string("tvk-logit-store"),
           std::string("format_version"),
           std::string("[1, 0]"),
           std::string("cli-test-model"),
           std::string("model_weights_sha256"),
           std::string("created_utc"),
           std::string("dimensions:     2 layers x 3 heads, head_dim 4, scale 0.5"),
           std::string("sequences:      3 (length 5 to 7)"),
           std::string("lengths:        5, 7 x2"),
           std::string("tokens:         19"),
           std::string("attention rows: 114 (tokens x layers x heads)"),
           std::string("logits:         738"),  // (25 + 49 + 49) * 6
           std::string("file size:      " + std::to_string(fs::file_size(path)) + " bytes"),
       }) {
    EXPECT_NE(out.find(expected), std::string::npos) << "'" << expected << "' not in:\n" << out;
  }
}

TEST_F(StoreCli, MissingFile) {
  expect_bad_store(dir_ / "absent.h5", "no such file");
}

TEST_F(StoreCli, TextFile) {
  const fs::path path = dir_ / "notes.h5";
  std::ofstream(path) << "not HDF5\n";
  expect_bad_store(path, "not an HDF5 file");
}

TEST_F(StoreCli, TruncatedStore) {
  const fs::path valid = dir_ / "valid.h5";
  write_store(valid, {50, 60});
  const fs::path path = dir_ / "cut.h5";
  fs::copy_file(valid, path);
  fs::resize_file(path, fs::file_size(path) / 2);
  expect_bad_store(path, "");
}

TEST_F(StoreCli, StoreWithMissingDataset) {
  const fs::path path = dir_ / "store.h5";
  write_store(path, {5, 6});
  tvk::silence_hdf5_error_printing();
  {
    tvk::Hdf5Handle file(H5Fopen(path.string().c_str(), H5F_ACC_RDWR, H5P_DEFAULT),
                         tvk::Hdf5Kind::kFile);
    ASSERT_TRUE(file.valid());
    ASSERT_GE(H5Ldelete(file.get(), "/sequences/001/k", H5P_DEFAULT), 0);
  }
  expect_bad_store(path, "/sequences/001/k: missing dataset");
}

TEST_F(StoreCli, ResultsFileIsNotAStore) {
  const fs::path path = dir_ / "results.h5";
  tvk::Provenance provenance;
  provenance.set("filetype", std::string("tvk-results"));
  tvk::write_results_h5(path, provenance, {});
  expect_bad_store(path, "is 'tvk-results', expected 'tvk-logit-store'");
}

TEST_F(StoreCli, AStoreErrorFoundMidRunLeavesNothingBehind) {
  // NaN in layer 1's keys is found when that (layer, head) is read, after layer 0's points are
  // checkpointed; the run used to exit 2 and leave its checkpoint folder.
  const fs::path store = dir_ / "poisoned.h5";
  write_store(store, {6, 9}, /*poison=*/true);
  const fs::path config = dir_ / "poisoned.yaml";
  std::ofstream(config) << "kind: logit_store\nname: poisoned\nstore: " << store.string()
                        << "\neps: 0.1\nbounds: [b1]\n";
  const fs::path out = dir_ / "out";
  const RunResult result =
      run({"run", config.string(), "--out", out.string(), "--progress", "none", "--threads", "1"});
  EXPECT_EQ(result.code, 2) << result.err;
  EXPECT_NE(result.err.find("non-finite value nan"), std::string::npos) << result.err;
  EXPECT_EQ(line_count(result.err), 1u) << result.err;
  EXPECT_TRUE(fs::is_empty(out)) << "left behind in " << out;
}

TEST_F(StoreCli, TwoRunsIntoOneOutputDoNotRace) {
  // A second run while the first holds <out>/<name>.lock refuses with one line, exit 2.
  const fs::path store = dir_ / "store.h5";
  write_store(store, {6});
  const fs::path config = dir_ / "locked.yaml";
  std::ofstream(config) << "kind: logit_store\nname: locked\nstore: " << store.string()
                        << "\neps: 0.1\n";
  const fs::path out = dir_ / "out";
  fs::create_directories(out);
  const int fd = ::open((out / "locked.lock").c_str(), O_RDWR | O_CREAT, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
  const RunResult second =
      run({"run", config.string(), "--out", out.string(), "--progress", "none"});
  EXPECT_EQ(second.code, 2) << second.err;
  EXPECT_NE(second.err.find("another tvk run is writing these results"), std::string::npos)
      << second.err;
  EXPECT_FALSE(fs::exists(out / "locked.h5"));
  ::close(fd);
  const RunResult later =
      run({"run", config.string(), "--out", out.string(), "--progress", "none"});
  EXPECT_EQ(later.code, 0) << later.err;
  EXPECT_TRUE(fs::exists(out / "locked.h5"));
  EXPECT_FALSE(fs::exists(out / "locked.lock"));
}

TEST_F(StoreCli, PartialsOfAStoreWhoseDataChangedDoNotMerge) {
  // The same attributes, size and shape, other values: only the store's content tells them
  // apart. Merging such partials once gave tables of the old data, silently.
  const fs::path store = dir_ / "store.h5";
  write_store(store, {6, 9});
  const fs::path config = dir_ / "changing.yaml";
  std::ofstream(config) << "kind: logit_store\nname: changing\nstore: " << store.string()
                        << "\neps: 0.1\n";
  const fs::path parts = dir_ / "parts";
  for (const char* shard : {"0/2", "1/2"}) {
    const RunResult r = run(
        {"run", config.string(), "--shard", shard, "--out", parts.string(), "--progress", "none"});
    ASSERT_EQ(r.code, 0) << r.err;
  }
  const auto size = fs::file_size(store);
  write_store(store, {6, 9}, false, 1.5f);
  // (Here the new values compress to the same size; a zlib that packs them otherwise would let
  // the size alone tell the stores apart, and the test would prove less.)
  if (fs::file_size(store) != size) GTEST_SKIP() << "the changed store has another size";
  const RunResult merge = run({"merge", (dir_ / "merged.h5").string(),
                               (parts / "changing.shard-0-of-2.tvkpart").string(),
                               (parts / "changing.shard-1-of-2.tvkpart").string()});
  EXPECT_EQ(merge.code, 2) << merge.err;
  EXPECT_NE(merge.err.find("run fingerprint does not match"), std::string::npos) << merge.err;
  EXPECT_FALSE(fs::exists(dir_ / "merged.h5"));
}

TEST_F(StoreCli, AFullDiskIsOneLineExitTwoAndNoCrash) {
  // A file-size limit (ulimit -f, SIGXFSZ ignored) makes writes fail as a full disk does. The
  // results file used to fail inside HDF5's close with a multi-line "internal error" and then
  // segfault at exit.
  const fs::path config = dir_ / "full.yaml";
  std::ofstream(config) << "name: full\nseed: 1\nrows: 50\nn: [64, 256]\neps: [0.01, 0.1]\n"
                           "model: {type: gaussian, sigma: [1, 2, 3]}\nstore_rows: true\n";
  const fs::path out = dir_ / "out";
  const std::string command = "cd " + tvk::test::shell_quote(dir_.string()) +
                              " && sh -c \"trap '' XFSZ; ulimit -f 40; exec " +
                              tvk::test::shell_quote(TVK_BINARY) + " run " + config.string() +
                              " --out " + out.string() +
                              " --progress none --quiet\" > out.txt 2> err.txt";
  const int status = std::system(command.c_str());
  ASSERT_TRUE(WIFEXITED(status)) << "killed by a signal";
  EXPECT_EQ(WEXITSTATUS(status), 2);
  const std::string err = tvk::test::read_text(dir_ / "err.txt");
  EXPECT_EQ(line_count(err), 1u) << err;
  EXPECT_NE(err.find((out / "full.h5").string() + ": cannot write HDF5 file: File too large"),
            std::string::npos)
      << err;
  EXPECT_FALSE(fs::exists(out / "full.h5"));
  EXPECT_FALSE(fs::exists(out / "full.h5.tmp"));
  EXPECT_FALSE(fs::exists(out / "full.csv"));
}

}  // namespace
