#pragma once
//! \file What every experiment kind does around the sweep engine: resume completed points from
//! the checkpoint folder, show progress, checkpoint each finished point, and hand back the
//! statistics of every point in point order.

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/engine/point_statistics.h"
#include "core/engine/row_source.h"
#include "core/engine/sweep_runner.h"
#include "core/rows/row_analysis.h"
#include "experiments/run_options.h"

namespace tvk {

//! Statistics of a run and how much of it came from a checkpoint.
struct CheckpointedRun {
  std::vector<PointStatistics> statistics;  //!< every point (on rank 0 of an MPI job)
  std::vector<PointShare> shares;           //!< a --shard run: this shard's share of each point
  std::size_t resumed_points = 0;
  std::size_t threads = 0;      //!< the thread count used
  bool is_root = true;          //!< false on MPI ranks other than 0: they write nothing
  double gather_seconds = 0.0;  //!< rank 0: decoding + merging the ranks' shares (not waiting)
};

//! Runs every point of `source` with checkpoints in `<out>/<name>.checkpoint/` (fingerprinted
//! by `fingerprint_text`: everything that changes the data). The checkpoint folder is left in
//! place; call finish_checkpoint() once the results files are written.
//! - Under MPI (several ranks) every rank computes its work items of each point, rank 0 gathers
//!   them in a fixed order, merges and checkpoints; resuming with another rank count gives the
//!   same data, since checkpoints hold whole points.
//! - With options.shard_count > 1 it computes this shard's items only (run.shares), without
//!   checkpoints, for a partial file.
CheckpointedRun run_checkpointed(const RowSource& source,
                                 std::shared_ptr<const RowAnalysisPlan> plan,
                                 const std::string& name, const std::string& fingerprint_text,
                                 std::size_t chunk_rows, bool store_rows,
                                 const RunOptions& options);

//! The checkpoint folder of run `name`: `<out>/<name>.checkpoint`.
std::filesystem::path checkpoint_dir(const std::string& name, const RunOptions& options);

//! Removes the checkpoint folder of run `name` after its results are complete.
void finish_checkpoint(const std::string& name, const RunOptions& options);

}  // namespace tvk
