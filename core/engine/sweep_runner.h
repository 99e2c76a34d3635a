#pragma once
//! \file The parallel sweep: work items are (grid point, chunk of rows); oneTBB runs them; each
//! item fills its own result slot and slots are merged in item order, so the statistics are
//! bit-identical for any thread count.

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "core/engine/point_statistics.h"
#include "core/engine/row_source.h"
#include "core/row_analysis.h"

namespace tvk {

//! How a sweep runs (none of it changes the results except chunk_rows, which fixes the order
//! of the double sums and is part of the config).
struct SweepOptions {
  std::size_t threads = 0;      //!< 0 = all hardware threads
  std::size_t chunk_rows = 64;  //!< rows per work item
  bool store_rows = false;      //!< keep per-row values
  //! Cap on the memory of in-flight result slots; bounds memory whatever the row count.
  std::size_t slot_memory_bytes = std::size_t{16} << 20;
};

//! Hooks the sweep calls while it runs (from worker threads for `rows_done`).
struct SweepCallbacks {
  std::function<void(std::size_t rows)> rows_done;  //!< progress, thread-safe
  std::function<void(std::size_t point, const PointStatistics&)> point_done;  //!< checkpoint
};

//! Shape of the statistics of point p.
StatisticsShape statistics_shape(const RowAnalysisPlan& plan, std::size_t row_length,
                                 bool store_rows);

//! Runs every point of `source` not already in `done` (done[p] set = resumed from a checkpoint)
//! and returns all points' statistics in point order.
std::vector<PointStatistics> run_sweep(const RowSource& source,
                                       std::shared_ptr<const RowAnalysisPlan> plan,
                                       const SweepOptions& options,
                                       std::vector<std::optional<PointStatistics>> done,
                                       const SweepCallbacks& callbacks = {});

}  // namespace tvk
