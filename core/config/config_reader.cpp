#include "core/config/config_reader.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <utility>

#include "core/text/text.h"

namespace tvk {

namespace {

std::string lower(std::string_view text) {
  std::string result(text);
  for (auto& c : result)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return result;
}

// from_chars does not take a leading '+'; YAML does.
std::string_view strip_plus(std::string_view text) {
  if (text.size() > 1 && text.front() == '+' && text[1] != '-' && text[1] != '+') {
    text.remove_prefix(1);
  }
  return text;
}

template <class Integer>
bool parse_exact(std::string_view text, Integer& out) {
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return !text.empty() && ec == std::errc() && ptr == end;
}

bool parse_double(std::string_view text, double& out) {
  text = strip_plus(text);
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, out, std::chars_format::general);
  return !text.empty() && ec == std::errc() && ptr == end;
}

bool is_non_finite_spelling(std::string_view text) {
  const std::string t = lower(strip_plus(text));
  return t == ".inf" || t == "-.inf" || t == ".nan" || t == "inf" || t == "-inf" || t == "nan" ||
         t == "infinity" || t == "-infinity";
}

// Integers may be written as exactly integral numbers (rows: 1e6).
template <class Integer>
bool parse_integer(std::string_view text, Integer& out) {
  if (parse_exact(strip_plus(text), out)) return true;
  double value = 0.0;
  if (!parse_double(text, value) || !std::isfinite(value) || value != std::floor(value)) {
    return false;
  }
  // Both limits are powers of two (or one below), so the double comparisons are exact.
  const double low = static_cast<double>(std::numeric_limits<Integer>::min());
  const double high = std::ldexp(1.0, std::numeric_limits<Integer>::digits);
  if (value < low || value >= high) return false;
  out = static_cast<Integer>(value);
  return true;
}

[[noreturn]] void expected(const ConfigNode& node, const std::string& path, std::string_view what) {
  throw_config_error(node.location(), path,
                     "expected " + std::string(what) + ", got " + node.describe());
}

// Scalars that may be numbers or booleans: plain ones only.
bool plain_scalar(const ConfigNode& node) {
  return node.is_scalar() && !node.quoted();
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Scalar conversion

void read_value(const ConfigNode& node, const std::string& path, std::int64_t& out) {
  if (!plain_scalar(node) || !parse_integer(node.text(), out)) {
    expected(node, path, "an integer");
  }
}

void read_value(const ConfigNode& node, const std::string& path, std::uint64_t& out) {
  if (!plain_scalar(node) || !parse_integer(node.text(), out)) {
    expected(node, path, "a non-negative integer");
  }
}

void read_value(const ConfigNode& node, const std::string& path, double& out) {
  if (plain_scalar(node) && is_non_finite_spelling(node.text())) {
    expected(node, path, "a finite number");
  }
  if (!plain_scalar(node) || !parse_double(node.text(), out) || !std::isfinite(out)) {
    expected(node, path, "a number");
  }
}

void read_value(const ConfigNode& node, const std::string& path, bool& out) {
  if (plain_scalar(node)) {
    const std::string text = lower(node.text());
    if (text == "true" || text == "yes" || text == "on") {
      out = true;
      return;
    }
    if (text == "false" || text == "no" || text == "off") {
      out = false;
      return;
    }
  }
  expected(node, path, "true or false");
}

void read_value(const ConfigNode& node, const std::string& path, std::string& out) {
  if (!node.is_scalar()) expected(node, path, "a string");
  out = node.text();
}

// ---------------------------------------------------------------------------------------------
// ConfigReader

ConfigReader::ConfigReader(const ConfigDocument& document)
    : ConfigReader(document.root(), "", document.root().location()) {}

ConfigReader::ConfigReader(const ConfigNode& map, std::string path, SourceLocation anchor)
    : map_(&map), path_(std::move(path)), anchor_(std::move(anchor)) {
  if (!map.is_map()) {
    throw_config_error(map.is_null() ? anchor_ : map.location(), path_,
                       "expected a map of keys, got " + map.describe());
  }
  consumed_.assign(map.entries().size(), false);
}

std::string ConfigReader::key_path(std::string_view key) const {
  if (path_.empty()) return std::string(key);
  return path_ + "." + std::string(key);
}

bool ConfigReader::has(std::string_view key) {
  if (std::find(known_.begin(), known_.end(), key) == known_.end()) known_.emplace_back(key);
  return map_->find(key) != nullptr;
}

const ConfigEntry* ConfigReader::lookup(std::string_view key) {
  if (std::find(known_.begin(), known_.end(), key) == known_.end()) known_.emplace_back(key);
  const auto& entries = map_->entries();
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].key == key) {
      consumed_[i] = true;
      return &entries[i];
    }
  }
  return nullptr;
}

