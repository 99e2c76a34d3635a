#include "experiments/provenance.h"

#include <H5public.h>
#include <oneapi/tbb/version.h>

#include <boost/version.hpp>
#include <cstdint>
#include <ctime>
#include <filesystem>
#include "core/numerics/eigen.h"

#include "core/engine/checksum.h"
#include "core/kernels/kernel_set.h"
#include "tvk/git_version.h"
#include "tvk/version.h"

namespace tvk {

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buffer;
}

Provenance make_provenance(const RunIdentity& run) {
  Provenance p;
  p.set("filetype", std::string("tvk-results"));
  p.set("format_version", std::vector<std::int64_t>{kFormatMajor, kFormatMinor});
  p.set("experiment", run.kind);
  p.set("tvk_version", std::string(build::kVersion));
  p.set("git_commit", std::string(build::kGitCommit));
  p.set("git_dirty", static_cast<std::int64_t>(build::kGitDirty ? 1 : 0));
  p.set("config", run.config_text);
  p.set("config_file", run.config_file);
  p.set("command_line", run.command_line);
  // Seeds span 0..2^64-1; HDF5 attributes here are int64, so the top half is kept as text.
  if (run.seed <= static_cast<std::uint64_t>(INT64_MAX)) {
    p.set("seed", static_cast<std::int64_t>(run.seed));
  } else {
    p.set("seed", std::to_string(run.seed));
  }
  p.set("threads", static_cast<std::int64_t>(run.threads));
  // The kernel set changes speed only, never data; recorded so that a claim can be checked.
  p.set("kernels", std::string(kernels::active_kernels().name));
  p.set("created_utc", utc_now());
  p.set("library_eigen", std::to_string(EIGEN_WORLD_VERSION) + "." +
                             std::to_string(EIGEN_MAJOR_VERSION) + "." +
                             std::to_string(EIGEN_MINOR_VERSION));
  p.set("library_boost", std::string(BOOST_LIB_VERSION));
  p.set("library_hdf5", std::to_string(H5_VERS_MAJOR) + "." + std::to_string(H5_VERS_MINOR) + "." +
                            std::to_string(H5_VERS_RELEASE));
  p.set("library_onetbb", std::string(TBB_VERSION_STRING));
  p.set("library_yaml_cpp", std::string(TVK_YAML_CPP_VERSION));
  return p;
}

std::string store_identity_text(const LogitStoreInfo& info, const std::string& path) {
  std::string text;
  for (const char* key : {"created_utc", "model_weights_sha256", "text_source"}) {
    if (const AttributeValue* value = info.attributes.find(key)) {
      if (const auto* string = std::get_if<std::string>(value)) text += "\n" + *string;
    }
  }
  // The content itself: a store whose data changed but whose attributes did not must not
  // resume onto stale checkpoints or merge with partials of the old data.
  return text + "\nstore size " + std::to_string(std::filesystem::file_size(path)) +
         "\nstore content " + file_checksum_hex(path);
}

}  // namespace tvk
