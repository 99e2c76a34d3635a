// `tvk run` and `tvk validate`: config-driven sweeps.
#include <cstdio>
#include <iostream>

#include "core/config/config_checks.h"
#include "core/config/config_document.h"
#include "core/engine/thread_count.h"
#include "core/error.h"
#include "experiments/cli/arg_parser.h"
#include "experiments/cli/cli.h"
#include "experiments/cli/multirun.h"
#include "experiments/communicator.h"
#include "experiments/experiment_kind.h"
#include "experiments/partial_file.h"
#include "experiments/run_options.h"

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

//! A config file with its overrides applied, and the experiment kind it describes.
struct LoadedConfig {
  ConfigDocument document;
  const ExperimentKind* kind = nullptr;
};

LoadedConfig load_config(const std::string& file, const std::vector<std::string>& overrides) {
  LoadedConfig loaded{ConfigDocument::load(file), nullptr};
  loaded.document.apply_overrides(overrides);
  loaded.kind = &experiment_kind_of(loaded.document);
  return loaded;
}

std::string join_command_line(const std::vector<std::string>& args) {
  std::string line = "tvk run";
  for (const auto& a : args)
    line += " " + a;
  return line;
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
  return loaded.kind->results_name(loaded.document);
}

//! The jobs of `tvk run -m` / `tvk validate -m`, each with its results name set; every job's
//! config is read (and so checked) here, before anything runs.
std::vector<MultirunJob> multirun_jobs(const std::string& file,
                                       const std::vector<std::string>& overrides) {
  std::vector<MultirunJob> jobs = expand_multirun(overrides);
  for (MultirunJob& job : jobs) {
    job.overrides.push_back("name=" + run_name(load_config(file, job.overrides)) + job.name_suffix);
    const LoadedConfig loaded = load_config(file, job.overrides);
    (void)run_name(loaded);                      // the suffixed name is a valid stem
    loaded.kind->check_inputs(loaded.document);  // its store, before any job runs
  }
  return jobs;
}

//! One run of a config with its overrides: the sweep, the summary and the files written.
int run_job(const std::string& file, const std::vector<std::string>& overrides,
            const RunOptions& options, bool quiet) {
  const LoadedConfig loaded = load_config(file, overrides);
  // The store checks first: their errors name where each key was set (file line or override).
  loaded.kind->check_inputs(loaded.document);
  return loaded.kind->run(loaded.document, options, quiet);
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
  if (threads > static_cast<long long>(kMaxThreads)) {
    throw InputError("--threads: " + std::to_string(threads) + " is more than " +
                     std::to_string(kMaxThreads) + " (0 = all cores, " +
                     std::to_string(resolve_thread_count(0)) + " here)");
  }
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
    loaded.kind->check_inputs(loaded.document);
    const std::string text = loaded.kind->describe(loaded.document);
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
