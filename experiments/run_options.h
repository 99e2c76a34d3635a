#pragma once
//! \file How to run an experiment of any kind: output folder, threads, progress, resume,
//! shards and the command line for provenance. Nothing here changes the data.

#include <cstddef>
#include <filesystem>
#include <string>

#include "core/engine/progress.h"

namespace tvk {

//! How to run (nothing here changes the data).
struct RunOptions {
  std::filesystem::path out_dir = "results";
  std::size_t threads = 0;  //!< 0 = all cores
  ProgressMode progress = ProgressMode::kAuto;
  bool resume = false;
  std::string command_line;
  std::size_t shard_index = 0;  //!< --shard i/N: compute only work items c with c % N == i
  std::size_t shard_count = 1;
};

}  // namespace tvk
