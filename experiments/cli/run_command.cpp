// `tvk run` and `tvk validate`: config-driven sweeps.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>

#include "core/engine/thread_count.h"
#include "core/error.h"
#include "core/io/certified_config.h"
#include "core/io/config_checks.h"
#include "core/io/config_document.h"
#include "core/io/config_reader.h"
#include "core/io/store_sweep_config.h"
#include "core/io/sweep_config.h"
#include "experiments/certified_sweep.h"
#include "experiments/cli/arg_parser.h"
#include "experiments/cli/cli.h"
#include "experiments/cli/multirun.h"
#include "experiments/communicator.h"
#include "experiments/logit_store_sweep.h"
#include "experiments/partial_file.h"
#include "experiments/synthetic_sweep.h"

namespace tvk::cli {
namespace {

//! Splits positionals into the config file and its key=value overrides.
void split_config_args(const std::vector<std::string>& positionals, std::string& config,
                       std::vector<std::string>& overrides) {
  config = positionals.at(0);
  overrides.assign(positionals.begin() + 1, positionals.end());
  for (const auto& o : overrides) {
    if (o.find('=') == std::string::npos && o.rfind('~', 0) != 0) {  // ~key removes a key
      throw InputError("'" + o +
                       "': expected a key=value (or ~key) override after the config file");
    }
  }
}

//! A config file with its overrides applied, and which experiment kind it describes.
struct LoadedConfig {
  ConfigDocument document;
  std::string kind;
};

LoadedConfig load_config(const std::string& file, const std::vector<std::string>& overrides) {
  LoadedConfig loaded{ConfigDocument::load(file), ""};
  loaded.document.apply_overrides(overrides);
  loaded.kind = experiment_kind(loaded.document);
  static const std::vector<std::string> kinds = {"synthetic", "logit_store", "certified"};
  if (std::find(kinds.begin(), kinds.end(), loaded.kind) == kinds.end()) {
    const ConfigEntry* entry = loaded.document.root().find("kind");
    throw_config_error(entry->value.location(), "kind",
                       unknown_choice("experiment kind", loaded.kind, kinds));
  }
  return loaded;
}

//! Per layer: k_eps/n, the Gaussian rule with each row's fitted sigma-hat, and key reductions.
void print_layer_summary(const Table& layers, const std::vector<std::string>& bounds) {
  const auto& layer = std::get<std::vector<std::int64_t>>(layers.find("layer")->values);
  const auto& rows = std::get<std::vector<std::int64_t>>(layers.find("rows")->values);
  auto dbl = [&](const std::string& name) -> const std::vector<double>& {
    return std::get<std::vector<double>>(layers.find(name)->values);
  };
  std::printf("%5s %6s %6s %7s %16s %9s %9s %8s", "layer", "rows", "eps", "n_mean", "k/n (± sem)",
              "rule(fit)", "rule err", "n/k");
  for (const auto& b : bounds)
    std::printf(" %9s", (b + " n/k").c_str());
  std::printf("\n");
  for (std::size_t r = 0; r < layers.rows(); ++r) {
    std::printf("%5lld %6lld %6g %7.1f %8.4f ± %.4f %9.4f %+8.1f%% %8.2f",
                static_cast<long long>(layer[r]), static_cast<long long>(rows[r]), dbl("eps")[r],
                dbl("n_mean")[r], dbl("k_over_n_mean")[r], dbl("k_over_n_sem")[r],
                dbl("rule_k_over_n_mean")[r], 100.0 * dbl("rule_rel_error")[r],
                dbl("key_reduction")[r]);
    for (const auto& b : bounds)
      std::printf(" %9.2f", dbl(b + "_key_reduction")[r]);
    std::printf("\n");
  }
}

std::string join_command_line(const std::vector<std::string>& args) {
  std::string line = "tvk run";
  for (const auto& a : args)
    line += " " + a;
  return line;
}

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

//! Runs `body`; a bad-input error gains a hint when an override looks like a multirun sweep
//! (`seed=1,2` without -m), since that is the likely mistake.
template <class Body>
int with_multirun_hint(const std::vector<std::string>& overrides, Body body) {
  try {
    return body();
  } catch (const InputError& error) {
    for (const auto& o : overrides) {
      const auto eq = o.find('=');
      if (eq != std::string::npos && split_top_level_commas(o.substr(eq + 1)).size() > 1) {
        throw InputError(std::string(error.what()) + " ('" + o +
                         "': for one run per value use -m; for a list write key=[a,b])");
      }
    }
    throw;
  }
}

//! The name a config's results carry (reading the whole typed config, so this validates it).
std::string run_name(const LoadedConfig& loaded) {
  if (loaded.kind == "logit_store") return read_store_sweep_config(loaded.document).name;
  if (loaded.kind == "certified") return read_certified_config(loaded.document).name;
  return read_sweep_config(loaded.document).name;
}

//! The jobs of `tvk run -m` / `tvk validate -m`, each with its results name set; every job's
//! config is read (and so checked) here, before anything runs.
std::vector<MultirunJob> multirun_jobs(const std::string& file,
                                       const std::vector<std::string>& overrides) {
  std::vector<MultirunJob> jobs = expand_multirun(overrides);
  for (MultirunJob& job : jobs) {
    job.overrides.push_back("name=" + run_name(load_config(file, job.overrides)) + job.name_suffix);
    (void)run_name(load_config(file, job.overrides));  // the suffixed name is a valid stem
  }
  return jobs;
}

//! One run of a config with its overrides: the sweep, the summary and the files written.
int run_job(const std::string& file, const std::vector<std::string>& overrides,
            const RunOptions& options, bool quiet) {
  const Communicator& world = Communicator::world();
  const LoadedConfig loaded = load_config(file, overrides);
  if (loaded.kind == "logit_store") {
    const StoreSweepConfig config = read_store_sweep_config(loaded.document);
    const StoreSweepOutcome outcome = run_logit_store_sweep(config, options);
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
  if (loaded.kind == "certified") {
    const CertifiedConfig config = read_certified_config(loaded.document);
    const CertifiedOutcome outcome = run_certified_sweep(config, options);
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
  const SweepConfig config = read_sweep_config(loaded.document);
  const SweepOutcome outcome = run_synthetic_sweep(config, options);
  if (!outcome.partial_path.empty()) {
    std::printf(
        "%s: shard %zu/%zu: %zu work items' rows in %.2f s\nwrote %s (combine the shards "
        "with tvk merge)\n",
        config.name.c_str(), options.shard_index, options.shard_count,
        outcome.rows_total / options.shard_count, outcome.seconds,
        outcome.partial_path.string().c_str());
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
    print_summary(outcome.points, config.bounds, 60);
  }
  std::printf("\n%s: %zu rows in %.2f s (%.4g rows/s)\nwrote %s\n      %s\n", config.name.c_str(),
              outcome.rows_total, outcome.seconds,
              static_cast<double>(outcome.rows_total) / outcome.seconds,
              outcome.h5_path.string().c_str(), outcome.csv_path.string().c_str());
  return 0;
}

}  // namespace

int run_run_command(const std::vector<std::string>& args) {
  ArgParser parser(
      "run",
      "tvk run CONFIG [key=value ...] [--out DIR] [--threads N] [--progress MODE] [--resume] [-m]",
      "Runs the sweep a YAML config describes (configs/README.md documents every key) and writes\n"
      "<out>/<name>.h5 (provenance + points table) and <out>/<name>.csv. Overrides follow Hydra:\n"
      "key=value changes a key (rows=100, model.sigma=[1,2]), +key=value adds one. Results are\n"
      "bit-identical for a config and seed whatever --threads. Completed points are checkpointed\n"
      "in <out>/<name>.checkpoint/; after a kill or Ctrl-C, --resume finishes the run.");
  parser.add_option("out", "DIR", "output folder", "results");
  parser.add_option("threads", "N", "worker threads (0 = all cores)", "0");
  parser.add_option("progress", "MODE", "auto | bar | log | none", "auto");
  parser.add_flag("resume", "continue an interrupted run from its checkpoint");
  parser.add_option("shard", "i/N",
                    "compute only shard i of N (work items c with c % N == i) and write "
                    "<out>/<name>.shard-i-of-N.tvkpart for `tvk merge`");
  parser.add_flag("quiet", "print no summary table");
  parser.add_flag("multirun",
                  "a key=a,b,... override (commas outside brackets) runs one job per value, the "
                  "jobs being every combination; each writes <out>/<name>_<key>-<value>...");
  parser.add_short('m', "multirun");
  parser.set_positionals("CONFIG [key=value ...]", "the YAML config and its overrides", 1, 1000000);
  parser.set_epilog(
      "examples:\n  tvk run configs/quickstart.yaml\n  tvk run configs/gaussian_scaling.yaml "
      "rows=400 'model.sigma=[1,2]' --threads 2\n  tvk run -m configs/quickstart.yaml "
      "seed=1,2,3 rows=100   # three runs: quickstart_seed-1, _seed-2, _seed-3");
  if (!parser.parse(args)) return 0;
  std::string file;
  std::vector<std::string> overrides;
  split_config_args(parser.positionals(), file, overrides);

  RunOptions options;
  options.out_dir = *parser.value("out");
  const long long threads = parse_integer(*parser.value("threads"), "--threads");
  options.threads = static_cast<std::size_t>(threads);
  options.progress = parse_progress_mode(*parser.value("progress"));
  options.resume = parser.flag("resume");
  options.command_line = join_command_line(args);
  if (auto shard = parser.value("shard")) {
    parse_shard(*shard, options.shard_index, options.shard_count);
  }
  if (!parser.flag("multirun")) {
    return with_multirun_hint(
        overrides, [&] { return run_job(file, overrides, options, parser.flag("quiet")); });
  }

  const std::vector<MultirunJob> jobs = multirun_jobs(file, overrides);
  const Communicator& world = Communicator::world();
  for (std::size_t j = 0; j < jobs.size(); ++j) {
    if (world.is_root()) {
      std::printf("%s== multirun job %zu of %zu: %s\n", j == 0 ? "" : "\n", j + 1, jobs.size(),
                  jobs[j].label.empty() ? "(no swept key)" : jobs[j].label.c_str());
      std::fflush(stdout);
    }
    RunOptions job_options = options;
    job_options.command_line +=
        " [multirun job " + std::to_string(j + 1) + ": " + jobs[j].label + "]";
    run_job(file, jobs[j].overrides, job_options, parser.flag("quiet"));
  }
  return 0;
}

int run_validate_command(const std::vector<std::string>& args) {
  ArgParser parser("validate", "tvk validate CONFIG [key=value ...] [-m]",
                   "Parses and validates a config with its overrides, then prints the resolved\n"
                   "config and the grid size. Writes nothing.");
  parser.add_flag("multirun", "validate every job of `tvk run -m` with these overrides");
  parser.add_short('m', "multirun");
  parser.set_positionals("CONFIG [key=value ...]", "the YAML config and its overrides", 1, 1000000);
  if (!parser.parse(args)) return 0;
  std::string file;
  std::vector<std::string> overrides;
  split_config_args(parser.positionals(), file, overrides);
  auto describe_config = [&file](const std::vector<std::string>& job_overrides) {
    const LoadedConfig loaded = load_config(file, job_overrides);
    const std::string text =
        loaded.kind == "logit_store" ? describe(read_store_sweep_config(loaded.document))
        : loaded.kind == "certified" ? describe(read_certified_config(loaded.document))
                                     : describe(read_sweep_config(loaded.document));
    std::cout << text << (text.empty() || text.back() != '\n' ? "\n" : "");
  };
  if (!parser.flag("multirun")) {
    return with_multirun_hint(overrides, [&] {
      describe_config(overrides);
      return 0;
    });
  }
  const std::vector<MultirunJob> jobs = multirun_jobs(file, overrides);
  for (std::size_t j = 0; j < jobs.size(); ++j) {
    std::cout << (j == 0 ? "" : "\n") << "== multirun job " << j + 1 << " of " << jobs.size()
              << ": " << (jobs[j].label.empty() ? "(no swept key)" : jobs[j].label) << "\n";
    describe_config(jobs[j].overrides);
  }
  return 0;
}

}  // namespace tvk::cli
