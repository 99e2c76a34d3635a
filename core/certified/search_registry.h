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

}  // namespace tvk
