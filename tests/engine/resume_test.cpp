//! \file Checkpoints and resume inside the process: the checkpoint store (atomic point files, a
//! manifest fingerprint that must match on --resume), a sweep interrupted after some points and
//! resumed from its checkpoint giving statistics identical to an uninterrupted sweep, and
//! run_synthetic_sweep's resume rules. The kill -9 / Ctrl-C tests of the real binary are in
//! tests/cli/run_cli_test.cpp.

#include <gtest/gtest.h>
#include <unistd.h>
#include <xxhash.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/bounds/bound_registry.h"
#include "core/config/sweep_config.h"
#include "core/engine/checkpoint.h"
#include "core/engine/checksum.h"
#include "core/engine/sweep_runner.h"
#include "core/error.h"
#include "core/models/model_registry.h"
#include "core/random/stream.h"
#include "experiments/synthetic_sweep.h"

namespace tvk {
namespace {

namespace fs = std::filesystem;

class CheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    root_ = fs::temp_directory_path() /
            ("tvk_resume_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(root_, ignored);
  }
  fs::path root_;
};

TEST(CheckpointFingerprintTest, IsXxh3OfTheLengthPrefixedParts) {
  // The library's own known answer (XXH3-64 of no bytes), then tvk's framing: each part is
  // preceded by its 8-byte length, so a split between parts changes the checksum.
  EXPECT_EQ(XXH3_64bits("", 0), 0x2D06800538D394C2ULL);
  const std::string framed = std::string("\x01\0\0\0\0\0\0\0", 8) + "a";
  EXPECT_EQ(checksum64({"a"}), XXH3_64bits(framed.data(), framed.size()));
  EXPECT_EQ(fingerprint_of("a"), checksum_hex({"a"}));
  EXPECT_EQ(checksum_hex({"a"}).size(), 16u);
  EXPECT_NE(checksum64({"ab", "c"}), checksum64({"a", "bc"}));
  EXPECT_NE(fingerprint_of("rows: 100\n"), fingerprint_of("rows: 101\n"));
}

TEST_F(CheckpointTest, SavesAndLoadsPointsAtomically) {
  const fs::path dir = root_ / "run.checkpoint";
  const CheckpointStore store(dir, "fp1", false);
  EXPECT_TRUE(fs::is_directory(dir));
  EXPECT_EQ(store.resumed_points(), 0u);
  EXPECT_FALSE(store.load(0).has_value());
  const std::string bytes("\0\1binary\xff", 10);
  store.save(3, bytes);
  store.save(0, "zero");
  ASSERT_TRUE(store.load(3).has_value());
  EXPECT_EQ(*store.load(3), bytes);
  EXPECT_EQ(*store.load(0), "zero");
  EXPECT_FALSE(store.load(1).has_value());
  EXPECT_TRUE(fs::exists(dir / "point_3.bin"));
  // No temporary files are left behind.
  for (const auto& entry : fs::directory_iterator(dir))
    EXPECT_NE(entry.path().extension(), ".tmp") << entry.path();
  store.remove();
  EXPECT_FALSE(fs::exists(dir));
}

TEST_F(CheckpointTest, PointFilesAreBoundToTheirPointAndRun) {
  // Valid files in the wrong place: swapped between points, or copied from another run. A
  // checksum of the payload alone accepted both.
  const fs::path dir = root_ / "run.checkpoint", other_dir = root_ / "other.checkpoint";
  const CheckpointStore store(dir, "fp1", false);
  const CheckpointStore other(other_dir, "fp2", false);
  store.save(0, "point zero");
  store.save(1, "point one!");
  other.save(2, "other run");
  fs::rename(dir / "point_0.bin", dir / "swap");
  fs::rename(dir / "point_1.bin", dir / "point_0.bin");
  fs::rename(dir / "swap", dir / "point_1.bin");
  fs::copy_file(other_dir / "point_2.bin", dir / "point_2.bin");
  for (std::size_t p : {0, 1, 2}) {
    try {
      const auto loaded = store.load(p);
      ADD_FAILURE() << "point " << p << " loaded another's bytes: " << loaded.value_or("");
    } catch (const InputError& error) {
      EXPECT_NE(std::string(error.what()).find("of another point or run"), std::string::npos)
          << error.what();
    }
  }
}

TEST_F(CheckpointTest, DamagedPointFilesAreRefusedNamingTheFile) {
  const fs::path dir = root_ / "run.checkpoint";
  const CheckpointStore store(dir, "fp1", false);
  const std::string payload(1000, 'x');
  const fs::path file = dir / "point_2.bin";
  auto damage = [&](auto edit) {
    store.save(2, payload);
    std::string bytes;
    {
      std::ifstream in(file, std::ios::binary);
      bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    edit(bytes);
    std::ofstream(file, std::ios::binary | std::ios::trunc) << bytes;
  };
  auto expect_refused = [&](const std::string& why) {
    try {
      (void)store.load(2);
      ADD_FAILURE() << "a damaged file loaded: " << why;
    } catch (const InputError& error) {
      EXPECT_NE(std::string(error.what()).find("point_2.bin: damaged checkpoint"),
                std::string::npos)
          << error.what();
    }
  };
  store.save(2, payload);
  ASSERT_EQ(*store.load(2), payload);
  damage([](std::string& b) { b[b.size() / 2] ^= 0x10; });  // one flipped bit in the data
  expect_refused("bit flip");
  damage([](std::string& b) { b.resize(b.size() - 3); });  // truncated
  expect_refused("truncated");
  damage([](std::string& b) { b.erase(0, 5); });  // header damaged
  expect_refused("header");
  damage([](std::string& b) { b.clear(); });  // empty
  expect_refused("empty");
}

TEST_F(CheckpointTest, ResumeRequiresTheSameFingerprint) {
  const fs::path dir = root_ / "run.checkpoint";
  {
    const CheckpointStore store(dir, "fingerprint-a", false);
    store.save(0, "p0");
    store.save(2, "p2");
  }
  // A stray temporary file (a save killed mid-write) is not a point.
  std::ofstream(dir / "point_1.bin.tmp") << "half";
  {
    const CheckpointStore resumed(dir, "fingerprint-a", true);
    EXPECT_EQ(resumed.resumed_points(), 2u);
    EXPECT_EQ(*resumed.load(2), "p2");
    EXPECT_FALSE(resumed.load(1).has_value());
  }
  try {
    const CheckpointStore other(dir, "fingerprint-b", true);
    ADD_FAILURE() << "a checkpoint of another config was accepted";
  } catch (const InputError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find(dir.string()), std::string::npos) << message;
    EXPECT_NE(message.find("checkpoint"), std::string::npos) << message;
    // The fingerprint binds the input stores too: a changed store is one of the causes named.
    EXPECT_NE(message.find("input store"), std::string::npos) << message;
  }
  // The refused resume left the checkpoint alone.
  EXPECT_TRUE(fs::exists(dir / "point_2.bin"));
  // Without --resume an old checkpoint is discarded.
  const CheckpointStore fresh(dir, "fingerprint-b", false);
  EXPECT_EQ(fresh.resumed_points(), 0u);
  EXPECT_FALSE(fresh.load(0).has_value());
  EXPECT_FALSE(fs::exists(dir / "point_1.bin.tmp"));
}

TEST_F(CheckpointTest, ResumeWithoutACheckpointStartsFresh) {
  const CheckpointStore store(root_ / "none.checkpoint", "fp", true);
  EXPECT_EQ(store.resumed_points(), 0u);
  EXPECT_TRUE(fs::exists(root_ / "none.checkpoint"));
}

// ---------------------------------------------------------------------------------------------

class LaplaceSource final : public RowSource {
 public:
  LaplaceSource() : model_(make_model("laplace", {{"scale", 0.7}, {"mu", 0.0}})) {}
  std::size_t point_count() const override { return 5; }
  std::size_t row_count(std::size_t) const override { return 97; }
  std::size_t row_length(std::size_t p) const override { return 40 + 30 * p; }
  void fill(std::size_t p, std::size_t r, std::span<double> out) const override {
    RandomStream stream = make_stream(5, p, r, StreamPurpose::kLogits);
    model_->sample(stream, out);
  }

