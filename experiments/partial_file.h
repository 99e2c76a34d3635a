#pragma once
//! \file Partial results of one shard (`tvk run CONFIG --shard i/N`), combined by
//! `tvk merge OUT PARTIAL...` into the file a single process would have written: each shard
//! keeps its work items' double sums separately, so the merge folds them in the same order.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/engine/sweep_runner.h"

namespace tvk {

//! What identifies a shard and the run it belongs to.
struct PartialHeader {
  std::string kind;         //!< experiment kind
  std::string config_text;  //!< resolved config
  std::string config_file;
  std::uint64_t seed = 0;
  std::size_t shard_index = 0, shard_count = 1;
  std::size_t points = 0;
  std::string tvk_version;  //!< filled in by write_partial
};

//! A partial file read back: its header and one serialised PointShare per point.
struct Partial {
  std::filesystem::path path;
  PartialHeader header;
  std::vector<std::string> shares;
};

//! `<out>/<name>.shard-<i>-of-<N>.tvkpart`.
std::filesystem::path partial_path(const std::filesystem::path& out_dir, const std::string& name,
                                   std::size_t index, std::size_t count);

//! Writes a partial atomically (temporary file + rename).
void write_partial(const std::filesystem::path& path, PartialHeader header,
                   const std::vector<PointShare>& shares);

//! Reads a partial; InputError naming the file when it is missing or not a tvk partial.
Partial read_partial(const std::filesystem::path& path);

//! Parses "i/N" (0 <= i < N); InputError otherwise.
void parse_shard(const std::string& text, std::size_t& index, std::size_t& count);

}  // namespace tvk
