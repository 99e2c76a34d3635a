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

//! `stem` with `suffix` appended ("results/x" + ".h5"; a dot in the name is kept).
inline std::filesystem::path with_suffix(const std::filesystem::path& stem,
                                         const std::string& suffix) {
  std::filesystem::path path = stem;
  path += suffix;
  return path;
}

//! Where a run's results files go, as a stem: `<out>/<name>` (files `<stem>.h5`, `<stem>.csv`).
//! For tvk merge's OUT: a `.h5` path gives its own stem, anything else is a folder.
inline std::filesystem::path results_stem(const std::filesystem::path& out,
                                          const std::string& name) {
  if (out.extension() == ".h5") {
    std::filesystem::path stem = out;
    return stem.replace_extension();
  }
  return out / name;
}

}  // namespace tvk
