#include "core/results/provenance.h"

namespace tvk {

const AttributeValue* Provenance::find(std::string_view name) const {
  for (const auto& [key, value] : attributes) {
    if (key == name) return &value;
  }
  return nullptr;
}

void Provenance::set(std::string name, AttributeValue value) {
  for (auto& [key, existing] : attributes) {
    if (key == name) {
      existing = std::move(value);
      return;
    }
  }
  attributes.emplace_back(std::move(name), std::move(value));
}

}  // namespace tvk
