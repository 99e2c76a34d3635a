#include "experiments/checkpointed_run.h"

#include <chrono>
#include <filesystem>
#include <iostream>
#include <optional>

#include "core/engine/checkpoint.h"
#include "core/engine/progress.h"
#include "core/engine/sweep_runner.h"
#include "core/engine/thread_count.h"
#include "core/error.h"
#include "experiments/communicator.h"
#include "experiments/provenance.h"

namespace tvk {
namespace fs = std::filesystem;

fs::path checkpoint_dir(const std::string& name, const RunOptions& options) {
  return options.out_dir / (name + ".checkpoint");
}

CheckpointedRun run_checkpointed(const RowSource& source,
                                 std::shared_ptr<const RowAnalysisPlan> plan,
                                 const std::string& name, const std::string& fingerprint_text,
                                 std::size_t chunk_rows, bool store_rows,
                                 const RunOptions& options) {
  const Communicator& world = Communicator::world();
  CheckpointedRun run;
  run.threads = resolve_thread_count(options.threads);
  run.is_root = world.is_root();
  SweepOptions sweep;
  sweep.threads = run.threads;
  sweep.chunk_rows = chunk_rows;
  sweep.store_rows = store_rows;
  const std::size_t points = source.point_count();
  auto shape_of = [&](std::size_t p) {
    return statistics_shape(*plan, source.row_length(p), store_rows);
  };

  if (options.shard_count > 1) {
    if (world.size() > 1) throw InputError("--shard and mpirun do not combine: use one of them");
    std::size_t rows = 0;
    for (std::size_t p = 0; p < points; ++p)
      rows += source.row_count(p);
    ProgressReporter progress(name + " shard " + std::to_string(options.shard_index) + "/" +
                                  std::to_string(options.shard_count),
                              rows / options.shard_count, options.progress, std::cerr);
    SweepCallbacks callbacks;
    callbacks.rows_done = [&progress](std::size_t r) { progress.advance(r); };
    SweepExecutor executor(plan, sweep);
    fs::create_directories(options.out_dir);
    for (std::size_t p = 0; p < points; ++p) {
      run.shares.push_back(executor.run_share(
          source, p, ShardSpec{options.shard_index, options.shard_count}, callbacks));
    }
    progress.finish();
    return run;
  }

  // Rank 0 owns the checkpoint and decides which points are done; every rank learns it.
  std::optional<CheckpointStore> checkpoint;
  std::vector<std::optional<PointStatistics>> done(points);
  std::string done_flags(points, '0');
  std::size_t remaining_rows = 0;
  if (run.is_root) {
    fs::create_directories(options.out_dir);
    const std::string fingerprint =
        fingerprint_of(fingerprint_text + "\nformat " + std::to_string(kFormatMajor) +
                       "\nchunk_rows " + std::to_string(chunk_rows));
    checkpoint.emplace(checkpoint_dir(name, options), fingerprint, options.resume);
    const std::vector<char> restored = checkpoint->restore_saved(
        points,
        [&](std::size_t p, const std::string& bytes) {
          done[p] = PointStatistics::deserialize(bytes, shape_of(p));
        },
        "point", std::cerr);
    for (std::size_t p = 0; p < points; ++p) {
      if (restored[p]) {
        done_flags[p] = '1';
        ++run.resumed_points;
      } else {
        remaining_rows += source.row_count(p);
      }
    }
  }
  world.broadcast(done_flags);

  ProgressReporter progress(name, remaining_rows,
                            run.is_root ? options.progress : ProgressMode::kNone, std::cerr);
  SweepCallbacks callbacks;
  // Rank 0 sees only its own rows; scaling by the rank count keeps its bar honest.
  const std::size_t ranks = static_cast<std::size_t>(world.size());
  callbacks.rows_done = [&progress, ranks](std::size_t r) { progress.advance(r * ranks); };
  SweepExecutor executor(plan, sweep);
  const ShardSpec mine{static_cast<std::size_t>(world.rank()), ranks};
  run.statistics.resize(points);
  for (std::size_t p = 0; p < points; ++p) {
    if (done_flags[p] == '1') {
      if (run.is_root) run.statistics[p] = std::move(*done[p]);
      continue;
    }
    PointShare share = executor.run_share(source, p, mine, callbacks);
    if (!run.is_root) {
      world.send(0, share.serialize());
      continue;
    }
    // Overhead = decoding and merging the shares; waiting for a slower rank is not counted.
    std::vector<std::string> messages;
    for (int r = 1; r < world.size(); ++r)
      messages.push_back(world.receive(r));
    const auto gather_start = std::chrono::steady_clock::now();
    std::vector<PointShare> shares;
    shares.push_back(std::move(share));
    for (const std::string& message : messages) {
      shares.push_back(PointShare::deserialize(message, shape_of(p)));
    }
    run.statistics[p] = merge_point_shares(shares, shape_of(p));
    run.gather_seconds +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - gather_start).count();
    checkpoint->save(p, run.statistics[p].serialize());
  }
  progress.finish();
  return run;
}

void finish_checkpoint(const std::string& name, const RunOptions& options) {
  fs::remove_all(checkpoint_dir(name, options));
}

}  // namespace tvk
