// `tvk merge OUT PARTIAL...`: combine the partial files of `tvk run --shard i/N` into the
// results file a single process would have written.
#include <cstdio>
#include <filesystem>
#include <map>

#include "core/config/config_document.h"
#include "core/config/sweep_config.h"
#include "core/error.h"
#include "experiments/analysis_plan.h"
#include "experiments/cli/arg_parser.h"
#include "experiments/cli/cli.h"
#include "experiments/partial_file.h"
#include "experiments/synthetic_sweep.h"
#include "tvk/version.h"

namespace tvk::cli {
namespace fs = std::filesystem;

int run_merge_command(const std::vector<std::string>& args) {
  ArgParser parser(
      "merge", "tvk merge OUT PARTIAL...",
      "Combines the partial files written by `tvk run CONFIG --shard i/N` (one per shard,\n"
      "i = 0..N-1) into OUT: the same data, bit for bit, as one `tvk run CONFIG`. OUT is a\n"
      ".h5 path (the CSV goes beside it) or a folder (then <folder>/<name>.h5 and .csv).\n"
      "Refuses partials from different configs, seeds or tvk versions, and incomplete sets.");
  parser.set_positionals("OUT PARTIAL...", "the output and the shards' .tvkpart files", 2, 1000000);
  parser.set_epilog(
      "example (4 shards, e.g. a Slurm job array):\n"
      "  tvk run configs/gaussian_scaling.yaml --shard $SLURM_ARRAY_TASK_ID/4 --out parts\n"
      "  tvk merge results parts/gaussian_scaling.shard-*-of-4.tvkpart");
  if (!parser.parse(args)) return 0;
  const std::vector<std::string>& positionals = parser.positionals();

  std::vector<Partial> partials;
  for (std::size_t i = 1; i < positionals.size(); ++i) {
    partials.push_back(read_partial(positionals[i]));
  }
  const Partial& first = partials.front();
  auto refuse = [&](const Partial& other, const std::string& what) {
    throw InputError(other.path.string() + ": " + what + " differs from " + first.path.string() +
                     "'s; partials of different runs cannot be merged");
  };
  std::map<std::size_t, const Partial*> by_shard;
  for (const Partial& p : partials) {
    if (p.header.kind != first.header.kind) refuse(p, "experiment kind");
    if (p.header.config_text != first.header.config_text) refuse(p, "the config");
    if (p.header.seed != first.header.seed) refuse(p, "the seed");
    if (p.header.tvk_version != first.header.tvk_version) refuse(p, "the tvk version");
    if (p.header.shard_count != first.header.shard_count) refuse(p, "the shard count");
    if (!by_shard.emplace(p.header.shard_index, &p).second) {
      throw InputError(p.path.string() + ": shard " + std::to_string(p.header.shard_index) + "/" +
                       std::to_string(p.header.shard_count) + " is given twice");
    }
  }
  if (first.header.tvk_version != build::kVersion) {
    throw InputError(first.path.string() + ": written by tvk " + first.header.tvk_version +
                     ", this is tvk " + build::kVersion);
  }
  for (std::size_t i = 0; i < first.header.shard_count; ++i) {
    if (!by_shard.count(i)) {
      throw InputError("shard " + std::to_string(i) + "/" +
                       std::to_string(first.header.shard_count) +
                       " is missing: every shard's partial file is needed");
    }
  }
  if (first.header.kind != "synthetic") {
    throw InputError(first.path.string() + ": cannot merge experiment kind " + first.header.kind);
  }

  const ConfigDocument document =
      ConfigDocument::parse(first.header.config_text, first.header.config_file);
  const SweepConfig config = read_sweep_config(document);
  const std::vector<SyntheticPoint> points = expand_points(config);
  const auto plan = make_plan(analysis_settings(config));
  if (points.size() != first.header.points) {
    throw InputError(first.path.string() + ": holds " + std::to_string(first.header.points) +
                     " points, its config expands to " + std::to_string(points.size()));
  }
  std::vector<PointStatistics> statistics;
  for (std::size_t p = 0; p < points.size(); ++p) {
    const StatisticsShape shape = statistics_shape(*plan, points[p].n, config.store_rows);
    std::vector<PointShare> shares;
    for (const auto& [index, partial] : by_shard) {
      try {
        shares.push_back(PointShare::deserialize(partial->shares[p], shape));
      } catch (const std::exception& error) {
        throw InputError(partial->path.string() + ": point " + std::to_string(p) + ": " +
                         error.what());
      }
    }
    statistics.push_back(merge_point_shares(shares, shape));
  }

  fs::path h5 = positionals[0];
  if (h5.extension() != ".h5") h5 = h5 / (config.name + ".h5");
  if (!h5.parent_path().empty()) fs::create_directories(h5.parent_path());
  fs::path csv = h5;
  csv.replace_extension(".csv");
  std::string command = "tvk merge";
  for (const auto& a : args)
    command += " " + a;
  const SweepOutcome outcome =
      write_synthetic_results(config, points, statistics, h5, csv, command, 0);
  std::printf("merged %zu shards of %s (%zu points, %zu rows)\nwrote %s\n      %s\n",
              partials.size(), config.name.c_str(), points.size(), outcome.rows_total,
              h5.string().c_str(), csv.string().c_str());
  return 0;
}

}  // namespace tvk::cli
