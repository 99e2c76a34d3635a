#pragma once
//! \file The parallel sweep: work items are (grid point, chunk of rows); oneTBB runs them; each
//! item fills its own result slot. Integer statistics merge in any order; each item's double
//! sums and stored rows are folded in work-item order, so results are bit-identical for any
//! thread count, and for any split of the items into shards or MPI ranks.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/engine/point_statistics.h"
#include "core/engine/row_source.h"
#include "core/rows/row_analysis.h"

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

//! Which work items a process computes: chunks c of every point with c % count == index.
struct ShardSpec {
  std::size_t index = 0;
  std::size_t count = 1;
};

//! One work item's double sums and stored rows: the parts that are merged in item order.
struct ChunkDoubles {
  std::uint64_t chunk = 0;
  std::vector<double> doubles;
  std::vector<double> row_values;
};

//! A shard's share of one point: integer statistics of its items (doubles zero) and each
//! item's double sums (a share of every item, shard 0 of 1, holds them already folded in
//! item order as one entry, so its memory does not grow with the rows).
struct PointShare {
  PointStatistics integers;
  std::vector<ChunkDoubles> chunks;  //!< ascending chunk index

  //! Exact serialisation (shards' partial files, MPI messages).
  std::string serialize() const;
  //! Inverse of serialize(); throws std::runtime_error on corrupt bytes.
  static PointShare deserialize(const std::string& bytes, const StatisticsShape& shape);
};

//! Hooks the sweep calls while it runs (from worker threads for `rows_done`).
struct SweepCallbacks {
  std::function<void(std::size_t rows)> rows_done;  //!< progress, thread-safe
  std::function<void(std::size_t point, const PointStatistics&)> point_done;  //!< checkpoint
};

//! Shape of the statistics of a point whose longest row has `row_length` keys.
StatisticsShape statistics_shape(const RowAnalysisPlan& plan, std::size_t row_length,
                                 bool store_rows);

//! Runs work items on a fixed set of threads; reusable across points.
class SweepExecutor {
 public:
  SweepExecutor(std::shared_ptr<const RowAnalysisPlan> plan, const SweepOptions& options);
  ~SweepExecutor();
  SweepExecutor(const SweepExecutor&) = delete;
  SweepExecutor& operator=(const SweepExecutor&) = delete;

  //! Computes the work items of point p that belong to `shard`.
  PointShare run_share(const RowSource& source, std::size_t point, const ShardSpec& shard,
                       const SweepCallbacks& callbacks = {});
  std::size_t threads() const { return threads_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::size_t threads_;
};

//! The statistics of a point from the shares of every shard (in any order): integer parts
//! added, double sums and rows folded in chunk order.
PointStatistics merge_point_shares(const std::vector<PointShare>& shares,
                                   const StatisticsShape& shape);

//! Runs every point of `source` not already in `done` (done[p] set = resumed from a checkpoint)
//! and returns all points' statistics in point order.
std::vector<PointStatistics> run_sweep(const RowSource& source,
                                       std::shared_ptr<const RowAnalysisPlan> plan,
                                       const SweepOptions& options,
                                       std::vector<std::optional<PointStatistics>> done,
                                       const SweepCallbacks& callbacks = {});

}  // namespace tvk
