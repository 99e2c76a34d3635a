#include "core/bounds/bound_registry.h"

#include <functional>
#include <stdexcept>
#include <utility>

#include "core/bounds/block_bound.h"
#include "core/bounds/boundary_gap_bound.h"
#include "core/bounds/exact_head_gap_bound.h"
#include "core/bounds/multi_gap_bound.h"

namespace tvk {
namespace {

using Factory = std::function<std::unique_ptr<CertifyingBound>(const BoundOptions&)>;

const std::vector<std::pair<std::string, Factory>>& registry() {
  static const std::vector<std::pair<std::string, Factory>> entries = {
      {"b1", [](const BoundOptions&) { return std::make_unique<BoundaryGapBound>(); }},
      {"b2", [](const BoundOptions&) { return std::make_unique<ExactHeadGapBound>(); }},
      {"b3",
       [](const BoundOptions&) {
         return std::make_unique<MultiGapBound>(TailGrouping::kGeometric, HeadForm::kExact);
       }},
      {"b3_gap",
       [](const BoundOptions&) {
         return std::make_unique<MultiGapBound>(TailGrouping::kGeometric, HeadForm::kGap);
       }},
      {"b3_equal",
       [](const BoundOptions& o) {
         return std::make_unique<MultiGapBound>(TailGrouping::kEqual, HeadForm::kExact,
                                                o.equal_groups);
       }},
      {"b3_equal_gap",
       [](const BoundOptions& o) {
         return std::make_unique<MultiGapBound>(TailGrouping::kEqual, HeadForm::kGap,
                                                o.equal_groups);
       }},
      {"b4", [](const BoundOptions& o) { return std::make_unique<BlockBound>(o.block); }},
  };
  return entries;
}

}  // namespace

std::vector<std::string> bound_names() {
  std::vector<std::string> names;
  for (const auto& [name, factory] : registry())
    names.push_back(name);
  return names;
}

std::unique_ptr<CertifyingBound> make_bound(std::string_view name, const BoundOptions& options) {
  for (const auto& [entry, factory] : registry()) {
    if (entry == name) return factory(options);
  }
  throw std::invalid_argument("unknown bound '" + std::string(name) + "'");
}

}  // namespace tvk
