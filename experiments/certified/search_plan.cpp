#include "experiments/certified/search_plan.h"

#include <algorithm>

#include "core/certified/cell_kinds.h"
#include "experiments/analysis_plan.h"

namespace tvk::certified {

RunContext make_context(const CertifiedConfig& config) {
  RunContext ctx;
  ctx.config = &config;
  ctx.cost.summary_cost = config.summary_cost;
  ctx.bound_options.block = static_cast<std::size_t>(config.analysis.block);
  ctx.bound_options.equal_groups = static_cast<std::size_t>(config.analysis.b3_groups);
  ctx.plan = make_plan(config.analysis);
  for (const CertifiedSearchSpec& spec : config.searches) {
    SearchPlan plan;
    plan.search = spec.search.get();
    if (const std::optional<CellOptions> cells = spec.search->cells()) {
      // Searches over the same partition share its cells (built once per key set).
      const CellKindEntry& kind = cell_kind_entry(cells->kind);
      auto same = [&](const CellOptions& o) {
        return o.kind == cells->kind && kind.same(o, *cells);
      };
      const auto found = std::find_if(ctx.cell_options.begin(), ctx.cell_options.end(), same);
      plan.cells = static_cast<std::size_t>(found - ctx.cell_options.begin());
      if (found == ctx.cell_options.end()) ctx.cell_options.push_back(*cells);
    }
    if (const std::optional<QuantizerOptions> codes = spec.search->quantizer()) {
      // Searches reading the same codes share them (built once per key set).
      auto same = [&](const QuantizerOptions& o) {
        return o.bits == codes->bits && o.group == codes->group;
      };
      const auto found = std::find_if(ctx.quantizers.begin(), ctx.quantizers.end(), same);
      plan.quantizer = static_cast<std::size_t>(found - ctx.quantizers.begin());
      if (found == ctx.quantizers.end()) ctx.quantizers.push_back(*codes);
    }
    ctx.searches.push_back(plan);
  }
  return ctx;
}

}  // namespace tvk::certified
