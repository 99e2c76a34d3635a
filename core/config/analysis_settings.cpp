#include "core/config/analysis_settings.h"

#include "core/bounds/bound_registry.h"
#include "core/config/config_checks.h"
#include "core/config/config_reader.h"
#include "core/text/text.h"

namespace tvk {

const std::vector<std::string>& known_bound_names() {
  static const std::vector<std::string> names = bound_names();  // the bound registry's
  return names;
}

void read_bound_keys(ConfigReader& reader, std::vector<std::string>& bounds, std::int64_t& block,
                     std::string& b3_grouping, std::int64_t& b3_groups) {
  bounds = reader.get_list_or<std::string>("bounds", bounds, one_of("bound", known_bound_names()));
  require_distinct(reader, "bounds", bounds);
  block = reader.get_or<std::int64_t>("block", block, at_least(1));
  b3_grouping = reader.get_or<std::string>("b3_grouping", b3_grouping,
                                           one_of("b3_grouping", {"geometric", "equal"}));
  b3_groups = reader.get_or<std::int64_t>("b3_groups", b3_groups, at_least(1));
}

std::vector<double> read_eps(ConfigReader& reader) {
  std::vector<double> eps = reader.get_list<double>("eps", [](const double& value) -> std::string {
    if (value > 0.0 && value < 1.0) return "";
    return "must be in (0, 1), got " + format_shortest(value);
  });
  require_nonempty(reader, "eps", eps);
  require_distinct(reader, "eps", eps);
  return eps;
}

AnalysisSettings read_analysis_settings(ConfigReader& reader) {
  AnalysisSettings settings;
  settings.eps = read_eps(reader);
  read_bound_keys(reader, settings.bounds, settings.block, settings.b3_grouping,
                  settings.b3_groups);
  settings.k_grid = reader.get_list_or<double>("k_grid", settings.k_grid, [](const double& k) {
    if (k > 0.0 && k <= 1.0) return std::string();
    return "must be in (0, 1], got " + format_shortest(k);
  });
  require_distinct(reader, "k_grid", settings.k_grid);
  settings.chunk_rows = reader.get_or<std::int64_t>("chunk_rows", settings.chunk_rows, at_least(1));
  return settings;
}

}  // namespace tvk
