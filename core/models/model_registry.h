#pragma once
//! \file The registry of score models by name. Registration is one line per model in
//! core/models/model_registry.cpp (explicit, so no static-initialisation or linker surprises).

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/models/score_model.h"

namespace tvk {

//! Names of all registered models, in registration order.
std::vector<std::string> model_names();

//! The description of a registered model, or nullptr when none has that name.
const ModelInfo* find_model_info(std::string_view name);

//! Builds a model. `values` may omit parameters (their defaults are used); unknown names or
//! out-of-range values throw InputError naming the parameter.
std::unique_ptr<ScoreModel> make_model(std::string_view name, const ParamValues& values);

//! Validates one parameter value against its spec; returns an empty string when valid, else a
//! message such as "must be > 0, got -2".
std::string check_param(const ParamSpec& spec, double value);

}  // namespace tvk
