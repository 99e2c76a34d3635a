// `tvk models`, `tvk bounds` and `tvk searches`: what can be named in a config.
#include <cstdio>
#include <iostream>

#include "core/bounds/bound_registry.h"
#include "core/certified/search_registry.h"
#include "core/models/model_registry.h"
#include "core/text/text.h"
#include "experiments/cli/arg_parser.h"
#include "experiments/cli/cli.h"

namespace tvk::cli {
namespace {

std::string range_text(const ParamSpec& spec) {
  const bool low_open = spec.min <= -1e300, high_open = spec.max >= 1e300;
  std::string text = (low_open || !spec.min_inclusive ? "(" : "[") +
                     (low_open ? std::string("-inf") : format_shortest(spec.min)) + ", " +
                     (high_open ? std::string("inf") : format_shortest(spec.max)) +
                     (high_open || !spec.max_inclusive ? ")" : "]");
  if (spec.integer) text += ", integer";
  return text;
}

}  // namespace

int run_models_command(const std::vector<std::string>& args) {
  ArgParser parser("models", "tvk models",
                   "Lists the registered score models (config: model: {type: NAME, ...}) with\n"
                   "their parameters, defaults and valid ranges, and whether E[e^s] is finite\n"
                   "at the defaults (without it there is no asymptotic k_eps rule).");
  if (!parser.parse(args)) return 0;
  for (const auto& name : model_names()) {
    const ModelInfo* info = find_model_info(name);
    const auto model = make_model(name, {});
    std::printf("%s\n    %s\n", name.c_str(), info->doc.c_str());
    for (const ParamSpec& spec : info->params) {
      std::printf("    %-10s default %-8s range %-22s %s\n", spec.name.c_str(),
                  format_shortest(spec.default_value).c_str(), range_text(spec).c_str(),
                  spec.doc.c_str());
    }
    std::printf("    E[e^s] at defaults: %s\n\n",
                model->exp_mean_finite() ? "finite" : model->no_rule_reason().c_str());
  }
  return 0;
}

int run_bounds_command(const std::vector<std::string>& args) {
  ArgParser parser("bounds", "tvk bounds",
                   "Lists the registered bound variants (config: bounds: [NAME, ...]).");
  if (!parser.parse(args)) return 0;
  for (const auto& name : bound_names()) {
    std::printf("%-14s %s\n", name.c_str(),
                make_bound(name, BoundOptions{})->description().c_str());
  }
  return 0;
}

int run_searches_command(const std::vector<std::string>& args) {
  ArgParser parser("searches", "tvk searches",
                   "Lists the registered search types (config: searches: [{type: NAME, ...}])\n"
                   "with their keys and defaults. A key with default '-' reads no value when\n"
                   "absent: it is optional, or read only with another key's value (block with\n"
                   "cells: blocks); 'required' must be given.");
  if (!parser.parse(args)) return 0;
  for (const SearchEntry& entry : search_entries()) {
    std::printf("%s\n    %s\n", entry.name.c_str(), entry.doc.c_str());
    if (entry.keys.empty()) std::printf("    (no keys)\n");
    for (const SearchKeyDefault& key : search_key_defaults(entry)) {
      const std::string value =
          key.required ? "required" : (key.default_value.empty() ? "-" : key.default_value);
      std::string choices;
      for (const std::string& choice : key.choices)
        choices += (choices.empty() ? "one of " : ", ") + choice;
      if (choices.empty()) {
        std::printf("    %-12s default %s\n", key.key.c_str(), value.c_str());
      } else {
        std::printf("    %-12s default %-10s %s\n", key.key.c_str(), value.c_str(),
                    choices.c_str());
      }
    }
    std::printf("\n");
  }
  return 0;
}

}  // namespace tvk::cli