 private:
  std::shared_ptr<const ScoreModel> model_;
};

struct Interrupted : std::runtime_error {
  Interrupted() : std::runtime_error("interrupted") {}
};

TEST_F(CheckpointTest, InterruptedSweepResumesToIdenticalStatistics) {
  const LaplaceSource source;
  auto plan = std::make_shared<RowAnalysisPlan>();
  plan->eps = {0.01, 0.1};
  plan->k_grid = {0.1};
  for (const char* name : {"b1", "b3", "b4"})
    plan->bounds.push_back(make_bound(name, BoundOptions{}));
  SweepOptions options;
  options.threads = 2;
  options.chunk_rows = 8;
  options.store_rows = true;

  const std::vector<PointStatistics> uninterrupted = run_sweep(source, plan, options, {});

  // The first run stops (as a kill would) once point 2 is checkpointed.
  const fs::path dir = root_ / "sweep.checkpoint";
  {
    const CheckpointStore store(dir, "fp", false);
    SweepCallbacks callbacks;
    callbacks.point_done = [&](std::size_t p, const PointStatistics& stats) {
      store.save(p, stats.serialize());
      if (p == 2) throw Interrupted();
    };
    EXPECT_THROW((void)run_sweep(source, plan, options, {}, callbacks), Interrupted);
  }
  // The resumed run loads points 0..2 and computes only 3 and 4.
  const CheckpointStore store(dir, "fp", true);
  EXPECT_EQ(store.resumed_points(), 3u);
  std::vector<std::optional<PointStatistics>> done(source.point_count());
  for (std::size_t p = 0; p < done.size(); ++p) {
    if (auto bytes = store.load(p)) {
      done[p] = PointStatistics::deserialize(
          *bytes, statistics_shape(*plan, source.row_length(p), options.store_rows));
    }
  }
  std::atomic<std::size_t> rows_done{0};
  std::vector<std::size_t> computed;
  SweepCallbacks callbacks;
  callbacks.rows_done = [&](std::size_t rows) { rows_done += rows; };
  callbacks.point_done = [&](std::size_t p, const PointStatistics&) { computed.push_back(p); };
  options.threads = 1;  // and another thread count, for good measure
  const std::vector<PointStatistics> resumed =
      run_sweep(source, plan, options, std::move(done), callbacks);
  EXPECT_EQ(computed, (std::vector<std::size_t>{3, 4}));
  EXPECT_EQ(rows_done.load(), 2u * 97u);
  ASSERT_EQ(resumed.size(), uninterrupted.size());
  for (std::size_t p = 0; p < resumed.size(); ++p)
    EXPECT_TRUE(resumed[p] == uninterrupted[p]) << "point " << p;
}

TEST_F(CheckpointTest, SyntheticSweepRefusesAForeignCheckpoint) {
  const fs::path config_path = fs::path(TVK_SOURCE_DIR) / "configs/tests/sweep_determinism.yaml";
  const SweepConfig config = load_sweep_config(config_path, {"rows=20", "store_rows=false"});
  RunOptions options;
  options.out_dir = root_ / "out";
  options.threads = 2;
  options.progress = ProgressMode::kNone;

  // A resume with no checkpoint runs from scratch and equals a plain run.
  const SweepOutcome plain = run_synthetic_sweep(config, options);
  options.resume = true;
  const SweepOutcome resumed = run_synthetic_sweep(config, options);
  EXPECT_EQ(resumed.resumed_points, 0u);
  EXPECT_EQ(to_canonical_text(resumed.points), to_canonical_text(plain.points));

  // A checkpoint written for another config: refused, nothing written.
  fs::remove_all(options.out_dir);
  { const CheckpointStore other(options.out_dir / "determinism.checkpoint", "other", false); }
  EXPECT_THROW((void)run_synthetic_sweep(config, options), InputError);
  EXPECT_FALSE(fs::exists(options.out_dir / "determinism.h5"));
  EXPECT_FALSE(fs::exists(options.out_dir / "determinism.csv"));
  EXPECT_FALSE(fs::exists(options.out_dir / "determinism.h5.tmp"));
  EXPECT_TRUE(fs::exists(options.out_dir / "determinism.checkpoint" / "manifest.txt"));
  // Without --resume it is replaced and the run completes.
  options.resume = false;
  const SweepOutcome fresh = run_synthetic_sweep(config, options);
  EXPECT_EQ(to_canonical_text(fresh.points), to_canonical_text(plain.points));
  EXPECT_FALSE(fs::exists(options.out_dir / "determinism.checkpoint"));
}

}  // namespace
}  // namespace tvk
