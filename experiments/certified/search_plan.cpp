#include "experiments/certified/search_plan.h"

#include <algorithm>

#include "experiments/analysis_plan.h"

namespace tvk::certified {

RunContext make_context(const CertifiedConfig& config) {
  RunContext ctx;
  ctx.config = &config;
  ctx.cost.summary_cost = config.summary_cost;
  ctx.bound_options.block = static_cast<std::size_t>(config.block);
  ctx.bound_options.equal_groups = static_cast<std::size_t>(config.b3_groups);
  AnalysisSettings settings;
  settings.eps = config.eps;
  settings.bounds = config.bounds;
  settings.block = config.block;
  settings.b3_grouping = config.b3_grouping;
  settings.b3_groups = config.b3_groups;
  settings.k_grid = {};
  ctx.plan = make_plan(settings);
  for (const CertifiedSearchSpec& spec : config.searches) {
    SearchPlan plan;
    if (spec.type == "delta_k") {
      plan.type = SearchType::kDeltaK;
      plan.delta_bound = spec.delta_bound;
      plan.k0 = static_cast<std::size_t>(spec.k0);
      plan.delta_k = static_cast<std::size_t>(spec.delta_k);
      ctx.searches.push_back(plan);
      continue;
    }
    plan.type = spec.type == "b5" ? SearchType::kB5 : SearchType::kMc;
    plan.kept = parse_kept_mode(spec.kept);
    plan.upper = parse_upper_bound_kind(spec.bound);
    CellOptions cells;
    cells.kind = parse_cell_kind(spec.cells);
    if (cells.kind == CellKind::kBlocks) {
      cells.block = static_cast<std::size_t>(spec.block);
    } else {
      cells.clusters = static_cast<std::size_t>(spec.clusters);
      cells.iterations = static_cast<std::size_t>(spec.iterations);
    }
    // Searches over the same partition share its cells (built once per key set).
    auto same = [&cells](const CellOptions& o) {
      return o.kind == cells.kind &&
             (cells.kind == CellKind::kBlocks
                  ? o.block == cells.block
                  : o.clusters == cells.clusters && o.iterations == cells.iterations);
    };
    const auto found = std::find_if(ctx.cell_options.begin(), ctx.cell_options.end(), same);
    plan.cells = static_cast<std::size_t>(found - ctx.cell_options.begin());
    if (found == ctx.cell_options.end()) ctx.cell_options.push_back(cells);
    ctx.searches.push_back(plan);
  }
  return ctx;
}

}  // namespace tvk::certified
