#include "experiments/store_selection.h"

#include "core/config/config_checks.h"
#include "core/error.h"

namespace tvk {

StoreSelection select_from_store(const LogitStoreInfo& info, const std::string& store_path,
                                 const std::vector<std::int64_t>& layers,
                                 const std::vector<std::int64_t>& heads,
                                 const std::vector<std::int64_t>& sequences,
                                 std::int64_t min_length, const std::string& where) {
  StoreSelection selection;
  selection.layers = resolve_index_selection(layers, info.layers, where + "layers", store_path);
  selection.heads = resolve_index_selection(heads, info.heads, where + "heads", store_path);
  for (std::size_t s :
       resolve_index_selection(sequences, info.sequences.size(), where + "sequences", store_path)) {
    if (info.sequences[s].length >= static_cast<std::size_t>(min_length)) {
      selection.sequences.push_back(s);
    }
  }
  if (selection.sequences.empty()) {
    throw InputError(where + "min_length: no selected sequence of " + store_path +
                     " has at least " + std::to_string(min_length) + " tokens");
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

}  // namespace tvk
