#pragma once
//! \file The entries of the experiment-kind table, one per file of this folder.

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "experiments/experiment_kind.h"

namespace tvk::kinds {

//! What every kind prints after a --shard run wrote its partial file.
void print_shard_written(const std::string& name, const RunOptions& options,
                         const std::filesystem::path& partial, std::size_t rows, double seconds);

//! The files a run or merge wrote, one per line after "wrote" (empty paths skipped).
void print_files_written(const std::vector<std::filesystem::path>& files);

//! `kind: synthetic` (the default): Monte Carlo sweeps of score models.
ExperimentKind synthetic_kind();
//! `kind: logit_store`: real attention rows of a logit store, per layer and head.
ExperimentKind logit_store_kind();
//! `kind: certified`: certified searches that score only some keys.
ExperimentKind certified_kind();

}  // namespace tvk::kinds
