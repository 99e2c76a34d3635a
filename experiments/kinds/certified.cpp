// Experiment kind "certified": certified searches that score only some keys
// (experiments/certified_sweep.h).
#include <cstdio>

#include "core/config/certified_config.h"
#include "experiments/certified_sweep.h"
#include "experiments/kinds/kinds.h"
#include "experiments/store_selection.h"

namespace tvk::kinds {
namespace {

void check_inputs(const ConfigDocument& document) {
  const CertifiedConfig config = read_certified_config(document);
  if (config.source_type == "logit_store") {
    const LogitStoreInfo info = check_store_selection(store_selection_keys(config.store),
                                                      document_where(document, "source."));
    check_search_groups(config, document, info.head_dim, "head_dim of " + config.store.store);
  }
}

int run(const ConfigDocument& document, const RunOptions& options, bool quiet) {
  const CertifiedConfig config = read_certified_config(document);
  const CertifiedOutcome outcome = run_certified_sweep(config, options);
  if (!outcome.partial_path.empty()) {
    print_shard_written(config.name, options, outcome.partial_path, outcome.rows_total,
                        outcome.seconds);
    return 0;
  }
  if (!outcome.wrote_results) return 0;
  if (!quiet) std::printf("\n%s", certified_summary(config, outcome, 80).c_str());
  std::printf("\n%s: %zu query rows, %zu searches in %.2f s\nwrote %s\n      %s\n",
              config.name.c_str(), outcome.rows_total, outcome.searches_total, outcome.seconds,
              outcome.h5_path.string().c_str(), outcome.csv_path.string().c_str());
  for (const auto& path : {outcome.points_csv_path, outcome.speed_csv_path}) {
    if (!path.empty()) std::printf("      %s\n", path.string().c_str());
  }
  return 0;
}

int merge(const ConfigDocument& document, const std::vector<Partial>& partials,
          const std::filesystem::path& stem, const std::string& command_line) {
  const CertifiedConfig config = read_certified_config(document);
  const CertifiedOutcome outcome = merge_certified_partials(config, partials, stem, command_line);
  std::printf("merged %zu shards of %s (%zu query rows, %zu searches)\n", partials.size(),
              config.name.c_str(), outcome.rows_total, outcome.searches_total);
  print_files_written(
      {outcome.h5_path, outcome.csv_path, outcome.points_csv_path, outcome.speed_csv_path});
  return 0;
}

}  // namespace

ExperimentKind certified_kind() {
  return {"certified",
          "certified searches (MC-Search, B5, Delta-k) that score only some keys",
          [](const ConfigDocument& document) { return read_certified_config(document).name; },
          [](const ConfigDocument& document) { return describe(read_certified_config(document)); },
          check_inputs,
          run,
          merge};
}

}  // namespace tvk::kinds
