#pragma once
//! \file Partial results of one shard (`tvk run CONFIG --shard i/N`), combined by
//! `tvk merge OUT PARTIAL...` into the file a single process would have written. The same file
//! for every experiment kind: a header naming the run, then one opaque share per unit (see
//! experiments/unit_runner.h), the whole file under one checksum.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace tvk {

//! What identifies a shard and the run it belongs to.
struct PartialHeader {
  std::string kind;         //!< experiment kind
  std::string config_text;  //!< resolved config
  std::string config_file;
  std::uint64_t seed = 0;
  std::size_t shard_index = 0, shard_count = 1;
  std::size_t units = 0;    //!< the run's unit count (one share each)
  std::string fingerprint;  //!< run_fingerprint of the run (config, input stores, codecs)
  std::string tvk_version;  //!< filled in by write_partial
};

//! A partial file read back: its header and one share per unit.
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
                   const std::vector<std::string>& shares);

//! Reads a partial; InputError naming the file when it is missing, not a tvk partial, or
//! damaged (any changed byte fails its checksum).
Partial read_partial(const std::filesystem::path& path);

//! The partials of one run ordered by shard index. InputError naming the file when two differ
//! in kind, config, seed, fingerprint, tvk version or shard count, when a shard is given twice
//! or missing, or when they were written by another tvk version than this one.
std::vector<const Partial*> order_partials(const std::vector<Partial>& partials);

//! The most shards one run may have: `tvk merge` takes every shard's partial file on its command
//! line, and a command line holds about this many paths.
inline constexpr std::size_t kMaxShards = 100000;

//! Parses "i/N" (0 <= i < N <= kMaxShards); InputError otherwise.
void parse_shard(const std::string& text, std::size_t& index, std::size_t& count);

}  // namespace tvk
