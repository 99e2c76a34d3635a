#pragma once
//! \file The pieces of tvk's JSON output (`tvk row --json`, `tvk rule --json`): numbers in
//! shortest round-trip form, null for a value that does not exist, quoted strings. Not through
//! nlohmann-json (which the tests read it with): its dump() writes a whole-number double as "1.0"
//! and no space after ',' and ':', so today's output would need a custom serializer (a number
//! formatter and an output adapter) larger than these two helpers.

#include <cmath>
#include <string>

#include "core/text/text.h"

namespace tvk::cli {

//! A JSON number, or null for NaN and infinities (JSON has neither).
inline std::string json_number(double value) {
  return std::isfinite(value) ? format_shortest(value) : std::string("null");
}

//! `text` as a JSON string (quotes and backslashes escaped; tvk's names have no control bytes).
inline std::string json_string(const std::string& text) {
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += c;
  }
  return quoted + "\"";
}

}  // namespace tvk::cli
