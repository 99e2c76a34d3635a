#pragma once
//! \file A typed reader over one map of a config: get<T>(key) with required or defaulted keys,
//! lists where a scalar counts as a one-element list, per-value checks, and finish() to reject
//! the keys nobody asked for (with a did-you-mean). Every error reads
//! "<file>:<line>:<col>: <full.key.path[index]>: <message>" and is thrown as InputError at once,
//! so the user sees the first problem on one line.
//!
//! Supported T: those with a read_value() overload (std::int64_t, std::uint64_t, double,
//! std::string, bool). Quoted scalars are strings only: `rows: "100"` is not an integer.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config/config_document.h"

namespace tvk {

//! Converts one scalar node to a value, or throws InputError at the node, e.g.
//! "configs/x.yaml:3:7: rows: expected an integer, got 'abc'". Integers accept an exactly
//! integral number such as 1e6; doubles must be finite; bools are true/false/yes/no/on/off
//! (any case); strings take any scalar, quoted or not.
void read_value(const ConfigNode& node, const std::string& path, std::int64_t& out);
void read_value(const ConfigNode& node, const std::string& path, std::uint64_t& out);
void read_value(const ConfigNode& node, const std::string& path, double& out);
void read_value(const ConfigNode& node, const std::string& path, bool& out);
void read_value(const ConfigNode& node, const std::string& path, std::string& out);

//! A check on one value: returns "" when valid, else the message (e.g. "must be >= 1, got 0"),
//! which is reported at that value's location.
template <class T>
using ValueCheck = std::function<std::string(const T&)>;

//! Reads one map node of a config. The node (and the document owning it) must outlive the reader.
//! Every key the schema asks about, present or not, becomes a "known" key at this level: it is
//! the did-you-mean vocabulary for unknown keys.
class ConfigReader {
 public:
  //! Reads the top-level map of `document`.
  explicit ConfigReader(const ConfigDocument& document);
  //! Reads `map` whose key path is `path` ("" at the top level). `anchor` is where errors about
  //! missing keys point (yaml-cpp has no mark for a missing key): the key that introduced the
  //! map, or the map itself. Throws when `map` is not a map.
  ConfigReader(const ConfigNode& map, std::string path, SourceLocation anchor);

  //! The key path of this map ("" at the top level).
  const std::string& path() const { return path_; }
  //! The full path of `key` at this level, e.g. "model.sigma".
  std::string key_path(std::string_view key) const;

  //! Whether `key` is present (it becomes known, not consumed).
  bool has(std::string_view key);

  //! A required value; a missing key is an error at this map's anchor.
  template <class T>
  T get(std::string_view key, const ValueCheck<T>& check = {});
  //! An optional value; `default_value` (not checked) when the key is absent.
  template <class T>
  T get_or(std::string_view key, const T& default_value, const ValueCheck<T>& check = {});

  //! A required list; a scalar counts as a one-element list. `check` runs on every element and
  //! reports at that element ("model.sigma[1]: ..."; no index when a scalar was given).
  template <class T>
  std::vector<T> get_list(std::string_view key, const ValueCheck<T>& check = {});
  //! An optional list; `default_value` (not checked) when the key is absent.
  template <class T>
  std::vector<T> get_list_or(std::string_view key, const std::vector<T>& default_value,
                             const ValueCheck<T>& check = {});

  //! A required nested map, as its own reader (call finish() on it too).
  ConfigReader child(std::string_view key);
  //! A required list of maps (`models: [{...}, {...}]`), one reader per element.
  std::vector<ConfigReader> children(std::string_view key);

  //! Reports `message` at the value of `key` (or at this map's anchor when the key is absent).
  [[noreturn]] void fail(std::string_view key, std::string_view message) const;
  //! Reports `message` at element `index` of the list under `key` ("eps[1]: ..."); for a scalar
  //! given where a list was allowed, index 0 is the scalar itself ("eps: ...").
  [[noreturn]] void fail_element(std::string_view key, std::size_t index,
                                 std::string_view message) const;

  //! Throws for the first key (in file order) that was never read:
  //! "<file>:<line>:<col>: model.sigmaa: unknown key (did you mean model.sigma?)".
  void finish() const;

 private:
  template <class T>
  static T read_checked(const ConfigNode& node, const std::string& path,
                        const ValueCheck<T>& check);
  template <class T>
  std::vector<T> read_list(const ConfigEntry& entry, const ValueCheck<T>& check) const;

  const ConfigEntry* lookup(std::string_view key);
  const ConfigEntry& require(std::string_view key);
  [[noreturn]] void fail_unknown(const ConfigEntry& entry) const;

  const ConfigNode* map_;
  std::string path_;
  SourceLocation anchor_;
  std::vector<bool> consumed_;      // by entry index
  std::vector<std::string> known_;  // keys the schema asked about at this level
};

//! The experiment kind of a config (`kind`, default "synthetic"), read before the schema is
//! chosen. Throws when `kind` is present but not a plain string.
std::string experiment_kind(const ConfigDocument& document);

// ---------------------------------------------------------------------------------------------
// Template definitions

template <class T>
T ConfigReader::get(std::string_view key, const ValueCheck<T>& check) {
  const ConfigEntry& entry = require(key);
  return read_checked<T>(entry.value, key_path(key), check);
}

template <class T>
T ConfigReader::get_or(std::string_view key, const T& default_value, const ValueCheck<T>& check) {
  const ConfigEntry* entry = lookup(key);
  if (entry == nullptr) return default_value;
  return read_checked<T>(entry->value, key_path(key), check);
}

template <class T>
std::vector<T> ConfigReader::get_list(std::string_view key, const ValueCheck<T>& check) {
  return read_list<T>(require(key), check);
}

template <class T>
std::vector<T> ConfigReader::get_list_or(std::string_view key, const std::vector<T>& default_value,
                                         const ValueCheck<T>& check) {
  const ConfigEntry* entry = lookup(key);
  if (entry == nullptr) return default_value;
  return read_list<T>(*entry, check);
}

template <class T>
T ConfigReader::read_checked(const ConfigNode& node, const std::string& path,
                             const ValueCheck<T>& check) {
  T value{};
  read_value(node, path, value);
  if (check) {
    const std::string message = check(value);
    if (!message.empty()) throw_config_error(node.location(), path, message);
  }
  return value;
}

template <class T>
std::vector<T> ConfigReader::read_list(const ConfigEntry& entry, const ValueCheck<T>& check) const {
  const std::string path = key_path(entry.key);
  std::vector<T> values;
  if (!entry.value.is_sequence()) {
    values.push_back(read_checked<T>(entry.value, path, check));
    return values;
  }
  const auto& items = entry.value.items();
  values.reserve(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    values.push_back(read_checked<T>(items[i], path + "[" + std::to_string(i) + "]", check));
  }
  return values;
}

}  // namespace tvk
