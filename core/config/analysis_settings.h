#pragma once
//! \file The per-row analysis keys every experiment kind reads the same way: eps, the
//! certifying bounds and their settings, the tau-profile grid and the work-item size.

#include <cstdint>
#include <string>
#include <vector>

namespace tvk {

class ConfigReader;

//! The per-row analysis keys every experiment kind shares (eps, bounds and their settings).
struct AnalysisSettings {
  std::vector<double> eps;
  std::vector<std::string> bounds = {"b1", "b2", "b3", "b4"};
  std::int64_t block = 16;
  std::string b3_grouping = "geometric";
  std::int64_t b3_groups = 8;
  std::vector<double> k_grid = {0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5};
  std::int64_t chunk_rows = 64;
};

//! Reads the shared analysis keys (eps required) from a config's top-level reader.
AnalysisSettings read_analysis_settings(ConfigReader& reader);

//! Reads `eps`: required, a number or list, each in (0, 1), distinct, in the user's order.
std::vector<double> read_eps(ConfigReader& reader);

//! The names the `bounds` key accepts: every registered bound (core/bounds/bound_registry.h).
const std::vector<std::string>& known_bound_names();

//! The bound keys every kind reads the same way: bounds (registered names, distinct), block,
//! b3_grouping, b3_groups. Each argument holds the default and keeps it when the key is absent.
void read_bound_keys(ConfigReader& reader, std::vector<std::string>& bounds, std::int64_t& block,
                     std::string& b3_grouping, std::int64_t& b3_groups);

}  // namespace tvk
