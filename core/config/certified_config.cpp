#include "core/config/certified_config.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <sstream>

#include "core/certified/search_registry.h"
#include "core/config/config_checks.h"
#include "core/config/config_reader.h"
#include "core/config/config_section_reader.h"
#include "core/config/sweep_config.h"

namespace tvk {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

ValueCheck<double> at_least_real(double minimum) {
  return [minimum](const double& value) -> std::string {
    if (value >= minimum) return "";
    return "must be >= " + format_shortest(minimum) + ", got " + format_shortest(value);
  };
}

// Upper ends: a key set is n x (d + dv) doubles per thread and its cells and distances more;
// beyond these a run cannot fit in memory or ends never, and magnitudes beyond 1e6 turn the
// softmax into overflow. Checked where read, so `tvk validate` refuses them.
constexpr std::int64_t kMaxKeys = 1'000'000, kMaxDim = 4096, kMaxRows = 100'000'000;
constexpr double kMaxMagnitude = 1e6;

ValueCheck<std::int64_t> between(std::int64_t minimum, std::int64_t maximum) {
  return [minimum, maximum](const std::int64_t& value) -> std::string {
    if (value >= minimum && value <= maximum) return "";
    return "must be in " + std::to_string(minimum) + ".." + std::to_string(maximum) + ", got " +
           std::to_string(value);
  };
}

ValueCheck<double> between_real(double minimum, double maximum) {
  return [minimum, maximum](const double& value) -> std::string {
    if (value >= minimum && value <= maximum) return "";
    return "must be in [" + format_shortest(minimum) + ", " + format_shortest(maximum) + "], got " +
           format_shortest(value);
  };
}

ValueCheck<double> positive_real() {
  return [](const double& value) -> std::string {
    if (value > 0.0) return "";
    return "must be > 0, got " + format_shortest(value);
  };
}

//! A grid axis: a non-empty list without repeats.
template <class T>
std::vector<T> read_axis(ConfigReader& reader, std::string_view key, const std::vector<T>& fallback,
                         const ValueCheck<T>& check) {
  std::vector<T> values = reader.get_list_or<T>(key, fallback, check);
  require_nonempty(reader, key, values);
  require_distinct(reader, key, values);
  return values;
}

//! Keys a family does not use are errors rather than silently ignored axes.
void reject_unused(ConfigReader& reader, const std::string& family,
                   const std::vector<std::string>& keys) {
  for (const auto& key : keys) {
    if (reader.has(key)) reader.fail(key, "is not used by the " + family + " family");
  }
}

CertifiedQkvSource read_qkv_source(ConfigReader& reader) {
  CertifiedQkvSource source;
  source.family =
      parse_qkv_family(reader.get<std::string>("family", one_of("qkv family", qkv_family_names())));
  const QkvFamilyInfo& family = qkv_family_info(source.family);
  source.n = read_axis<std::int64_t>(reader, "n", source.n, between(1, kMaxKeys));
  source.d = read_axis<std::int64_t>(reader, "d", source.d, between(1, kMaxDim));
  source.strength =
      read_axis<double>(reader, "strength", source.strength, between_real(0.0, kMaxMagnitude));
  if (family.clusters) {
    source.clusters = read_axis<std::int64_t>(reader, "clusters", {16}, between(1, kMaxKeys));
  } else {
    reject_unused(reader, family.name, {"clusters"});
  }
  if (family.spread) {
    source.spread = read_axis<double>(reader, "spread", {0.25}, between_real(0.0, kMaxMagnitude));
    source.query_noise =
        reader.get_or<double>("query_noise", source.query_noise, between_real(0.0, kMaxMagnitude));
  } else {
    reject_unused(reader, family.name, {"spread", "query_noise"});
  }
  if (family.correlation_length) {
    source.correlation_length =
        read_axis<double>(reader, "correlation_length", {64.0}, positive_real());
  } else {
    reject_unused(reader, family.name, {"correlation_length"});
  }
  source.dv = reader.get_or<std::int64_t>("dv", source.dv, between(1, kMaxDim));
  source.value_noise =
      reader.get_or<double>("value_noise", source.value_noise, between_real(0.0, kMaxMagnitude));
  source.float32 = reader.get_or<bool>("float32", source.float32);
  source.rows = reader.get<std::int64_t>("rows", between(1, kMaxRows));
  source.queries_per_key_set =
      reader.get_or<std::int64_t>("queries_per_key_set", source.queries_per_key_set, at_least(1));
  source.seed = reader.get<std::uint64_t>("seed");
  return source;
}

CertifiedStoreSource read_store_source(ConfigReader& reader) {
  CertifiedStoreSource source;
  source.store = reader.get<std::string>("store", [](const std::string& path) -> std::string {
    return path.empty() ? "must name a logit store file" : "";
  });
  source.layers = read_index_selection(reader, "layers");
  source.heads = read_index_selection(reader, "heads");
  source.sequences = read_index_selection(reader, "sequences");
  source.min_length = reader.get_or<std::int64_t>("min_length", source.min_length, at_least(1));
  source.query_stride =
      reader.get_or<std::int64_t>("query_stride", source.query_stride, at_least(1));
  source.min_n = reader.get_or<std::int64_t>("min_n", source.min_n, at_least(1));
  return source;
}

//! The search types that take `key`, in registry order.
std::vector<std::string> types_taking(const std::string& key) {
  std::vector<std::string> types;
  for (const SearchEntry& entry : search_entries()) {
    if (std::find(entry.keys.begin(), entry.keys.end(), key) != entry.keys.end()) {
      types.push_back(entry.name);
    }
  }
  return types;
}

//! Every key some search type takes, in registry order (the did-you-mean vocabulary).
std::vector<std::string> search_keys() {
  std::vector<std::string> keys;
  for (const SearchEntry& entry : search_entries()) {
    for (const std::string& key : entry.keys) {
      if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
    }
  }
  return keys;
}

}  // namespace

