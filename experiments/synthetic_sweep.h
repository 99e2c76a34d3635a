#pragma once
//! \file Experiment kind "synthetic": Monte Carlo sweeps of score models over parameter, n and
//! eps grids (THEORY §4–§5), written to `<out>/<name>.h5` and `<out>/<name>.csv`.

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/config/sweep_config.h"
#include "core/engine/point_statistics.h"
#include "core/engine/progress.h"
#include "core/models/score_model.h"
#include "core/results/results_table.h"
#include "experiments/partial_file.h"
#include "experiments/run_options.h"

namespace tvk {

//! One grid point of a synthetic sweep: a model instance and a row length.
struct SyntheticPoint {
  std::size_t model_index = 0;  //!< into SweepConfig::models
  std::shared_ptr<const ScoreModel> model;
  std::size_t n = 0;
};

//! The grid points in order: models, then their parameter points (row-major), then n.
std::vector<SyntheticPoint> expand_points(const SweepConfig& config);

//! The points table (one row per point × eps) from the points' statistics.
Table points_table(const SweepConfig& config, const std::vector<SyntheticPoint>& points,
                   const std::vector<PointStatistics>& statistics);

//! What a finished run wrote.
struct SweepOutcome {
  std::filesystem::path h5_path, csv_path;
  Table points;
  std::size_t rows_total = 0;
  std::size_t resumed_points = 0;
  double seconds = 0.0;
  double gather_seconds = 0.0;         //!< MPI rank 0: receiving + merging the other ranks' shares
  bool wrote_results = true;           //!< false on MPI ranks other than 0 and for shards
  std::filesystem::path partial_path;  //!< the partial file of a --shard run
};

//! Runs the sweep with checkpoints and writes the results files atomically (or, with
//! options.shard_count > 1, this shard's partial file for `tvk merge`).
SweepOutcome run_synthetic_sweep(const SweepConfig& config, const RunOptions& options);

//! Writes the results files of a synthetic sweep from every point's statistics:
//! `<stem>.h5` and `<stem>.csv`.
SweepOutcome write_synthetic_results(const SweepConfig& config,
                                     const std::vector<SyntheticPoint>& points,
                                     const std::vector<PointStatistics>& statistics,
                                     const std::filesystem::path& stem,
                                     const std::string& command_line, std::size_t threads);

//! `tvk merge`: the results files of the run whose shards wrote `partials`, at `stem`.
SweepOutcome merge_synthetic_partials(const SweepConfig& config,
                                      const std::vector<Partial>& partials,
                                      const std::filesystem::path& stem,
                                      const std::string& command_line);

}  // namespace tvk
