// What every experiment kind prints alike (experiments/kinds/kinds.h).
#include <cstdio>

#include "experiments/kinds/kinds.h"

namespace tvk::kinds {

void print_shard_written(const std::string& name, const RunOptions& options,
                         const std::filesystem::path& partial, std::size_t rows, double seconds) {
  std::printf(
      "%s: shard %zu/%zu: %zu work items' rows in %.2f s\nwrote %s (combine the shards "
      "with tvk merge)\n",
      name.c_str(), options.shard_index, options.shard_count, rows / options.shard_count, seconds,
      partial.string().c_str());
}

void print_files_written(const std::vector<std::filesystem::path>& files) {
  const char* lead = "wrote";
  for (const auto& path : files) {
    if (path.empty()) continue;
    std::printf("%s %s\n", lead, path.string().c_str());
    lead = "     ";
  }
}

}  // namespace tvk::kinds
