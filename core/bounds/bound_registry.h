#pragma once
//! \file The registry of bound variants by name (one line per bound in bound_registry.cpp).

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/bounds/bound.h"

namespace tvk {

//! Names of every registered bound, in registration order: b1, b2, b3, b3_gap, b3_equal,
//! b3_equal_gap, b4.
std::vector<std::string> bound_names();

//! Builds a bound by name; throws std::invalid_argument for an unknown name.
std::unique_ptr<CertifyingBound> make_bound(std::string_view name, const BoundOptions& options);

}  // namespace tvk
