#include "core/engine/sweep_runner.h"

#include "core/engine/byte_codec.h"

#include <tbb/blocked_range.h>
#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

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

std::string PointShare::serialize() const {
  ByteWriter out;
  out.put_record(integers.serialize());
  out.put<std::uint64_t>(chunks.size());
  for (const ChunkDoubles& chunk : chunks) {
    out.put<std::uint64_t>(chunk.chunk);
    out.put_vector(chunk.doubles);
    out.put_vector(chunk.row_values);
  }
  return out.take();
}

PointShare PointShare::deserialize(const std::string& bytes, const StatisticsShape& shape) {
  PointShare share;
  ByteReader in(bytes, "point share");
  // The integer part carries no per-row values (they travel with each work item).
  StatisticsShape integer_shape = shape;
  integer_shape.store_rows = false;
  share.integers = PointStatistics::deserialize(in.get_record(), integer_shape);
  const auto count = in.get<std::uint64_t>();
  for (std::uint64_t i = 0; i < count; ++i) {
    ChunkDoubles chunk;
    chunk.chunk = in.get<std::uint64_t>();
    in.get_vector(chunk.doubles);
    in.get_vector(chunk.row_values);
    share.chunks.push_back(std::move(chunk));
  }
  if (!in.done()) throw std::runtime_error("trailing bytes in point share");
  return share;
}

struct SweepExecutor::Impl {
  Impl(std::shared_ptr<const RowAnalysisPlan> p, const SweepOptions& o, std::size_t threads)
      : plan(std::move(p)),
        options(o),
        arena(static_cast<int>(threads)),
        workers([this] { return Worker(plan); }) {}
  std::shared_ptr<const RowAnalysisPlan> plan;
  SweepOptions options;
  tbb::task_arena arena;
  tbb::enumerable_thread_specific<Worker> workers;
};

SweepExecutor::SweepExecutor(std::shared_ptr<const RowAnalysisPlan> plan,
                             const SweepOptions& options)
    : threads_(resolve_thread_count(options.threads)) {
  impl_ = std::make_unique<Impl>(std::move(plan), options, threads_);
}

SweepExecutor::~SweepExecutor() = default;

PointShare SweepExecutor::run_share(const RowSource& source, std::size_t p, const ShardSpec& shard,
                                    const SweepCallbacks& callbacks) {
  const SweepOptions& options = impl_->options;
  source.prepare(p);
  const std::size_t rows = source.row_count(p);
  const std::size_t length = source.row_length(p);
  const StatisticsShape shape = statistics_shape(*impl_->plan, length, options.store_rows);
  const std::size_t chunk_rows = std::max<std::size_t>(options.chunk_rows, 1);
  const std::size_t chunks = (rows + chunk_rows - 1) / chunk_rows;
  std::vector<std::uint64_t> mine;  // this shard's chunks of the point
  for (std::size_t c = shard.index; c < chunks; c += shard.count)
    mine.push_back(c);

  StatisticsShape integer_shape = shape;
  integer_shape.store_rows = false;  // per-row values travel with each work item
  PointShare share{PointStatistics(integer_shape), {}};
  // Slots for a batch of work items; sized so in-flight memory stays bounded.
  const std::size_t slot_bytes =
      sizeof(double) *
          (shape.eps * (length + 1) + 8 * (shape.eps * (shape.bounds + 1) + shape.grid)) +
      (options.store_rows ? chunk_rows * 8 * (3 + 2 * shape.eps * (shape.bounds + 1)) : 0);
  const std::size_t batch =
      std::clamp<std::size_t>(options.slot_memory_bytes / slot_bytes, 4 * threads_, 1024);
  std::vector<PointStatistics> slots(std::min(batch, std::max<std::size_t>(mine.size(), 1)),
                                     PointStatistics(shape));
  for (std::size_t first = 0; first < mine.size(); first += slots.size()) {
    const std::size_t count = std::min(slots.size(), mine.size() - first);
    impl_->arena.execute([&] {
      tbb::parallel_for(tbb::blocked_range<std::size_t>(0, count, 1),
                        [&](const tbb::blocked_range<std::size_t>& range) {
                          Worker& worker = impl_->workers.local();
                          worker.row.resize(length);
                          for (std::size_t i = range.begin(); i != range.end(); ++i) {
                            const std::size_t begin = mine[first + i] * chunk_rows;
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
    for (std::size_t i = 0; i < count; ++i) {
      share.integers.add_integers(slots[i]);
      if (shard.count == 1) {
        // This share holds every work item, in order: fold them now, exactly as
        // merge_point_shares would (0 + c0 + c1 + ... in chunk order), so memory stays flat
        // in the number of rows.
        if (share.chunks.empty()) share.chunks.push_back(ChunkDoubles{0, {}, {}});
        ChunkDoubles& folded = share.chunks.front();
        const std::vector<double>& doubles = slots[i].doubles();
        if (folded.doubles.empty()) folded.doubles.assign(doubles.size(), 0.0);
        for (std::size_t d = 0; d < doubles.size(); ++d)
          folded.doubles[d] += doubles[d];
        const std::vector<double>& values = slots[i].row_values();
        folded.row_values.insert(folded.row_values.end(), values.begin(), values.end());
      } else {
        share.chunks.push_back(
            ChunkDoubles{mine[first + i], slots[i].doubles(), slots[i].row_values()});
      }
      slots[i].clear();
    }
  }
  return share;
}

PointStatistics merge_point_shares(const std::vector<PointShare>& shares,
                                   const StatisticsShape& shape) {
  PointStatistics total(shape);
  std::vector<const ChunkDoubles*> chunks;
  for (const PointShare& share : shares) {
    total.add_integers(share.integers);
    for (const ChunkDoubles& chunk : share.chunks)
      chunks.push_back(&chunk);
  }
  // The fixed order: work item by work item, whichever shard, rank or thread computed it.
  std::sort(chunks.begin(), chunks.end(),
            [](const ChunkDoubles* a, const ChunkDoubles* b) { return a->chunk < b->chunk; });
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    if (i > 0 && chunks[i]->chunk == chunks[i - 1]->chunk) {
      throw std::invalid_argument("work item " + std::to_string(chunks[i]->chunk) +
                                  " appears in two shares");
    }
    total.add_doubles(chunks[i]->doubles);
    total.append_row_values(chunks[i]->row_values);
  }
  return total;
}

std::vector<PointStatistics> run_sweep(const RowSource& source,
                                       std::shared_ptr<const RowAnalysisPlan> plan,
                                       const SweepOptions& options,
                                       std::vector<std::optional<PointStatistics>> done,
                                       const SweepCallbacks& callbacks) {
  const std::size_t points = source.point_count();
  done.resize(points);
  SweepExecutor executor(plan, options);
  std::vector<PointStatistics> results(points);
  for (std::size_t p = 0; p < points; ++p) {
    if (done[p]) {
      results[p] = std::move(*done[p]);
      continue;
    }
    const StatisticsShape shape = statistics_shape(*plan, source.row_length(p), options.store_rows);
    results[p] = merge_point_shares({executor.run_share(source, p, ShardSpec{}, callbacks)}, shape);
    if (callbacks.point_done) callbacks.point_done(p, results[p]);
  }
  return results;
}

}  // namespace tvk
