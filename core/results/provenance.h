#pragma once
//! \file Provenance: the root attributes of a results file or store, in order. Plain values with
//! no HDF5 in sight, so configs, stores and results writers can all name them.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace tvk {

//! A root attribute value: strings are written as scalar variable-length UTF-8 strings (h5py
//! reads them as str), numbers as scalars, the int vector (e.g. format_version [major, minor])
//! as a 1-D int64 attribute.
using AttributeValue = std::variant<std::string, double, std::int64_t, std::vector<std::int64_t>>;

//! Root attributes of a results file, in the order they are written (and read back).
struct Provenance {
  std::vector<std::pair<std::string, AttributeValue>> attributes;

  //! The value of attribute `name`, or nullptr.
  const AttributeValue* find(std::string_view name) const;
  //! Replaces the value of `name`, or appends it when absent.
  void set(std::string name, AttributeValue value);
};

}  // namespace tvk
