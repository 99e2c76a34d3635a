#include "core/config/config_checks.h"

#include <algorithm>
#include <charconv>

#include "core/config/config_document.h"
#include "core/error.h"

namespace tvk {

std::string format_value(std::int64_t value) {
  return std::to_string(value);
}
std::string format_value(double value) {
  return format_shortest(value);
}
std::string format_value(const std::string& value) {
  return "'" + value + "'";
}

std::string join(const std::vector<std::string>& words, std::string_view separator) {
  std::string text;
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (i > 0) text += separator;
    text += words[i];
  }
  return text;
}

// "unknown model type 'gausian' (did you mean gaussian?)", else the full list of choices.
std::string unknown_choice(std::string_view what, const std::string& value,
                           const std::vector<std::string>& choices) {
  std::string message = "unknown " + std::string(what) + " '" + value + "'";
  const std::string guess = closest_name(value, choices);
  // A hint only when it is unambiguous: 'b5' is as near to b1 as to b4.
  const std::size_t distance = edit_distance(value, guess);
  const auto equally_near = std::count_if(choices.begin(), choices.end(), [&](const auto& choice) {
    return edit_distance(value, choice) == distance;
  });
  if (!guess.empty() && equally_near == 1) return message + " (did you mean " + guess + "?)";
  return message + " (known: " + join(choices, ", ") + ")";
}

ValueCheck<std::string> one_of(std::string_view what, const std::vector<std::string>& choices) {
  return [what = std::string(what), choices](const std::string& value) -> std::string {
    if (std::find(choices.begin(), choices.end(), value) != choices.end()) return "";
    return unknown_choice(what, value, choices);
  };
}

ValueCheck<std::int64_t> at_least(std::int64_t minimum) {
  return [minimum](const std::int64_t& value) -> std::string {
    if (value >= minimum) return "";
    return "must be >= " + std::to_string(minimum) + ", got " + std::to_string(value);
  };
}

bool valid_name(const std::string& name) {
  if (name.empty() || name == "." || name == "..") return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
  });
}

ValueCheck<std::string> results_name_check() {
  return [](const std::string& name) -> std::string {
    if (!valid_name(name)) {
      return "must be a file stem of letters, digits, '_', '.' and '-', got '" + name + "'";
    }
    if (name.size() > kMaxResultsName) {
      return "must be at most " + std::to_string(kMaxResultsName) + " characters, got " +
             std::to_string(name.size());
    }
    return "";
  };
}

std::vector<std::int64_t> read_index_selection(ConfigReader& reader, std::string_view key) {
  const std::vector<std::string> items = reader.get_list_or<std::string>(key, {"all"});
  // An empty list would select nothing; `all` is said with the word, never with [].
  if (items.empty()) reader.fail(key, "must list at least one index, or be `all`");
  if (items.size() == 1 && items[0] == "all") return {};
  std::vector<std::int64_t> indices;
  for (std::size_t i = 0; i < items.size(); ++i) {
    std::int64_t value = -1;
    const std::string& text = items[i];
    const bool digits = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
    if (!digits) reader.fail_element(key, i, "expected `all` or indices >= 0, got '" + text + "'");
    // from_chars, not stoll: an index too large for 64 bits is a config error, not an exception.
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size()) {
      reader.fail_element(key, i, "index '" + text + "' is too large");
    }
    indices.push_back(value);
  }
  require_distinct(reader, key, indices);
  return indices;
}

std::string index_selection_text(const std::vector<std::int64_t>& indices) {
  if (indices.empty()) return "all";
  std::string text;
  for (std::size_t i = 0; i < indices.size(); ++i)
    text += (i ? ", " : "") + std::to_string(indices[i]);
  return "[" + text + "]";
}

std::vector<std::size_t> resolve_index_selection(const std::vector<std::int64_t>& selection,
                                                 std::size_t size, const std::string& where,
                                                 const std::string& what) {
  std::vector<std::size_t> out;
  if (selection.empty()) {
    for (std::size_t i = 0; i < size; ++i)
      out.push_back(i);
    return out;
  }
  for (std::int64_t index : selection) {
    if (index < 0 || static_cast<std::size_t>(index) >= size) {
      throw InputError(where + ": index " + std::to_string(index) + " is out of range; " + what +
                       " has " + std::to_string(size) + " (0.." + std::to_string(size - 1) + ")");
    }
    out.push_back(static_cast<std::size_t>(index));
  }
  return out;
}

}  // namespace tvk
