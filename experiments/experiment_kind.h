#pragma once
//! \file Experiment kinds as a table, like the CLI's verbs (experiments/cli/cli.cpp): the config's
//! `kind:` names an entry, and `tvk run`, `tvk validate` and `tvk run -m` reach the kind only
//! through it. A new kind is its own files (config reader, sweep, this entry's functions in
//! experiments/kinds/<kind>.cpp) plus one line in experiments/experiment_kinds.cpp.

#include <filesystem>
#include <string>
#include <vector>

#include "core/config/config_document.h"
#include "experiments/partial_file.h"
#include "experiments/run_options.h"

namespace tvk {

//! What the command line needs of one experiment kind.
struct ExperimentKind {
  const char* name;     //!< the config's `kind:` value
  const char* summary;  //!< one line for the documentation and error messages
  //! Reads and validates the whole config; returns its results name (`name:`). Throws
  //! InputError naming the file, key and line on bad input.
  std::string (*results_name)(const ConfigDocument& document);
  //! The resolved config and the size of its work, for `tvk validate`.
  std::string (*describe)(const ConfigDocument& document);
  //! Checks what the config reads beyond itself (a store's metadata, never its data) as the
  //! run would: `tvk validate` and every job of a multirun call it before anything runs.
  //! Throws InputError at the key (its file and line, or the command line).
  void (*check_inputs)(const ConfigDocument& document);
  //! Runs it, prints the summary table (unless `quiet`) and the files written; returns the
  //! exit code.
  int (*run)(const ConfigDocument& document, const RunOptions& options, bool quiet);
  //! `tvk merge`: writes the results of the run whose shards wrote `partials` (ordered and
  //! checked by the engine) at `stem` (`<stem>.h5`, `<stem>.csv`, ...), prints the files
  //! written; returns the exit code.
  int (*merge)(const ConfigDocument& document, const std::vector<Partial>& partials,
               const std::filesystem::path& stem, const std::string& command_line);
};

//! Every kind, in the order `tvk --help` and error messages list them.
const std::vector<ExperimentKind>& experiment_kinds();

//! The kind named `name`, or nullptr.
const ExperimentKind* find_experiment_kind(const std::string& name);

//! The kind a config names (`kind:`, default synthetic). Throws InputError at the `kind` key,
//! with a did-you-mean, for a name no kind has.
const ExperimentKind& experiment_kind_of(const ConfigDocument& document);

}  // namespace tvk
