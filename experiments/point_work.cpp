#include "experiments/point_work.h"

namespace tvk {

PointWork::PointWork(const RowSource& source, std::shared_ptr<const RowAnalysisPlan> plan,
                     std::size_t chunk_rows, bool store_rows, std::size_t threads)
    : source_(source), plan_(std::move(plan)), store_rows_(store_rows) {
  SweepOptions options;
  options.threads = threads;
  options.chunk_rows = chunk_rows;
  options.store_rows = store_rows;
  executor_ = std::make_unique<SweepExecutor>(plan_, options);
}

PointWork::~PointWork() = default;

StatisticsShape PointWork::shape(std::size_t point) const {
  return statistics_shape(*plan_, source_.row_length(point), store_rows_);
}

std::string PointWork::compute_share(std::size_t unit, const ShardSpec& shard,
                                     const RowsDone& rows_done) const {
  SweepCallbacks callbacks;
  callbacks.rows_done = rows_done;
  return executor_->run_share(source_, unit, shard, callbacks).serialize();
}

std::string PointWork::merge_shares(std::size_t unit,
                                    const std::vector<std::string>& shares) const {
  const StatisticsShape point_shape = shape(unit);
  std::vector<PointShare> decoded;
  decoded.reserve(shares.size());
  for (const std::string& share : shares)
    decoded.push_back(PointShare::deserialize(share, point_shape));
  return merge_point_shares(decoded, point_shape).serialize();
}

void PointWork::check_result(std::size_t unit, const std::string& result) const {
  (void)PointStatistics::deserialize(result, shape(unit));
}

PointStatistics PointWork::statistics(std::size_t point, const std::string& result) const {
  return PointStatistics::deserialize(result, shape(point));
}

std::vector<PointStatistics> PointWork::statistics(const std::vector<std::string>& results) const {
  std::vector<PointStatistics> all;
  all.reserve(results.size());
  for (std::size_t p = 0; p < results.size(); ++p)
    all.push_back(statistics(p, results[p]));
  return all;
}

}  // namespace tvk
