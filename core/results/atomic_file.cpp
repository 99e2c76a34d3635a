#include "core/results/atomic_file.h"

namespace tvk {

std::filesystem::path temporary_path(const std::filesystem::path& path) {
  std::filesystem::path tmp = path;
  tmp += ".tmp";
  return tmp;
}

}  // namespace tvk