const ConfigEntry& ConfigReader::require(std::string_view key) {
  if (const ConfigEntry* entry = lookup(key)) return *entry;
  // A misspelt required key is better reported where the misspelling is than as missing.
  const auto& entries = map_->entries();
  std::vector<std::string> strangers;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const bool is_known = std::find(known_.begin(), known_.end(), entries[i].key) != known_.end();
    if (!consumed_[i] && !is_known) strangers.push_back(entries[i].key);
  }
  const std::string near = closest_name(key, strangers);
  if (!near.empty()) {
    const ConfigEntry* entry = map_->find(near);
    throw_config_error(entry->key_location, key_path(near),
                       "unknown key (did you mean " + key_path(key) + "?)");
  }
  throw_config_error(anchor_, key_path(key), "missing required key");
}

ConfigReader ConfigReader::child(std::string_view key) {
  const ConfigEntry& entry = require(key);
  return ConfigReader(entry.value, key_path(key), entry.key_location);
}

std::vector<ConfigReader> ConfigReader::children(std::string_view key) {
  const ConfigEntry& entry = require(key);
  const std::string path = key_path(key);
  if (!entry.value.is_sequence()) expected(entry.value, path, "a list of maps");
  std::vector<ConfigReader> readers;
  const auto& items = entry.value.items();
  for (std::size_t i = 0; i < items.size(); ++i) {
    readers.emplace_back(items[i], path + "[" + std::to_string(i) + "]", items[i].location());
  }
  return readers;
}

void ConfigReader::fail(std::string_view key, std::string_view message) const {
  const ConfigEntry* entry = map_->find(key);
  throw_config_error(entry != nullptr ? entry->value.location() : anchor_, key_path(key), message);
}

void ConfigReader::fail_element(std::string_view key, std::size_t index,
                                std::string_view message) const {
  const ConfigEntry* entry = map_->find(key);
  if (entry != nullptr && entry->value.is_sequence() && index < entry->value.items().size()) {
    throw_config_error(entry->value.items()[index].location(),
                       key_path(key) + "[" + std::to_string(index) + "]", message);
  }
  fail(key, message);
}

void ConfigReader::finish() const {
  const auto& entries = map_->entries();
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (!consumed_[i]) fail_unknown(entries[i]);
  }
}

void ConfigReader::fail_unknown(const ConfigEntry& entry) const {
  const std::string guess = closest_name(entry.key, known_);
  std::string message = "unknown key";
  if (!guess.empty()) {
    message += " (did you mean " + key_path(guess) + "?)";
  } else if (!known_.empty()) {
    message += " (valid here: ";
    for (std::size_t i = 0; i < known_.size(); ++i)
      message += (i ? ", " : "") + known_[i];
    message += ")";
  }
  throw_config_error(entry.key_location, key_path(entry.key), message);
}

// ---------------------------------------------------------------------------------------------

std::string experiment_kind(const ConfigDocument& document) {
  const ConfigEntry* entry = document.root().find("kind");
  if (entry == nullptr) return "synthetic";
  std::string kind;
  read_value(entry->value, "kind", kind);
  return kind;
}

}  // namespace tvk