CertifiedSearchSpec read_search(ConfigReader& reader) {
  CertifiedSearchSpec spec;
  spec.type = reader.get<std::string>("type", one_of("search type", search_type_names()));
  spec.name = reader.get_or<std::string>("name", spec.type, [](const std::string& name) {
    if (valid_name(name)) return std::string();
    return "must be letters, digits, '_', '.' and '-', got '" + name + "'";
  });
  const SearchEntry& entry = *find_search_entry(spec.type);
  for (const std::string& key : search_keys()) {
    if (reader.has(key) &&
        std::find(entry.keys.begin(), entry.keys.end(), key) == entry.keys.end()) {
      reader.fail(key, "is not a key of search type " + spec.type + " (it applies to " +
                           join(types_taking(key), ", ") + ")");
    }
  }
  ConfigSectionReader keys(reader);
  spec.search = entry.read(keys);
  return spec;
}

namespace {

//! The `searches:` list under `reader`.
std::vector<CertifiedSearchSpec> read_searches(ConfigReader& reader) {
  std::vector<CertifiedSearchSpec> specs;
  std::vector<ConfigReader> searches = reader.children("searches");
  if (searches.empty()) reader.fail("searches", "must list at least one search");
  for (ConfigReader& search : searches) {
    CertifiedSearchSpec spec = read_search(search);
    for (const auto& earlier : specs) {
      if (earlier.name == spec.name) {
        search.fail("name",
                    "duplicate search name '" + spec.name + "' (give each search its own name)");
      }
    }
    search.finish();
    specs.push_back(std::move(spec));
  }
  return specs;
}

std::string search_text(const CertifiedSearchSpec& spec) {
  return spec.name + " (" + spec.type + ", " + spec.search->details() + ")";
}

}  // namespace

std::vector<CertifiedSearchSpec> default_certified_searches() {
  // Written as a config would write them, and read by the same code.
  static const ConfigDocument defaults = ConfigDocument::parse(
      "searches:\n"
      "  - {name: mc_clusters, type: mc_search}\n"
      "  - {name: mc_blocks, type: mc_search, cells: blocks}\n"
      "  - {name: b5, type: b5}\n"
      "  - {name: delta_k, type: delta_k}\n",
      "<default searches>");
  ConfigReader reader(defaults);
  return read_searches(reader);
}

CertifiedConfig read_certified_config(const ConfigDocument& document) {
  CertifiedConfig config;
  ConfigReader reader(document);
  config.kind = reader.get<std::string>("kind", one_of("experiment kind", {"certified"}));
  config.name = reader.get<std::string>("name", results_name_check());

  // `source`: one map, or (qkv only) a list of maps, one per family.
  std::vector<ConfigReader> sources;
  if (reader.has("source") && document.root().find("source")->value.is_sequence()) {
    sources = reader.children("source");
    if (sources.empty()) reader.fail("source", "must list at least one source");
  } else {
    sources.push_back(reader.child("source"));
  }
  for (std::size_t i = 0; i < sources.size(); ++i) {
    ConfigReader& source = sources[i];
    const std::string type =
        source.get<std::string>("type", one_of("source type", {"logit_store", "qkv"}));
    if (i == 0) config.source_type = type;
    if (type != config.source_type || (type == "logit_store" && sources.size() > 1)) {
      source.fail("type",
                  "a list of sources may only hold qkv sources (a logit_store source "
                  "is the only source of its run)");
    }
    if (type == "logit_store") {
      config.store = read_store_source(source);
    } else {
      config.qkv.push_back(read_qkv_source(source));
    }
    source.finish();
  }

  config.analysis.eps = read_eps(reader);

  config.searches = reader.has("searches") ? read_searches(reader) : default_certified_searches();

  config.summary_cost =
      reader.get_or<double>("summary_cost", config.summary_cost, at_least_real(0));
  AnalysisSettings& analysis = config.analysis;
  read_bound_keys(reader, analysis.bounds, analysis.block, analysis.b3_grouping,
                  analysis.b3_groups);
  config.output_error = reader.get_or<bool>("output_error", config.output_error);
  config.store_rows = reader.get_or<bool>("store_rows", config.store_rows);
  analysis.chunk_rows = reader.get_or<std::int64_t>("chunk_rows", analysis.chunk_rows, at_least(1));
  reader.finish();

  config.source = document.source();
  config.resolved_text = document.to_yaml();
  config.command_line_overrides = join(document.overrides(), " ");
  for (std::size_t s = 0; s < config.qkv.size(); ++s) {
    for (const std::int64_t d : config.qkv[s].d) {
      check_search_groups(config, document, static_cast<std::size_t>(d),
                          "source[" + std::to_string(s) + "].d");
    }
  }
  return config;
}

