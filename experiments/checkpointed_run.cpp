#include "experiments/checkpointed_run.h"

#include <filesystem>
#include <iostream>
#include <optional>

#include "core/engine/checkpoint.h"
#include "core/engine/progress.h"
#include "core/engine/sweep_runner.h"
#include "core/engine/thread_count.h"
#include "experiments/provenance.h"

namespace tvk {
namespace fs = std::filesystem;

namespace {

fs::path checkpoint_dir(const std::string& name, const RunOptions& options) {
  return options.out_dir / (name + ".checkpoint");
}

}  // namespace

CheckpointedRun run_checkpointed(const RowSource& source,
                                 std::shared_ptr<const RowAnalysisPlan> plan,
                                 const std::string& name, const std::string& fingerprint_text,
                                 std::size_t chunk_rows, bool store_rows,
                                 const RunOptions& options) {
  CheckpointedRun run;
  run.threads = resolve_thread_count(options.threads);
  fs::create_directories(options.out_dir);
  const std::string fingerprint =
      fingerprint_of(fingerprint_text + "\nformat " + std::to_string(kFormatMajor) +
                     "\nchunk_rows " + std::to_string(chunk_rows));
  CheckpointStore checkpoint(checkpoint_dir(name, options), fingerprint, options.resume);

  const std::size_t points = source.point_count();
  std::vector<std::optional<PointStatistics>> done(points);
  std::size_t remaining_rows = 0;
  for (std::size_t p = 0; p < points; ++p) {
    if (auto bytes = checkpoint.load(p)) {
      const StatisticsShape shape = statistics_shape(*plan, source.row_length(p), store_rows);
      try {
        done[p] = PointStatistics::deserialize(*bytes, shape);
        ++run.resumed_points;
        continue;
      } catch (const std::exception&) {
        // A damaged point file is recomputed: the data do not depend on where they came from.
      }
    }
    remaining_rows += source.row_count(p);
  }
  if (run.resumed_points > 0) {
    std::cerr << "resuming: " << run.resumed_points << " of " << points << " points loaded from "
              << checkpoint.dir().string() << "\n";
  }

  ProgressReporter progress(name, remaining_rows, options.progress, std::cerr);
  SweepOptions sweep;
  sweep.threads = run.threads;
  sweep.chunk_rows = chunk_rows;
  sweep.store_rows = store_rows;
  SweepCallbacks callbacks;
  callbacks.rows_done = [&progress](std::size_t rows) { progress.advance(rows); };
  callbacks.point_done = [&checkpoint](std::size_t p, const PointStatistics& s) {
    checkpoint.save(p, s.serialize());
  };
  run.statistics = run_sweep(source, std::move(plan), sweep, std::move(done), callbacks);
  progress.finish();
  return run;
}

void finish_checkpoint(const std::string& name, const RunOptions& options) {
  fs::remove_all(checkpoint_dir(name, options));
}

}  // namespace tvk
