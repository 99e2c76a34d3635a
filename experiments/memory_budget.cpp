#include "experiments/memory_budget.h"

#include <unistd.h>

#include <cstdio>
#include <limits>

#include "core/error.h"

namespace tvk {

std::size_t physical_memory_bytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page = ::sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page <= 0) return 0;
  return static_cast<std::size_t>(pages) * static_cast<std::size_t>(page);
}

void check_row_memory(const std::string& where, std::size_t keys, std::size_t bytes_per_key,
                      std::size_t copies) {
  const std::size_t memory = physical_memory_bytes();
  if (memory == 0) return;
  const double needed =
      static_cast<double>(keys) * static_cast<double>(bytes_per_key) * static_cast<double>(copies);
  if (needed <= static_cast<double>(memory)) return;
  char text[256];
  std::snprintf(text, sizeof text,
                ": a row of %zu keys needs about %.1f GiB of working memory (%zu bytes per key x "
                "%zu rows at once); this machine has %.1f GiB",
                keys, needed / 1073741824.0, bytes_per_key, copies,
                static_cast<double>(memory) / 1073741824.0);
  throw InputError(where + text);
}

}  // namespace tvk
