#include "experiments/analysis_plan.h"

#include "core/bounds/bound_registry.h"

namespace tvk {

std::string registry_bound_name(const AnalysisSettings& settings, const std::string& name) {
  if (settings.b3_grouping == "equal" && (name == "b3" || name == "b3_gap")) {
    return "b3_equal" + name.substr(2);
  }
  return name;
}

std::shared_ptr<const RowAnalysisPlan> make_plan(const AnalysisSettings& settings,
                                                 bool fit_logit_moments) {
  auto plan = std::make_shared<RowAnalysisPlan>();
  plan->eps = settings.eps;
  plan->k_grid = settings.k_grid;
  plan->fit_logit_moments = fit_logit_moments;
  BoundOptions options;
  options.block = static_cast<std::size_t>(settings.block);
  options.equal_groups = static_cast<std::size_t>(settings.b3_groups);
  for (const auto& name : settings.bounds) {
    plan->bounds.push_back(make_bound(registry_bound_name(settings, name), options));
  }
  return plan;
}

}  // namespace tvk
