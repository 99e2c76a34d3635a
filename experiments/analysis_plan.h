#pragma once
//! \file The per-row analysis plan of an experiment from its config keys.

#include <memory>
#include <string>

#include "core/config/sweep_config.h"
#include "core/rows/row_analysis.h"

namespace tvk {

//! The registry name behind a config bound name: `b3` and `b3_gap` follow b3_grouping.
std::string registry_bound_name(const AnalysisSettings& settings, const std::string& name);

//! eps, k grid and bound instances of an experiment.
std::shared_ptr<const RowAnalysisPlan> make_plan(const AnalysisSettings& settings,
                                                 bool fit_logit_moments = false);

}  // namespace tvk
