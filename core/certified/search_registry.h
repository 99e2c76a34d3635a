#pragma once
//! \file The registry of certified search types by name (one line per type in
//! search_registry.cpp; each type in its own file, core/certified/*_search_type.cpp).

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/certified/certified_search.h"

namespace tvk {

//! Every registered search type, in listing order: mc_search, b5, delta_k, oracle_topk,
//! quantized, quest, streaming, top_p.
std::span<const SearchEntry> search_entries();

//! The entry of a type, or nullptr.
const SearchEntry* find_search_entry(std::string_view name);

//! The registered type names, in listing order.
std::vector<std::string> search_type_names();

//! One key of a search type as its reader takes it when the section gives no keys.
struct SearchKeyDefault {
  std::string key;
  //! The value it reads when the key is absent; empty when it reads none (a key read only with
  //! another key's non-default value, an optional key with no default, or a required one).
  std::string default_value;
  bool required = false;             //!< absent is an error
  std::vector<std::string> choices;  //!< the values it accepts, when it is one of a list
};

//! Every key of `entry` (entry.keys, in order) with its default, found by running its reader on
//! a section with no keys: the registry describes itself (`tvk searches`).
std::vector<SearchKeyDefault> search_key_defaults(const SearchEntry& entry);

}  // namespace tvk
