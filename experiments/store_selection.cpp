#include "experiments/store_selection.h"

#include <bit>
#include <utility>

#include "core/config/config_checks.h"
#include "core/error.h"

namespace tvk {

std::uint64_t n_bucket(std::uint64_t n) {
  return n < 2 ? 1 : std::bit_floor(n);
}

KeyWhere prefix_where(std::string prefix) {
  return [prefix = std::move(prefix)](const std::string& key) { return prefix + key; };
}

KeyWhere document_where(const ConfigDocument& document, std::string map_path) {
  return [&document, map_path = std::move(map_path)](const std::string& key) {
    const std::string path = map_path + key;
    // Walk the dot-separated path through maps; a key absent from the document (a default)
    // is located at the file.
    const ConfigNode* node = &document.root();
    std::size_t start = 0;
    while (node != nullptr) {
      const std::size_t dot = path.find('.', start);
      const ConfigEntry* entry = node->find(path.substr(start, dot - start));
      node = entry != nullptr ? &entry->value : nullptr;
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    const std::string location = node != nullptr ? node->location().to_string() : document.source();
    return location + ": " + path;
  };
}

StoreSelection select_from_store(const LogitStoreInfo& info, const StoreSelectionKeys& keys,
                                 const KeyWhere& where) {
  StoreSelection selection;
  selection.layers = resolve_index_selection(keys.layers, info.layers, where("layers"), keys.store);
  selection.heads = resolve_index_selection(keys.heads, info.heads, where("heads"), keys.store);
  for (std::size_t s : resolve_index_selection(keys.sequences, info.sequences.size(),
                                               where("sequences"), keys.store)) {
    if (info.sequences[s].length >= static_cast<std::size_t>(keys.min_length)) {
      selection.sequences.push_back(s);
    }
  }
  if (selection.sequences.empty()) {
    throw InputError(where("min_length") + ": no selected sequence of " + keys.store +
                     " has at least " + std::to_string(keys.min_length) + " tokens");
  }
  return selection;
}

std::vector<std::size_t> selected_query_rows(const LogitStoreInfo& info, const StoreSequence& seq,
                                             std::int64_t query_stride, std::int64_t min_n) {
  std::vector<std::size_t> rows;
  const std::size_t count = seq.query_positions.size();
  const auto stride = static_cast<std::size_t>(query_stride);
  for (std::size_t r = 0; r < count; ++r) {
    const std::size_t keys = info.causal ? seq.query_positions[r] + 1 : seq.length;
    if ((count - 1 - r) % stride == 0 && keys >= static_cast<std::size_t>(min_n)) {
      rows.push_back(r);
    }
  }
  return rows;
}

std::vector<std::vector<std::size_t>> selected_query_rows(const LogitStoreInfo& info,
                                                          const StoreSelection& selection,
                                                          const StoreSelectionKeys& keys,
                                                          const KeyWhere& where) {
  std::vector<std::vector<std::size_t>> rows;
  bool any = false;
  for (std::size_t s : selection.sequences) {
    rows.push_back(selected_query_rows(info, info.sequences[s], keys.query_stride, keys.min_n));
    any = any || !rows.back().empty();
  }
  if (!any) {
    throw InputError(where("min_n") + ": no selected query row of " + keys.store +
                     " has at least " + std::to_string(keys.min_n) + " keys");
  }
  return rows;
}

LogitStoreInfo check_store_selection(const StoreSelectionKeys& keys, const KeyWhere& where) {
  const LogitStore store = [&] {
    try {
      return LogitStore::open(keys.store);
    } catch (const InputError& error) {
      throw InputError(where("store") + ": " + error.what());
    }
  }();
  const StoreSelection selection = select_from_store(store.info(), keys, where);
  (void)selected_query_rows(store.info(), selection, keys, where);
  return store.info();
}

}  // namespace tvk
