#pragma once
//! \file The units of a sweep over a RowSource (kinds synthetic and logit_store): one unit per
//! grid point, its work items the point's chunks of rows (core/engine/sweep_runner.h), its
//! result the point's PointStatistics.

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "core/engine/point_statistics.h"
#include "core/engine/row_source.h"
#include "core/engine/sweep_runner.h"
#include "core/rows/row_analysis.h"
#include "experiments/unit_runner.h"

namespace tvk {

class PointWork final : public UnitWork {
 public:
  //! `source` and `plan` must outlive this.
  PointWork(const RowSource& source, std::shared_ptr<const RowAnalysisPlan> plan,
            std::size_t chunk_rows, bool store_rows, std::size_t threads);
  ~PointWork() override;

  std::size_t unit_count() const override { return source_.point_count(); }
  std::size_t unit_rows(std::size_t unit) const override { return source_.row_count(unit); }
  std::string compute_share(std::size_t unit, const ShardSpec& shard,
                            const RowsDone& rows_done) const override;
  std::string merge_shares(std::size_t unit, const std::vector<std::string>& shares) const override;
  void check_result(std::size_t unit, const std::string& result) const override;

  //! Point p's statistics from its result bytes.
  PointStatistics statistics(std::size_t point, const std::string& result) const;
  //! Every point's statistics, in point order.
  std::vector<PointStatistics> statistics(const std::vector<std::string>& results) const;

 private:
  StatisticsShape shape(std::size_t point) const;

  const RowSource& source_;
  std::shared_ptr<const RowAnalysisPlan> plan_;
  bool store_rows_;
  std::unique_ptr<SweepExecutor> executor_;
};

}  // namespace tvk
