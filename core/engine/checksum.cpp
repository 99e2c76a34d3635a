#include "core/engine/checksum.h"

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <system_error>
#include <vector>

// Debian's compiled libxxhash, not XXH_INLINE_ALL: inlined into tvk, its AVX-512 code path
// warns under GCC 12 with -march=x86-64-v4 (maybe-uninitialized) and would fail -Werror.
#define XXH_STATIC_LINKING_ONLY  // the state struct on the stack; the functions stay in the library
#include <xxhash.h>

namespace tvk {

std::uint64_t checksum64(std::initializer_list<std::string_view> parts) {
  XXH3_state_t state;
  XXH3_64bits_reset(&state);
  for (std::string_view part : parts) {
    const std::uint64_t size = part.size();
    XXH3_64bits_update(&state, &size, sizeof size);
    XXH3_64bits_update(&state, part.data(), part.size());
  }
  return XXH3_64bits_digest(&state);
}

std::string checksum_hex(std::initializer_list<std::string_view> parts) {
  char buffer[17];
  std::snprintf(buffer, sizeof buffer, "%016llx",
                static_cast<unsigned long long>(checksum64(parts)));
  return buffer;
}

std::string file_checksum_hex(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    throw std::filesystem::filesystem_error("cannot read", path,
                                            std::error_code(errno, std::generic_category()));
  }
  XXH3_state_t state;
  XXH3_64bits_reset(&state);
  std::vector<char> block(std::size_t{1} << 20);
  std::size_t got = 0;
  while ((got = std::fread(block.data(), 1, block.size(), file)) > 0)
    XXH3_64bits_update(&state, block.data(), got);
  const bool failed = std::ferror(file) != 0;
  std::fclose(file);
  if (failed) {
    throw std::filesystem::filesystem_error("cannot read", path,
                                            std::error_code(EIO, std::generic_category()));
  }
  char buffer[17];
  std::snprintf(buffer, sizeof buffer, "%016llx",
                static_cast<unsigned long long>(XXH3_64bits_digest(&state)));
  return buffer;
}

}  // namespace tvk