void check_search_groups(const CertifiedConfig& config, const ConfigDocument& document,
                         std::size_t d, const std::string& what) {
  const ConfigEntry* list = document.root().find("searches");
  for (std::size_t i = 0; i < config.searches.size(); ++i) {
    const std::optional<QuantizerOptions> codes = config.searches[i].search->quantizer();
    if (!codes || codes->group == 0 || (codes->group <= d && d % codes->group == 0)) continue;
    // The group's own value, or its search when the group is the type's default.
    SourceLocation where{document.source(), 0, 0};
    if (list != nullptr && i < list->value.items().size()) {
      const ConfigNode& search = list->value.items()[i];
      const ConfigEntry* group = search.find("group");
      where = group != nullptr ? group->value.location() : search.location();
    }
    throw_config_error(where, "searches[" + std::to_string(i) + "].group",
                       std::to_string(codes->group) + " does not divide d = " + std::to_string(d) +
                           " (" + what + "); give a divisor of d, or 0 for one scale per key");
  }
}

std::vector<CertifiedQkvPoint> certified_qkv_points(const CertifiedConfig& config) {
  std::vector<CertifiedQkvPoint> points;
  for (std::size_t s = 0; s < config.qkv.size(); ++s) {
    const CertifiedQkvSource& source = config.qkv[s];
    // Unused axes get one placeholder so the product below enumerates the used ones only.
    const std::vector<std::int64_t> clusters =
        source.clusters.empty() ? std::vector<std::int64_t>{0} : source.clusters;
    const std::vector<double> spread =
        source.spread.empty() ? std::vector<double>{kNaN} : source.spread;
    const std::vector<double> length =
        source.correlation_length.empty() ? std::vector<double>{kNaN} : source.correlation_length;
    for (std::int64_t n : source.n) {
      for (std::int64_t d : source.d) {
        for (std::int64_t c : clusters) {
          for (double strength : source.strength) {
            for (double sp : spread) {
              for (double l : length) {
                CertifiedQkvPoint point;
                point.source = s;
                QkvParameters& p = point.parameters;
                p.family = source.family;
                p.n = static_cast<std::size_t>(n);
                p.d = static_cast<std::size_t>(d);
                p.dv = static_cast<std::size_t>(source.dv);
                p.strength = strength;
                if (c > 0) p.clusters = static_cast<std::size_t>(c);
                if (!std::isnan(sp)) p.spread = sp;
                if (!std::isnan(l)) p.correlation_length = l;
                p.query_noise = source.query_noise;
                p.value_noise = source.value_noise;
                p.float32 = source.float32;
                point.clusters = c;
                point.spread = sp;
                point.correlation_length = l;
                points.push_back(point);
              }
            }
          }
        }
      }
    }
  }
  return points;
}

std::string describe(const CertifiedConfig& config) {
  std::ostringstream out;
  out << "# config: " << config.source;
  if (!config.command_line_overrides.empty()) out << " " << config.command_line_overrides;
  out << "\n" << config.resolved_text;
  if (!config.resolved_text.empty() && config.resolved_text.back() != '\n') out << "\n";
  if (config.source_type == "logit_store") {
    const CertifiedStoreSource& s = config.store;
    out << "# source: store " << s.store << ", layers " << index_selection_text(s.layers)
        << ", heads " << index_selection_text(s.heads) << ", sequences "
        << index_selection_text(s.sequences) << ", min_length " << s.min_length
        << "; one key set per (layer, head, sequence), every token a query row\n";
  } else {
    const auto points = certified_qkv_points(config);
    std::size_t rows = 0, key_sets = 0;
    for (const auto& point : points) {
      const CertifiedQkvSource& s = config.qkv[point.source];
      rows += static_cast<std::size_t>(s.rows);
      key_sets +=
          static_cast<std::size_t>((s.rows + s.queries_per_key_set - 1) / s.queries_per_key_set);
    }
    out << "# source: qkv, " << points.size() << " grid points, " << rows << " query rows on "
        << key_sets << " key sets\n";
  }
  out << "# searches:";
  for (std::size_t i = 0; i < config.searches.size(); ++i)
    out << (i ? ";" : "") << " " << search_text(config.searches[i]);
  out << "\n# per row: " << config.searches.size() << " searches x " << config.analysis.eps.size()
      << " eps, exact k_eps and " << config.analysis.bounds.size() << " full-row bounds"
      << (config.output_error ? ", output errors" : "") << "\n";
  return out.str();
}

}  // namespace tvk
