#pragma once
//! \file The schema of experiment kind "logit_store": the rows of a logit store (real attention,
//! e.g. BERT) analysed per (layer, head) with the same per-row analysis as synthetic sweeps.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/config/config_document.h"
#include "core/config/sweep_config.h"

namespace tvk {

//! A validated logit-store config.
struct StoreSweepConfig {
  std::string kind = "logit_store";
  std::string name;                     //!< required; output file stem
  std::string store;                    //!< required; path of the store (as written)
  std::vector<std::int64_t> layers;     //!< empty = all layers
  std::vector<std::int64_t> heads;      //!< empty = all heads
  std::vector<std::int64_t> sequences;  //!< empty = all sequences
  std::int64_t min_length = 1;          //!< sequences shorter than this are skipped
  std::int64_t query_stride = 1;  //!< every query_stride-th stored query, counted from the last
  std::int64_t min_n = 1;         //!< rows with fewer keys are skipped (causal rows start at 1)
  bool n_buckets = false;  //!< points per (layer, head, n_bucket): n_bucket = 2^floor(log2 n)
  std::int64_t local_window = 64;  //!< local_mass_mean: mass on the last local_window keys
  AnalysisSettings analysis;       //!< eps, bounds, block, b3_*, k_grid, chunk_rows
  std::string source;              //!< the config file path as given
  std::string resolved_text;       //!< resolved YAML after overrides
  std::string command_line_overrides;
};

//! Validates a loaded (and overridden) document against the logit-store schema.
StoreSweepConfig read_store_sweep_config(const ConfigDocument& document);

//! Human summary for `tvk validate` (resolved YAML and the selection).
std::string describe(const StoreSweepConfig& config);

}  // namespace tvk
