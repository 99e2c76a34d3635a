#include "core/config/sweep_config.h"

#include <algorithm>
#include <charconv>
#include <sstream>
#include <stdexcept>

#include "core/config/config_checks.h"
#include "core/config/config_reader.h"
#include "core/models/model_registry.h"

namespace tvk {

namespace {

ModelGrid read_model(ConfigReader& reader, std::int64_t min_n) {
  const std::string type = reader.get<std::string>("type", one_of("model type", model_names()));
  const ModelInfo* info = find_model_info(type);
  if (info == nullptr) reader.fail("type", unknown_choice("model type", type, model_names()));
  ModelGrid grid;
  grid.type = type;
  for (const ParamSpec& spec : info->params) {
    const ValueCheck<double> check = [&spec](const double& value) {
      return check_param(spec, value);
    };
    std::vector<double> values = reader.get_list_or<double>(spec.name, {spec.default_value}, check);
    require_nonempty(reader, spec.name, values);
    require_distinct(reader, spec.name, values);
    if (spec.counts_keys) {
      for (std::size_t i = 0; i < values.size(); ++i) {
        if (values[i] > static_cast<double>(min_n)) {
          reader.fail_element(spec.name, i,
                              "must be <= the smallest n (" + std::to_string(min_n) + "), got " +
                                  format_shortest(values[i]) + ": a row has only n keys");
        }
      }
    }
    grid.axes.push_back(ModelAxis{spec.name, std::move(values)});
  }
  reader.finish();
  return grid;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

std::size_t ModelGrid::size() const {
  std::size_t count = 1;
  for (const auto& axis : axes)
    count *= axis.values.size();
  return count;
}

ParamValues ModelGrid::point(std::size_t index) const {
  if (index >= size()) {
    throw std::out_of_range("ModelGrid::point: index " + std::to_string(index) + " of " +
                            std::to_string(size()));
  }
  ParamValues values;
  std::size_t rest = index;
  for (auto axis = axes.rbegin(); axis != axes.rend(); ++axis) {
    const std::size_t length = axis->values.size();
    values[axis->param] = axis->values[rest % length];
    rest /= length;
  }
  return values;
}

SweepConfig read_sweep_config(const ConfigDocument& document) {
  SweepConfig config;
  ConfigReader reader(document);

  config.kind =
      reader.get_or<std::string>("kind", config.kind, one_of("experiment kind", {"synthetic"}));
  config.name = reader.get<std::string>("name", results_name_check());
  config.seed = reader.get<std::uint64_t>("seed");
  config.rows = reader.get<std::int64_t>("rows", at_least(1));

  config.n = reader.get_list<std::int64_t>("n", at_least(1));
  require_nonempty(reader, "n", config.n);
  require_distinct(reader, "n", config.n);

  const std::int64_t min_n = *std::min_element(config.n.begin(), config.n.end());
  // Exactly one of `model` (one map) and `models` (a list of maps).
  const bool has_model = reader.has("model");
  const bool has_models = reader.has("models");
  if (has_model && has_models) reader.fail("models", "give either model or models, not both");
  if (has_models) {
    std::vector<ConfigReader> model_readers = reader.children("models");
    if (model_readers.empty()) reader.fail("models", "must list at least one model");
    for (auto& model_reader : model_readers)
      config.models.push_back(read_model(model_reader, min_n));
  } else {
    ConfigReader model_reader = reader.child("model");
    config.models.push_back(read_model(model_reader, min_n));
  }

  config.analysis = read_analysis_settings(reader);
  config.store_rows = reader.get_or<bool>("store_rows", config.store_rows);
  reader.finish();

  config.source = document.source();
  config.resolved_text = document.to_yaml();
  config.command_line_overrides = join(document.overrides(), " ");
  return config;
}

SweepConfig load_sweep_config(const std::filesystem::path& file,
                              const std::vector<std::string>& overrides) {
  ConfigDocument document = ConfigDocument::load(file);
  document.apply_overrides(overrides);
  return read_sweep_config(document);
}

std::size_t model_point_count(const SweepConfig& config) {
  std::size_t count = 0;
  for (const auto& model : config.models)
    count += model.size();
  return count;
}

std::size_t grid_point_count(const SweepConfig& config) {
  return model_point_count(config) * config.n.size();
}

std::string describe(const SweepConfig& config) {
  std::ostringstream out;
  out << "# config: " << config.source;
  if (!config.command_line_overrides.empty()) out << " " << config.command_line_overrides;
  out << "\n" << config.resolved_text;
  out << "# grid:\n";
  for (const auto& model : config.models) {
    out << "#   model " << model.type << ":";
    for (const auto& axis : model.axes)
      out << " " << axis.param << " x" << axis.values.size();
    out << " -> " << model.size() << (model.size() == 1 ? " point\n" : " points\n");
  }
  const std::size_t points = grid_point_count(config);
  const auto rows = static_cast<std::size_t>(config.rows);
  const auto chunk = static_cast<std::size_t>(config.analysis.chunk_rows);
  out << "#   model points: " << model_point_count(config) << "\n";
  out << "#   n values: " << config.n.size() << "\n";
  out << "#   grid points: " << points << " (model points x n values)\n";
  out << "#   rows: " << rows << " per point, " << points * rows << " in all, "
      << points * ((rows + chunk - 1) / chunk) << " work items of up to " << chunk << " rows\n";
  out << "#   per row: " << config.analysis.eps.size() << " eps values, bounds ["
      << join(config.analysis.bounds, ", ") << "]\n";
  return out.str();
}

}  // namespace tvk
