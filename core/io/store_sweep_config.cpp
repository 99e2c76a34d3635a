#include "core/io/store_sweep_config.h"

#include <sstream>

#include "core/io/config_checks.h"
#include "core/io/config_reader.h"

namespace tvk {
namespace {

//! `all` (or absent) → empty; otherwise a list of distinct indices >= 0.
std::vector<std::int64_t> read_selection(ConfigReader& reader, std::string_view key) {
  const std::vector<std::string> items = reader.get_list_or<std::string>(key, {"all"});
  if (items.size() == 1 && items[0] == "all") return {};
  std::vector<std::int64_t> indices;
  for (std::size_t i = 0; i < items.size(); ++i) {
    std::int64_t value = -1;
    const std::string& text = items[i];
    const bool digits = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
    if (digits) value = std::stoll(text);
    if (!digits || value < 0) {
      reader.fail_element(key, i, "expected `all` or indices >= 0, got '" + text + "'");
    }
    indices.push_back(value);
  }
  require_distinct(reader, key, indices);
  return indices;
}

std::string selection_text(const std::vector<std::int64_t>& indices) {
  if (indices.empty()) return "all";
  std::string text;
  for (std::size_t i = 0; i < indices.size(); ++i) {
    text += (i ? ", " : "") + std::to_string(indices[i]);
  }
  return "[" + text + "]";
}

}  // namespace

StoreSweepConfig read_store_sweep_config(const ConfigDocument& document) {
  StoreSweepConfig config;
  ConfigReader reader(document);
  config.kind = reader.get<std::string>("kind", one_of("experiment kind", {"logit_store"}));
  config.name = reader.get<std::string>("name", [](const std::string& name) -> std::string {
    if (valid_name(name)) return "";
    return "must be a file stem of letters, digits, '_', '.' and '-', got '" + name + "'";
  });
  config.store = reader.get<std::string>("store", [](const std::string& path) -> std::string {
    return path.empty() ? "must name a logit store file" : "";
  });
  config.layers = read_selection(reader, "layers");
  config.heads = read_selection(reader, "heads");
  config.sequences = read_selection(reader, "sequences");
  config.min_length = reader.get_or<std::int64_t>("min_length", config.min_length, at_least(1));
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
  out << "# selection: store " << config.store << ", layers " << selection_text(config.layers)
      << ", heads " << selection_text(config.heads) << ", sequences "
      << selection_text(config.sequences) << ", min_length " << config.min_length << "\n"
      << "# per row: " << config.analysis.eps.size() << " eps values, "
      << config.analysis.bounds.size() << " bounds (`tvk store info STORE` lists the store)\n";
  return out.str();
}

}  // namespace tvk
