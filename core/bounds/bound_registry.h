#pragma once
//! \file The registry of bound variants by name. A bound is one file in core/bounds/ defining
//! `BoundEntry NAME_bound_entry()` (its name and factory) plus one line in bound_registry.cpp's
//! list, like a score model (core/models/model_registry.cpp); `tvk bounds`, the config checks
//! and the tests read the registry, so nothing else names it.

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/bounds/bound.h"

namespace tvk {

//! A registered bound: its config name and how to build it from the shared options.
struct BoundEntry {
  std::string name;
  std::function<std::unique_ptr<CertifyingBound>(const BoundOptions&)> make;
};

//! Names of every registered bound, in registration order.
std::vector<std::string> bound_names();

//! Builds a bound by name; throws std::invalid_argument for an unknown name.
std::unique_ptr<CertifyingBound> make_bound(std::string_view name, const BoundOptions& options);

}  // namespace tvk
