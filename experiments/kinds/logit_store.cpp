// Experiment kind "logit_store": real attention rows of a logit store
// (experiments/logit_store_sweep.h).
#include <cstdio>

#include "core/config/store_sweep_config.h"
#include "experiments/kinds/kinds.h"
#include "experiments/logit_store_sweep.h"
#include "experiments/store_selection.h"

namespace tvk::kinds {
namespace {

//! Per layer: k_eps/n, the Gaussian rule with each row's fitted sigma-hat, and key reductions.
void print_layer_summary(const Table& layers, const std::vector<std::string>& bounds) {
  const auto& layer = std::get<std::vector<std::int64_t>>(layers.find("layer")->values);
  const auto& rows = std::get<std::vector<std::int64_t>>(layers.find("rows")->values);
  auto dbl = [&](const std::string& name) -> const std::vector<double>& {
    return std::get<std::vector<double>>(layers.find(name)->values);
  };
  const Column* buckets = layers.find("n_bucket");
  std::printf("%5s %6s %6s %7s %16s %9s %9s %8s", "layer", "rows", "eps",
              buckets ? "n_bucket" : "n_mean", "k/n (± sem)", "rule(fit)", "rule err", "n/k");
  for (const auto& b : bounds)
    std::printf(" %9s", (b + " n/k").c_str());
  std::printf("\n");
  for (std::size_t r = 0; r < layers.rows(); ++r) {
    const double n_shown =
        buckets ? static_cast<double>(std::get<std::vector<std::int64_t>>(buckets->values)[r])
                : dbl("n_mean")[r];
    std::printf("%5lld %6lld %6g %7.1f %8.4f ± %.4f %9.4f %+8.1f%% %8.2f",
                static_cast<long long>(layer[r]), static_cast<long long>(rows[r]), dbl("eps")[r],
                n_shown, dbl("k_over_n_mean")[r], dbl("k_over_n_sem")[r],
                dbl("rule_k_over_n_mean")[r], 100.0 * dbl("rule_rel_error")[r],
                dbl("key_reduction")[r]);
    for (const auto& b : bounds)
      std::printf(" %9.2f", dbl(b + "_key_reduction")[r]);
    std::printf("\n");
  }
}

int run(const ConfigDocument& document, const RunOptions& options, bool quiet) {
  const StoreSweepConfig config = read_store_sweep_config(document);
  const StoreSweepOutcome outcome = run_logit_store_sweep(config, options);
  if (!outcome.partial_path.empty()) {
    print_shard_written(config.name, options, outcome.partial_path, outcome.rows_total,
                        outcome.seconds);
    return 0;
  }
  if (!outcome.wrote_results) return 0;
  if (!quiet) {
    std::printf("\n");
    print_layer_summary(outcome.layers, config.analysis.bounds);
  }
  std::printf("\n%s: %zu attention rows of %s in %.2f s\nwrote %s\n      %s\n      %s\n",
              config.name.c_str(), outcome.rows_total, config.store.c_str(), outcome.seconds,
              outcome.h5_path.string().c_str(), outcome.csv_path.string().c_str(),
              outcome.layers_csv_path.string().c_str());
  return 0;
}

int merge(const ConfigDocument& document, const std::vector<Partial>& partials,
          const std::filesystem::path& stem, const std::string& command_line) {
  const StoreSweepConfig config = read_store_sweep_config(document);
  const StoreSweepOutcome outcome =
      merge_logit_store_partials(config, partials, stem, command_line);
  std::printf("merged %zu shards of %s (%zu attention rows of %s)\n", partials.size(),
              config.name.c_str(), outcome.rows_total, config.store.c_str());
  print_files_written({outcome.h5_path, outcome.csv_path, outcome.layers_csv_path});
  return 0;
}

}  // namespace

ExperimentKind logit_store_kind() {
  return {
      "logit_store",
      "k_eps, every bound and the fitted-sigma rule on the rows of a logit store",
      [](const ConfigDocument& document) { return read_store_sweep_config(document).name; },
      [](const ConfigDocument& document) { return describe(read_store_sweep_config(document)); },
      [](const ConfigDocument& document) {
        check_store_selection(store_selection_keys(read_store_sweep_config(document)),
                              document_where(document, ""));
      },
      run,
      merge};
}

}  // namespace tvk::kinds
