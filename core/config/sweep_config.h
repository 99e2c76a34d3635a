#pragma once
//! \file The schema of the synthetic sweep (experiment kind "synthetic", the default): score
//! models with parameter grids, n and eps lists, rows per point, bounds and their settings.
//! load_sweep_config() turns a YAML file plus Hydra-style overrides into a validated SweepConfig;
//! every key is documented in configs/README.md.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/config/analysis_settings.h"
#include "core/config/config_document.h"
#include "core/models/score_model.h"

namespace tvk {

//! One parameter axis of a model grid: the values a parameter takes (a scalar in the config is a
//! one-element axis; a parameter left out is its default).
struct ModelAxis {
  std::string param;
  std::vector<double> values;
};

//! A score model with a grid over its parameters.
struct ModelGrid {
  std::string type;             //!< registered model name, e.g. "gaussian"
  std::vector<ModelAxis> axes;  //!< one per ParamSpec of the model, in spec order

  //! Number of parameter points: the product of the axis lengths.
  std::size_t size() const;
  //! The parameter values of point `index` in row-major order (last axis fastest).
  //! Throws std::out_of_range when index >= size().
  ParamValues point(std::size_t index) const;
};

//! A validated synthetic-sweep config. Defaults here are the documented defaults.
struct SweepConfig {
  std::string kind = "synthetic";  //!< experiment kind
  std::string name;                //!< required; output file stem, [A-Za-z0-9_.-]+
  std::uint64_t seed = 0;          //!< required
  std::int64_t rows = 0;           //!< required, >= 1: rows per grid point
  std::vector<std::int64_t> n;     //!< required, each >= 1, distinct (list = grid axis)
  std::vector<ModelGrid> models;   //!< from `model: {...}` or `models: [{...}, ...]`
  //! eps (required, each in (0,1), distinct, in the user's order), bounds (distinct registered
  //! names), block (B4, >= 1), b3_grouping, b3_groups, k_grid (k/n in (0,1]), chunk_rows (>= 1).
  AnalysisSettings analysis;
  bool store_rows = false;             //!< keep per-row values in the results file
  std::string source;                  //!< the config file path as given
  std::string resolved_text;           //!< resolved YAML after overrides (deterministic)
  std::string command_line_overrides;  //!< the overrides as given, joined with spaces
};

//! Loads `file`, applies `overrides` (Hydra style, see ConfigDocument::apply_override) and
//! validates the result. Throws InputError with "<file>:<line>:<col>: <key.path>: <message>".
SweepConfig load_sweep_config(const std::filesystem::path& file,
                              const std::vector<std::string>& overrides);

//! Validates an already loaded (and overridden) document against the synthetic-sweep schema.
SweepConfig read_sweep_config(const ConfigDocument& document);

//! Number of model parameter points: the sum over models of their grid sizes.
std::size_t model_point_count(const SweepConfig& config);

//! Number of grid points: model points × |n| (each row is analysed for every eps).
std::size_t grid_point_count(const SweepConfig& config);

//! Human summary for `tvk validate`: the resolved YAML, then the grid sizes as YAML comments.
std::string describe(const SweepConfig& config);

}  // namespace tvk
