#include "core/certified/cell_kinds.h"

#include <algorithm>
#include <stdexcept>

namespace tvk {

std::span<const CellKindEntry> cell_kinds() {
  static const CellKindEntry entries[] = {
      {"blocks",
       CellKind::kBlocks,
       {"block"},
       [](SectionReader& reader, CellOptions& options) {
         options.block = static_cast<std::size_t>(
             reader.integer_or("block", static_cast<std::int64_t>(options.block), 1));
       },
       [](const CellOptions& options) { return "blocks of " + std::to_string(options.block); },
       [](const CellOptions& a, const CellOptions& b) { return a.block == b.block; }},
      {"clusters",
       CellKind::kClusters,
       {"clusters", "iterations"},
       [](SectionReader& reader, CellOptions& options) {
         options.clusters = static_cast<std::size_t>(
             reader.integer_or("clusters", static_cast<std::int64_t>(options.clusters), 1));
         options.iterations = static_cast<std::size_t>(
             reader.integer_or("iterations", static_cast<std::int64_t>(options.iterations), 0));
       },
       [](const CellOptions& options) { return std::to_string(options.clusters) + " clusters"; },
       [](const CellOptions& a, const CellOptions& b) {
         return a.clusters == b.clusters && a.iterations == b.iterations;
       }},
  };
  return entries;
}

std::vector<std::string> cell_kind_names() {
  std::vector<std::string> names;
  for (const CellKindEntry& entry : cell_kinds())
    names.push_back(entry.name);
  return names;
}

const CellKindEntry& cell_kind_entry(std::string_view name) {
  for (const CellKindEntry& entry : cell_kinds()) {
    if (entry.name == name) return entry;
  }
  std::string known;
  for (const std::string& known_name : cell_kind_names())
    known += (known.empty() ? "" : ", ") + known_name;
  throw std::invalid_argument("unknown cell kind '" + std::string(name) + "' (expected " + known +
                              ")");
}

const CellKindEntry& cell_kind_entry(CellKind kind) {
  for (const CellKindEntry& entry : cell_kinds()) {
    if (entry.kind == kind) return entry;
  }
  throw std::logic_error("cell kind without a registry entry");
}

CellOptions read_cell_keys(SectionReader& reader, std::string_view name) {
  const CellKindEntry& own = cell_kind_entry(name);
  for (const CellKindEntry& other : cell_kinds()) {
    if (other.name == own.name) continue;
    for (const std::string& key : other.keys) {
      const bool shared = std::find(own.keys.begin(), own.keys.end(), key) != own.keys.end();
      if (!shared && reader.has(key)) reader.fail(key, "is used only with cells: " + other.name);
    }
  }
  CellOptions options;
  options.kind = own.kind;
  own.read(reader, options);
  return options;
}

std::vector<std::string> cell_keys() {
  std::vector<std::string> keys;
  for (const CellKindEntry& entry : cell_kinds()) {
    for (const std::string& key : entry.keys) {
      if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
    }
  }
  return keys;
}

UpperBoundKind read_upper_bound(SectionReader& reader) {
  const std::vector<std::string> names = {upper_bound_kind_name(UpperBoundKind::kBox),
                                          upper_bound_kind_name(UpperBoundKind::kCentroidRadius),
                                          upper_bound_kind_name(UpperBoundKind::kMin)};
  return parse_upper_bound_kind(reader.choice_or("bound", "min", "upper bound", names));
}

}  // namespace tvk
