#pragma once
//! \file The cell kinds a search may run on (`cells:` of a search), by name: each reads its own
//! keys, names its partition for `tvk validate` and says when two searches share one partition.
//! One entry per kind in cell_kinds.cpp; KeyCells builds the partition from CellOptions.

#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/certified/cells.h"
#include "core/certified/section_reader.h"

namespace tvk {

//! A cell kind of the `cells:` key.
struct CellKindEntry {
  std::string name;  //!< the `cells:` value
  CellKind kind;
  std::vector<std::string> keys;  //!< the keys it takes
  //! Reads its keys into `options` (options.kind is set already; absent keys keep its defaults).
  std::function<void(SectionReader&, CellOptions&)> read;
  //! "blocks of 16", "16 clusters".
  std::function<std::string(const CellOptions&)> describe;
  //! Whether two options of this kind give the same partition (then built once per key set).
  std::function<bool(const CellOptions&, const CellOptions&)> same;
};

//! Every cell kind, in listing order: blocks, clusters.
std::span<const CellKindEntry> cell_kinds();
//! Their names, in listing order.
std::vector<std::string> cell_kind_names();
//! The entry of a registered name; throws std::invalid_argument for another name.
const CellKindEntry& cell_kind_entry(std::string_view name);
//! The entry of a kind.
const CellKindEntry& cell_kind_entry(CellKind kind);

//! The options of cell kind `name` from its keys; the keys of the other kinds are errors
//! ("is used only with cells: clusters").
CellOptions read_cell_keys(SectionReader& reader, std::string_view name);
//! Every key some cell kind takes, in listing order.
std::vector<std::string> cell_keys();

//! `bound`: which summary bound gives U_j ("upper bound" box, centroid_radius or min; min when
//! absent).
UpperBoundKind read_upper_bound(SectionReader& reader);

}  // namespace tvk
