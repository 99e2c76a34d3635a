#include "core/engine/sweep_runner.h"

#include <tbb/blocked_range.h>
#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>

#include "core/engine/thread_count.h"

namespace tvk {

StatisticsShape statistics_shape(const RowAnalysisPlan& plan, std::size_t row_length,
                                 bool store_rows) {
  return StatisticsShape{plan.eps.size(), plan.bounds.size(), plan.k_grid.size(), row_length,
                         store_rows};
}

namespace {

//! Per-thread buffers: a row, its analysis, and the analyzer's scratch.
struct Worker {
  explicit Worker(std::shared_ptr<const RowAnalysisPlan> plan) : analyzer(std::move(plan)) {}
  RowAnalyzer analyzer;
  std::vector<double> row;
  RowAnalysis analysis;
};

}  // namespace

std::vector<PointStatistics> run_sweep(const RowSource& source,
                                       std::shared_ptr<const RowAnalysisPlan> plan,
                                       const SweepOptions& options,
                                       std::vector<std::optional<PointStatistics>> done,
                                       const SweepCallbacks& callbacks) {
  const std::size_t points = source.point_count();
  done.resize(points);
  const std::size_t chunk_rows = std::max<std::size_t>(options.chunk_rows, 1);
  const std::size_t threads = resolve_thread_count(options.threads);
  tbb::task_arena arena(static_cast<int>(threads));
  tbb::enumerable_thread_specific<Worker> workers([&plan] { return Worker(plan); });

  std::vector<PointStatistics> results(points);
  for (std::size_t p = 0; p < points; ++p) {
    if (done[p]) {
      results[p] = std::move(*done[p]);
      continue;
    }
    source.prepare(p);
    const std::size_t rows = source.row_count(p);
    const std::size_t length = source.row_length(p);
    const StatisticsShape shape = statistics_shape(*plan, length, options.store_rows);
    PointStatistics total(shape);
    // Slots for a batch of work items; sized so in-flight memory stays bounded.
    const std::size_t slot_bytes =
        sizeof(double) *
            (shape.eps * (length + 1) + 8 * (shape.eps * (shape.bounds + 1) + shape.grid)) +
        (options.store_rows ? chunk_rows * 8 * (2 * shape.eps * (shape.bounds + 1)) : 0);
    const std::size_t batch =
        std::clamp<std::size_t>(options.slot_memory_bytes / slot_bytes, 4 * threads, 1024);
    std::vector<PointStatistics> slots(batch, PointStatistics(shape));
    const std::size_t chunks = (rows + chunk_rows - 1) / chunk_rows;
    for (std::size_t first = 0; first < chunks; first += batch) {
      const std::size_t count = std::min(batch, chunks - first);
      arena.execute([&] {
        tbb::parallel_for(tbb::blocked_range<std::size_t>(0, count, 1),
                          [&](const tbb::blocked_range<std::size_t>& range) {
                            Worker& worker = workers.local();
                            worker.row.resize(length);
                            for (std::size_t i = range.begin(); i != range.end(); ++i) {
                              const std::size_t chunk = first + i;
                              const std::size_t begin = chunk * chunk_rows;
                              const std::size_t end = std::min(rows, begin + chunk_rows);
                              PointStatistics& slot = slots[i];
                              for (std::size_t r = begin; r < end; ++r) {
                                const auto row =
                                    std::span<double>(worker.row).first(source.row_length(p, r));
                                source.fill(p, r, row);
                                worker.analyzer.analyze(row, worker.analysis);
                                slot.add(worker.analysis);
                              }
                              if (callbacks.rows_done) callbacks.rows_done(end - begin);
                            }
                          });
      });
      // Fixed-order merge: work item by work item, whatever thread ran it.
      for (std::size_t i = 0; i < count; ++i) {
        total.merge(slots[i]);
        slots[i].clear();
      }
    }
    if (callbacks.point_done) callbacks.point_done(p, total);
    results[p] = std::move(total);
  }
  return results;
}

}  // namespace tvk
