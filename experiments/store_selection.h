#pragma once
//! \file Which (layer, head, sequence)s of a logit store a run reads: the config's selection
//! lists (empty = all) resolved against the store, and sequences shorter than min_length
//! dropped. Shared by every kind that reads a store.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/config/config_document.h"
#include "core/hdf5/logit_store.h"

namespace tvk {

//! The n bucket of a causal (decoder) row of n keys, 2^floor(log2 n) (1 for n < 2): such rows
//! have every length, so the store kinds' tables group them by it (the column n_bucket).
std::uint64_t n_bucket(std::uint64_t n);

struct StoreSelection {
  std::vector<std::size_t> layers, heads, sequences;  //!< store indices, in the config's order
};

//! A selection key ("layers", "min_n") as messages name it: "run.yaml: source.layers", or with
//! the value's line, or "<command line>: source.layers" when an override set it.
using KeyWhere = std::function<std::string(const std::string& key)>;

//! `prefix` + key ("run.yaml: source." + "layers"): a run's checks, from its typed config.
KeyWhere prefix_where(std::string prefix);

//! The key `map_path` + key ("source." + "layers") located in `document`: where its value was
//! written (the file's line or the command line), the file alone for a key left at its default.
KeyWhere document_where(const ConfigDocument& document, std::string map_path);

//! The selection keys of a store-reading config (kinds logit_store and certified).
struct StoreSelectionKeys {
  std::string store;  //!< the store's path as written
  std::vector<std::int64_t> layers, heads, sequences;
  std::int64_t min_length = 1, query_stride = 1, min_n = 1;
};

//! The selection keys of a config with these members (StoreSweepConfig, CertifiedStoreSource).
template <class Config>
StoreSelectionKeys store_selection_keys(const Config& config) {
  return {config.store,      config.layers,       config.heads, config.sequences,
          config.min_length, config.query_stride, config.min_n};
}

//! Resolves the selection lists against `info`; InputError for an index out of range, or when
//! no selected sequence has min_length tokens.
StoreSelection select_from_store(const LogitStoreInfo& info, const StoreSelectionKeys& keys,
                                 const KeyWhere& where);

//! The stored query rows of a sequence a run reads: every query_stride-th counted back from the
//! last, with at least min_n keys (a causal row sees query_positions[r] + 1 keys).
std::vector<std::size_t> selected_query_rows(const LogitStoreInfo& info, const StoreSequence& seq,
                                             std::int64_t query_stride, std::int64_t min_n);

//! selected_query_rows of every sequence of `selection`, in its order. InputError at min_n when
//! no sequence has a row (a run would have nothing to compute).
std::vector<std::vector<std::size_t>> selected_query_rows(const LogitStoreInfo& info,
                                                          const StoreSelection& selection,
                                                          const StoreSelectionKeys& keys,
                                                          const KeyWhere& where);

//! Everything a run checks of its store before computing, from the store's metadata only
//! (LogitStore::open reads no q, k or v): that it opens, the selection, at least one query row.
//! For `tvk validate` and for multirun before its first job. InputError at the offending key.
//! Returns the store's structure.
LogitStoreInfo check_store_selection(const StoreSelectionKeys& keys, const KeyWhere& where);

}  // namespace tvk
