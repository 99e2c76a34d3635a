#pragma once
//! \file Value checks shared by the config schemas of every experiment kind: choices with a
//! did-you-mean, lower bounds, distinct and non-empty lists, file-stem names.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "core/config/config_reader.h"
#include "core/text/text.h"

namespace tvk {

//! Words joined with a separator.
std::string join(const std::vector<std::string>& words, std::string_view separator);
//! "unknown model type 'gausian' (did you mean gaussian?)", else the full list of choices.
std::string unknown_choice(std::string_view what, const std::string& value,
                           const std::vector<std::string>& choices);
//! The value must be one of `choices`.
ValueCheck<std::string> one_of(std::string_view what, const std::vector<std::string>& choices);
//! The value must be >= minimum.
ValueCheck<std::int64_t> at_least(std::int64_t minimum);
//! A config file stem: letters, digits, '_', '.', '-', not "." or "..".
bool valid_name(const std::string& name);
//! The check of every kind's `name:` (the results files' stem): valid_name and at most
//! kMaxResultsName characters, since the files add suffixes (".shard-i-of-N.tvkpart") and the
//! system allows 255.
inline constexpr std::size_t kMaxResultsName = 200;
ValueCheck<std::string> results_name_check();

//! `all` (or absent) → empty; otherwise a list of distinct indices >= 0 (layers, heads, ...).
std::vector<std::int64_t> read_index_selection(ConfigReader& reader, std::string_view key);
//! "all" or "[0, 3]".
std::string index_selection_text(const std::vector<std::int64_t>& indices);
//! The indices a selection picks out of `size` (empty selection = all). An index out of range
//! throws InputError "<where>: index 7 is out of range; <what> has 6 (0..5)".
std::vector<std::size_t> resolve_index_selection(const std::vector<std::int64_t>& selection,
                                                 std::size_t size, const std::string& where,
                                                 const std::string& what);

std::string format_value(std::int64_t value);
std::string format_value(double value);
std::string format_value(const std::string& value);

//! A grid axis listing a value twice would produce two identical points.
template <class T>
void require_distinct(const ConfigReader& reader, std::string_view key,
                      const std::vector<T>& values) {
  // O(n log n): positions sorted by (value, position); the reported pair is the one a pairwise
  // scan finds first (the smallest later position j, with the first earlier i of its value).
  // NaN equals nothing (and is refused where it is read), so it takes no part.
  std::vector<std::size_t> order;
  order.reserve(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    if constexpr (std::is_floating_point_v<T>) {
      if (values[i] != values[i]) continue;
    }
    order.push_back(i);
  }
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return values[a] < values[b]; });
  std::size_t best_i = 0, best_j = values.size();
  for (std::size_t g = 0; g + 1 < order.size(); ++g) {
    // order[g] starts a run of equal values when its predecessor differs.
    if (g > 0 && !(values[order[g - 1]] < values[order[g]])) continue;
    if (!(values[order[g]] < values[order[g + 1]]) && order[g + 1] < best_j) {
      best_i = order[g];
      best_j = order[g + 1];
    }
  }
  if (best_j < values.size()) {
    reader.fail_element(key, best_j,
                        "duplicate value " + format_value(values[best_j]) + " (also at " +
                            reader.key_path(key) + "[" + std::to_string(best_i) + "])");
  }
}

//! The list must not be empty.
template <class T>
void require_nonempty(const ConfigReader& reader, std::string_view key,
                      const std::vector<T>& values) {
  if (values.empty()) reader.fail(key, "must list at least one value");
}

}  // namespace tvk
