#pragma once
//! \file Experiment kind "logit_store": real attention rows (q·Kᵀ·scale from a logit store,
//! e.g. BERT) analysed per (layer, head) exactly as synthetic rows are, plus each row's fitted
//! σ̂ (std of its logits) and the Gaussian rule Φ_c(σ̂ + Φ⁻¹(ε)) against its empirical k_ε/n.

#include <filesystem>
#include <string>

#include "core/config/store_sweep_config.h"
#include "core/results/results_table.h"
#include "experiments/run_options.h"

namespace tvk {

//! What a finished logit-store run wrote.
struct StoreSweepOutcome {
  std::filesystem::path h5_path, csv_path, layers_csv_path;
  Table points;  //!< one row per (layer, head, eps)
  Table layers;  //!< one row per (layer, eps), pooled over the selected heads
  std::size_t rows_total = 0;
  double seconds = 0.0;
  bool wrote_results = true;  //!< false on MPI ranks other than 0
};

//! Runs the analysis with checkpoints; writes <out>/<name>.h5 (points, layers, rows tables),
//! <out>/<name>.csv (points) and <out>/<name>_layers.csv atomically.
StoreSweepOutcome run_logit_store_sweep(const StoreSweepConfig& config, const RunOptions& options);

}  // namespace tvk
