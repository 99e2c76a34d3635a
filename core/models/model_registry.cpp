#include "core/models/model_registry.h"

#include <algorithm>
#include <cmath>
#include <span>

#include "core/error.h"
#include "core/models/model_base.h"
#include "core/text/text.h"

// The built-in models, in listing order: one line each. Model NAME is implemented in
// core/models/NAME.cpp, which defines `ModelEntry NAME_model_entry()`. An explicit list rather
// than self-registering statics: no static-initialisation order or dead-stripping surprises.
#define TVK_BUILTIN_MODELS(X) \
  X(gaussian)                 \
  X(student_t)                \
  X(laplace)                  \
  X(gumbel)                   \
  X(logistic)                 \
  X(gaussian_mixture)         \
  X(sinks)

namespace tvk {

#define TVK_DECLARE_MODEL_ENTRY(name) ModelEntry name##_model_entry();
TVK_BUILTIN_MODELS(TVK_DECLARE_MODEL_ENTRY)
#undef TVK_DECLARE_MODEL_ENTRY

namespace {

std::span<const ModelEntry> registry() {
#define TVK_MODEL_ENTRY(name) name##_model_entry(),
  static const ModelEntry entries[] = {TVK_BUILTIN_MODELS(TVK_MODEL_ENTRY)};
#undef TVK_MODEL_ENTRY
  return entries;
}

const ModelEntry* find_entry(std::string_view name) {
  for (const ModelEntry& entry : registry()) {
    if (entry.info().name == name) return &entry;
  }
  return nullptr;
}

// " (did you mean 'x'?)" when a candidate is close (closest_name), else "".
std::string did_you_mean(std::string_view given, const std::vector<std::string>& candidates) {
  const std::string guess = closest_name(given, candidates);
  return guess.empty() ? std::string() : " (did you mean '" + guess + "'?)";
}

std::string join(const std::vector<std::string>& names) {
  std::string text;
  for (const std::string& name : names)
    text += (text.empty() ? "" : ", ") + name;
  return text;
}

}  // namespace

std::vector<std::string> model_names() {
  std::vector<std::string> names;
  for (const ModelEntry& entry : registry())
    names.push_back(entry.info().name);
  return names;
}

const ModelInfo* find_model_info(std::string_view name) {
  const ModelEntry* entry = find_entry(name);
  return entry ? &entry->info() : nullptr;
}

std::unique_ptr<ScoreModel> make_model(std::string_view name, const ParamValues& values) {
  const ModelEntry* entry = find_entry(name);
  if (!entry) {
    const std::vector<std::string> names = model_names();
    throw InputError("unknown model '" + std::string(name) + "'" + did_you_mean(name, names) +
                     "; known models: " + join(names));
  }
  const ModelInfo& info = entry->info();
  std::vector<std::string> param_names;
  for (const ParamSpec& spec : info.params)
    param_names.push_back(spec.name);
  for (const auto& [key, value] : values) {
    if (std::find(param_names.begin(), param_names.end(), key) == param_names.end()) {
      throw InputError("model " + info.name + ": unknown parameter '" + key + "'" +
                       did_you_mean(key, param_names) + "; parameters: " + join(param_names));
    }
  }
  ParamValues resolved;
  for (const ParamSpec& spec : info.params) {
    auto given = values.find(spec.name);
    const double value = given != values.end() ? given->second : spec.default_value;
    if (std::string problem = check_param(spec, value); !problem.empty()) {
      throw InputError("model " + info.name + ": parameter " + spec.name + ": " + problem);
    }
    resolved[spec.name] = value;
  }
  return entry->make(resolved);
}

std::string check_param(const ParamSpec& spec, double value) {
  const std::string got = ", got " + format_shortest(value);
  if (std::isnan(value)) return "must be a number" + got;
  if (spec.integer && value != std::floor(value)) return "must be an integer" + got;
  const bool below = spec.min_inclusive ? value < spec.min : value <= spec.min;
  const bool above = spec.max_inclusive ? value > spec.max : value >= spec.max;
  if (!below && !above) return {};
  if (std::isinf(value)) return "must be finite" + got;
  // Name both ends when the range is bounded on both sides, e.g. "must be in (0, 1)".
  constexpr double kUnbounded = 1e308;
  const bool has_min = spec.min > -kUnbounded;
  const bool has_max = spec.max < kUnbounded;
  if (has_min && has_max) {
    return "must be in " + std::string(spec.min_inclusive ? "[" : "(") + format_shortest(spec.min) +
           ", " + format_shortest(spec.max) + (spec.max_inclusive ? "]" : ")") + got;
  }
  if (below) {
    return std::string("must be ") + (spec.min_inclusive ? ">= " : "> ") +
           format_shortest(spec.min) + got;
  }
  return std::string("must be ") + (spec.max_inclusive ? "<= " : "< ") + format_shortest(spec.max) +
         got;
}

}  // namespace tvk
