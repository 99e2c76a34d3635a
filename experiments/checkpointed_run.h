#pragma once
//! \file What every experiment kind does around the sweep engine: resume completed points from
//! the checkpoint folder, show progress, checkpoint each finished point, and hand back the
//! statistics of every point in point order.

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "core/engine/point_statistics.h"
#include "core/engine/row_source.h"
#include "core/row_analysis.h"
#include "experiments/synthetic_sweep.h"

namespace tvk {

//! Statistics of a run and how much of it came from a checkpoint.
struct CheckpointedRun {
  std::vector<PointStatistics> statistics;
  std::size_t resumed_points = 0;
  std::size_t threads = 0;  //!< the thread count used
};

//! Runs every point of `source` with checkpoints in `<out>/<name>.checkpoint/` (fingerprinted
//! by `fingerprint_text`: everything that changes the data). The checkpoint folder is left in
//! place; call finish_checkpoint() once the results files are written.
CheckpointedRun run_checkpointed(const RowSource& source,
                                 std::shared_ptr<const RowAnalysisPlan> plan,
                                 const std::string& name, const std::string& fingerprint_text,
                                 std::size_t chunk_rows, bool store_rows,
                                 const RunOptions& options);

//! Removes the checkpoint folder of run `name` after its results are complete.
void finish_checkpoint(const std::string& name, const RunOptions& options);

}  // namespace tvk
