#include "core/bounds/bound_registry.h"

#include <span>
#include <stdexcept>

// The built-in bounds, in listing order: one line each. Bound NAME is defined in a file of
// core/bounds/ that defines `BoundEntry NAME_bound_entry()` (one file may define several, as
// multi_gap_bound.cpp does for the B3 variants). An explicit list rather than self-registering
// statics: no static-initialisation order or dead-stripping surprises.
#define TVK_BUILTIN_BOUNDS(X) \
  X(b1)                       \
  X(b2)                       \
  X(b3)                       \
  X(b3_gap)                   \
  X(b3_equal)                 \
  X(b3_equal_gap)             \
  X(b4)

namespace tvk {

#define TVK_DECLARE_BOUND_ENTRY(name) BoundEntry name##_bound_entry();
TVK_BUILTIN_BOUNDS(TVK_DECLARE_BOUND_ENTRY)
#undef TVK_DECLARE_BOUND_ENTRY

namespace {

std::span<const BoundEntry> registry() {
#define TVK_BOUND_ENTRY(name) name##_bound_entry(),
  static const BoundEntry entries[] = {TVK_BUILTIN_BOUNDS(TVK_BOUND_ENTRY)};
#undef TVK_BOUND_ENTRY
  return entries;
}

}  // namespace

std::vector<std::string> bound_names() {
  std::vector<std::string> names;
  for (const BoundEntry& entry : registry())
    names.push_back(entry.name);
  return names;
}

std::unique_ptr<CertifyingBound> make_bound(std::string_view name, const BoundOptions& options) {
  for (const BoundEntry& entry : registry()) {
    if (entry.name == name) return entry.make(options);
  }
  throw std::invalid_argument("unknown bound '" + std::string(name) + "'");
}

}  // namespace tvk
