//! \file tvk's JSON output as the CLI tests read it: nlohmann-json (Debian's nlohmann-json3-dev)
//! with one check the format itself does not make, that no object repeats a key (tvk must never
//! write one). Header-only test support.

#pragma once

#include <nlohmann/json.hpp>

#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace tvk::test {

//! Parses `text`; throws nlohmann::json::parse_error for invalid JSON and std::runtime_error for
//! a key given twice in one object.
inline nlohmann::json parse_strict_json(const std::string& text) {
  std::vector<std::set<std::string>> keys;  // the keys seen in each open object
  auto check = [&keys](int /*depth*/, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    using Event = nlohmann::json::parse_event_t;
    if (event == Event::object_start) keys.emplace_back();
    if (event == Event::object_end) keys.pop_back();
    if (event == Event::key && !keys.back().insert(parsed.get<std::string>()).second) {
      throw std::runtime_error("duplicate key " + parsed.get<std::string>());
    }
    return true;
  };
  return nlohmann::json::parse(text, check);
}

}  // namespace tvk::test
