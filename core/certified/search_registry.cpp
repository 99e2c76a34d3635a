#include "core/certified/search_registry.h"

#include <map>
#include <stdexcept>

// The built-in search types, in listing order: one line each. Type NAME is registered in
// core/certified/NAME_search_type.cpp, which defines `SearchEntry NAME_search_entry()`; its
// algorithm is in NAME_search.{h,cpp} (mc_search for "mc_search"). An explicit list, as in the
// model registry: no static-initialisation order surprises.
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

namespace {

//! A section with no keys that notes what each read falls back to. A required key's read fails,
//! which ends the reader: the keys it would read after that one keep no default.
class DefaultsSection final : public SectionReader {
 public:
  struct Required {};

  bool has(std::string_view) override { return false; }
  std::int64_t integer_or(std::string_view key, std::int64_t fallback, std::int64_t) override {
    keys_[std::string(key)].default_value = std::to_string(fallback);
    return fallback;
  }
  std::string choice_or(std::string_view key, const std::string& fallback, std::string_view,
                        const std::vector<std::string>& choices) override {
    SearchKeyDefault& noted = keys_[std::string(key)];
    noted.default_value = fallback;
    noted.choices = choices;
    return fallback;
  }
  std::string text_or(std::string_view key, const std::string& fallback,
                      const std::function<std::string(const std::string&)>&) override {
    keys_[std::string(key)].default_value = fallback;
    return fallback;
  }
  [[noreturn]] void fail(std::string_view key, std::string_view) override {
    keys_[std::string(key)].required = true;
    throw Required{};
  }

  std::map<std::string, SearchKeyDefault>& keys() { return keys_; }

 private:
  std::map<std::string, SearchKeyDefault> keys_;
};

}  // namespace

std::vector<SearchKeyDefault> search_key_defaults(const SearchEntry& entry) {
  DefaultsSection section;
  try {
    entry.read(section);
  } catch (const DefaultsSection::Required&) {
  }
  std::vector<SearchKeyDefault> keys;
  for (const std::string& key : entry.keys) {
    SearchKeyDefault noted = section.keys()[key];
    noted.key = key;
    keys.push_back(noted);
  }
  return keys;
}

}  // namespace tvk
