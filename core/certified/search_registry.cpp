#include "core/certified/search_registry.h"

// The built-in search types, in listing order: one line each. Type NAME is implemented in
// core/certified/NAME_search_type.cpp, which defines `SearchEntry NAME_search_entry()`. An
// explicit list, as in the model registry: no static-initialisation order surprises.
#define TVK_BUILTIN_SEARCHES(X) \
  X(mc)                         \
  X(b5)                         \
  X(delta_k)                    \
  X(oracle_topk)                \
  X(quantized)                  \
  X(quest)                      \
  X(streaming)                  \
  X(top_p)

namespace tvk {

#define TVK_DECLARE_SEARCH_ENTRY(name) SearchEntry name##_search_entry();
TVK_BUILTIN_SEARCHES(TVK_DECLARE_SEARCH_ENTRY)
#undef TVK_DECLARE_SEARCH_ENTRY

std::span<const SearchEntry> search_entries() {
#define TVK_SEARCH_ENTRY(name) name##_search_entry(),
  static const SearchEntry entries[] = {TVK_BUILTIN_SEARCHES(TVK_SEARCH_ENTRY)};
#undef TVK_SEARCH_ENTRY
  return entries;
}

const SearchEntry* find_search_entry(std::string_view name) {
  for (const SearchEntry& entry : search_entries()) {
    if (entry.name == name) return &entry;
  }
  return nullptr;
}

std::vector<std::string> search_type_names() {
  std::vector<std::string> names;
  for (const SearchEntry& entry : search_entries())
    names.push_back(entry.name);
  return names;
}

}  // namespace tvk
