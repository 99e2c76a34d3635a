#pragma once
//! \file Which (layer, head, sequence)s of a logit store a run reads: the config's selection
//! lists (empty = all) resolved against the store, and sequences shorter than min_length
//! dropped. Shared by every kind that reads a store.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/hdf5/logit_store.h"

namespace tvk {

struct StoreSelection {
  std::vector<std::size_t> layers, heads, sequences;  //!< store indices, in the config's order
};

//! Resolves the selection lists against `info`. `where` prefixes the key in messages
//! ("run.yaml: " or "run.yaml: source."); InputError for an index out of range, or when no
//! selected sequence has min_length tokens.
StoreSelection select_from_store(const LogitStoreInfo& info, const std::string& store_path,
                                 const std::vector<std::int64_t>& layers,
                                 const std::vector<std::int64_t>& heads,
                                 const std::vector<std::int64_t>& sequences,
                                 std::int64_t min_length, const std::string& where);

//! The stored query rows of a sequence a run reads: every query_stride-th counted back from the
//! last, with at least min_n keys (a causal row sees query_positions[r] + 1 keys).
std::vector<std::size_t> selected_query_rows(const LogitStoreInfo& info, const StoreSequence& seq,
                                             std::int64_t query_stride, std::int64_t min_n);

}  // namespace tvk
