#include "core/config/store_sweep_config.h"

#include <sstream>

#include "core/config/config_checks.h"
#include "core/config/config_reader.h"

namespace tvk {
namespace {}  // namespace

StoreSweepConfig read_store_sweep_config(const ConfigDocument& document) {
  StoreSweepConfig config;
  ConfigReader reader(document);
  config.kind = reader.get<std::string>("kind", one_of("experiment kind", {"logit_store"}));
  config.name = reader.get<std::string>("name", results_name_check());
  config.store = reader.get<std::string>("store", [](const std::string& path) -> std::string {
    return path.empty() ? "must name a logit store file" : "";
  });
  config.layers = read_index_selection(reader, "layers");
  config.heads = read_index_selection(reader, "heads");
  config.sequences = read_index_selection(reader, "sequences");
  config.min_length = reader.get_or<std::int64_t>("min_length", config.min_length, at_least(1));
  config.query_stride =
      reader.get_or<std::int64_t>("query_stride", config.query_stride, at_least(1));
  config.min_n = reader.get_or<std::int64_t>("min_n", config.min_n, at_least(1));
  config.n_buckets = reader.get_or<bool>("n_buckets", config.n_buckets);
  config.local_window =
      reader.get_or<std::int64_t>("local_window", config.local_window, at_least(1));
  config.analysis = read_analysis_settings(reader);
  reader.finish();
  config.source = document.source();
  config.resolved_text = document.to_yaml();
  config.command_line_overrides = join(document.overrides(), " ");
  return config;
}

std::string describe(const StoreSweepConfig& config) {
  std::ostringstream out;
  out << "# config: " << config.source;
  if (!config.command_line_overrides.empty()) out << " " << config.command_line_overrides;
  out << "\n" << config.resolved_text;
  if (!config.resolved_text.empty() && config.resolved_text.back() != '\n') out << "\n";
  out << "# selection: store " << config.store << ", layers " << index_selection_text(config.layers)
      << ", heads " << index_selection_text(config.heads) << ", sequences "
      << index_selection_text(config.sequences) << ", min_length " << config.min_length
      << ", query_stride " << config.query_stride << ", min_n " << config.min_n
      << (config.n_buckets ? ", points per n_bucket" : "") << "\n"
      << "# per row: " << config.analysis.eps.size() << " eps values, "
      << config.analysis.bounds.size() << " bounds (`tvk store info STORE` lists the store)\n";
  return out.str();
}

}  // namespace tvk
