// Experiment kind "synthetic": Monte Carlo sweeps of score models (experiments/synthetic_sweep.h).
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/config/sweep_config.h"
#include "core/engine/thread_count.h"
#include "experiments/communicator.h"
#include "experiments/kinds/kinds.h"
#include "experiments/synthetic_sweep.h"

namespace tvk::kinds {
namespace {

//! The summary a person reads after a run: k/n with its error, the rule, every bound.
void print_summary(const Table& points, const std::vector<std::string>& bounds,
                   std::size_t max_lines) {
  const auto& model = std::get<std::vector<std::string>>(points.find("model")->values);
  const auto& n = std::get<std::vector<std::int64_t>>(points.find("n")->values);
  auto dbl = [&](const std::string& name) -> const std::vector<double>& {
    return std::get<std::vector<double>>(points.find(name)->values);
  };
  // Model parameters: the double columns between "model" and "n".
  std::vector<std::string> params;
  for (std::size_t c = 1; c < points.columns.size() && points.columns[c].name != "n"; ++c) {
    params.push_back(points.columns[c].name);
  }
  std::printf("%-12s %-22s %6s %6s %17s %9s", "model", "params", "n", "eps", "k/n (± sem)", "rule");
  for (const auto& b : bounds)
    std::printf(" %8s", (b + " k/n").c_str());
  std::printf("\n");
  const std::size_t rows = points.rows();
  for (std::size_t r = 0; r < rows && r < max_lines; ++r) {
    std::string p;
    for (const auto& name : params) {
      const double v = dbl(name)[r];
      if (std::isnan(v)) continue;
      char item[40];
      std::snprintf(item, sizeof item, "%s%s=%g", p.empty() ? "" : " ", name.c_str(), v);
      p += item;
    }
    const double rule = dbl("rule_k_over_n")[r];
    char rule_text[16];
    if (std::isnan(rule)) {
      std::snprintf(rule_text, sizeof rule_text, "none");
    } else {
      std::snprintf(rule_text, sizeof rule_text, "%.4f", rule);
    }
    std::printf("%-12s %-22s %6lld %6g %9.4f ± %.4f %9s", model[r].c_str(), p.c_str(),
                static_cast<long long>(n[r]), dbl("eps")[r], dbl("k_over_n_mean")[r],
                dbl("k_over_n_sem")[r], rule_text);
    for (const auto& b : bounds)
      std::printf(" %8.4f", dbl(b + "_k_over_n_mean")[r]);
    std::printf("\n");
  }
  if (rows > max_lines) std::printf("... %zu more rows in the CSV\n", rows - max_lines);
}

int run(const ConfigDocument& document, const RunOptions& options, bool quiet) {
  const Communicator& world = Communicator::world();
  const SweepConfig config = read_sweep_config(document);
  const SweepOutcome outcome = run_synthetic_sweep(config, options);
  if (!outcome.partial_path.empty()) {
    print_shard_written(config.name, options, outcome.partial_path, outcome.rows_total,
                        outcome.seconds);
    return 0;
  }
  if (!outcome.wrote_results) return 0;
  if (world.size() > 1) {
    std::printf(
        "%s: %d MPI ranks x %zu threads; merging on rank 0: %.3f s (%.2f%% of the "
        "run)\n",
        config.name.c_str(), world.size(), resolve_thread_count(options.threads),
        outcome.gather_seconds, 100.0 * outcome.gather_seconds / outcome.seconds);
  }
  if (!quiet) {
    std::printf("\n");
    print_summary(outcome.points, config.analysis.bounds, 60);
  }
  std::printf("\n%s: %zu rows in %.2f s (%.4g rows/s)\nwrote %s\n      %s\n", config.name.c_str(),
              outcome.rows_total, outcome.seconds,
              static_cast<double>(outcome.rows_total) / outcome.seconds,
              outcome.h5_path.string().c_str(), outcome.csv_path.string().c_str());
  return 0;
}

int merge(const ConfigDocument& document, const std::vector<Partial>& partials,
          const std::filesystem::path& stem, const std::string& command_line) {
  const SweepConfig config = read_sweep_config(document);
  const SweepOutcome outcome = merge_synthetic_partials(config, partials, stem, command_line);
  std::printf("merged %zu shards of %s (%zu points, %zu rows)\n", partials.size(),
              config.name.c_str(),
              outcome.points.rows() / std::max<std::size_t>(config.analysis.eps.size(), 1),
              outcome.rows_total);
  print_files_written({outcome.h5_path, outcome.csv_path});
  return 0;
}

}  // namespace

ExperimentKind synthetic_kind() {
  return {"synthetic",
          "Monte Carlo sweeps of score models over parameter, n and eps grids",
          [](const ConfigDocument& document) { return read_sweep_config(document).name; },
          [](const ConfigDocument& document) { return describe(read_sweep_config(document)); },
          [](const ConfigDocument& /*document*/) {},  // reads no input file
          run,
          merge};
}

}  // namespace tvk::kinds
