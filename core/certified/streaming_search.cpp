#include "core/certified/streaming_search.h"

#include <algorithm>

namespace tvk {

std::vector<std::uint32_t> streaming_keys(std::size_t n, std::size_t sinks, std::size_t window) {
  std::vector<std::uint32_t> keys;
  const std::size_t head = std::min(sinks, n);
  const std::size_t tail_begin = n > window ? std::max(n - window, head) : head;
  for (std::size_t i = 0; i < head; ++i)
    keys.push_back(static_cast<std::uint32_t>(i));
  for (std::size_t i = tail_begin; i < n; ++i)
    keys.push_back(static_cast<std::uint32_t>(i));
  return keys;
}

}  // namespace tvk
