// The table of experiment kinds: one line per kind (experiments/experiment_kind.h).

#include "core/config/config_checks.h"
#include "core/config/config_reader.h"
#include "experiments/experiment_kind.h"
#include "experiments/kinds/kinds.h"

namespace tvk {

const std::vector<ExperimentKind>& experiment_kinds() {
  static const std::vector<ExperimentKind> kinds = {
      kinds::synthetic_kind(),
      kinds::logit_store_kind(),
      kinds::certified_kind(),
  };
  return kinds;
}

const ExperimentKind* find_experiment_kind(const std::string& name) {
  for (const ExperimentKind& kind : experiment_kinds()) {
    if (name == kind.name) return &kind;
  }
  return nullptr;
}

const ExperimentKind& experiment_kind_of(const ConfigDocument& document) {
  const std::string name = experiment_kind(document);
  if (const ExperimentKind* found = find_experiment_kind(name)) return *found;
  std::vector<std::string> names;
  for (const ExperimentKind& kind : experiment_kinds())
    names.emplace_back(kind.name);
  const ConfigEntry* entry = document.root().find("kind");
  throw_config_error(entry->value.location(), "kind",
                     unknown_choice("experiment kind", name, names));
}

}  // namespace tvk
