// `tvk merge OUT PARTIAL...`: combine the partial files of `tvk run --shard i/N` into the
// results file a single process would have written.
#include <cstdio>
#include <filesystem>

#include "core/config/config_document.h"
#include "core/error.h"
#include "experiments/cli/arg_parser.h"
#include "experiments/cli/cli.h"
#include "experiments/experiment_kind.h"
#include "experiments/partial_file.h"
#include "experiments/run_options.h"

namespace tvk::cli {

int run_merge_command(const std::vector<std::string>& args) {
  ArgParser parser(
      "merge", "tvk merge OUT PARTIAL...",
      "Combines the partial files written by `tvk run CONFIG --shard i/N` (one per shard,\n"
      "i = 0..N-1) into OUT: the same data, bit for bit, as one `tvk run CONFIG`. OUT is a\n"
      ".h5 path (the CSV goes beside it) or a folder (then <folder>/<name>.h5 and .csv).\n"
      "Refuses partials from different configs, seeds or tvk versions, and incomplete sets.");
  parser.set_positionals("OUT PARTIAL...", "the output and the shards' .tvkpart files", 2,
                         kMaxShards + 1);
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
  const PartialHeader& first = order_partials(partials).front()->header;
  const ExperimentKind* kind = find_experiment_kind(first.kind);
  if (kind == nullptr) {
    throw InputError(partials.front().path.string() + ": cannot merge experiment kind " +
                     first.kind);
  }
  const ConfigDocument document = ConfigDocument::parse(first.config_text, first.config_file);
  std::string command = "tvk merge";
  for (const auto& a : args)
    command += " " + a;
  const std::filesystem::path stem = results_stem(positionals[0], kind->results_name(document));
  if (!stem.parent_path().empty()) std::filesystem::create_directories(stem.parent_path());
  return kind->merge(document, partials, stem, command);
}

}  // namespace tvk::cli
