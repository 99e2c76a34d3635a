#pragma once
//! \file Provenance of a results file (root attributes; results/README.md "Root attributes"):
//! format version, tvk version, git commit and dirty flag, resolved config, command line, seed,
//! threads, UTC time and library versions.

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/hdf5/logit_store.h"
#include "core/hdf5/results_writer.h"

namespace tvk {

//! Results format version [major, minor]: major changes break readers, minor ones add fields.
inline constexpr std::int64_t kFormatMajor = 1;
inline constexpr std::int64_t kFormatMinor = 1;  // 1.1: the kernels attribute

//! What identifies one run.
struct RunIdentity {
  std::string kind;          //!< experiment kind, e.g. "synthetic"
  std::string config_text;   //!< resolved config (YAML)
  std::string config_file;   //!< as given on the command line
  std::string command_line;  //!< the full command line
  std::uint64_t seed = 0;
  std::size_t threads = 0;
};

//! Root attributes for a results file of this run.
Provenance make_provenance(const RunIdentity& run);

//! "2026-11-23T23:59:59Z".
std::string utc_now();

//! What identifies the data of a logit store for checkpoints and partial files: its identity
//! attributes (creation time, weights hash, text source), its size and an XXH3 checksum of its
//! whole content.
std::string store_identity_text(const LogitStoreInfo& info, const std::string& path);

}  // namespace tvk
