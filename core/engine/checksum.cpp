#include "core/engine/checksum.h"

#include <cstdio>

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

}  // namespace tvk
