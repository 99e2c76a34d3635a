//! \file A minimal JSON reader for the CLI tests (objects, arrays, numbers, strings with the
//! escapes \" \\ \/ \n \t, true, false, null; duplicate keys are errors): enough to check
//! that tvk's JSON output parses and to read its fields. Header-only test support.

#pragma once

#include <cctype>
#include <charconv>
#include <cstddef>
#include <map>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <variant>
#include <vector>

namespace tvk::test {

struct Json {
  std::variant<std::nullptr_t, bool, double, std::string, std::vector<Json>,
               std::map<std::string, Json>>
      value;
  bool is_null() const { return std::holds_alternative<std::nullptr_t>(value); }
  bool is_number() const { return std::holds_alternative<double>(value); }
  bool is_object() const { return std::holds_alternative<std::map<std::string, Json>>(value); }
  bool is_array() const { return std::holds_alternative<std::vector<Json>>(value); }
  double number() const { return std::get<double>(value); }
  const std::string& string() const { return std::get<std::string>(value); }
  const std::vector<Json>& array() const { return std::get<std::vector<Json>>(value); }
  const std::map<std::string, Json>& object() const {
    return std::get<std::map<std::string, Json>>(value);
  }
  bool has(const std::string& key) const { return is_object() && object().count(key) > 0; }
  const Json& operator[](const std::string& key) const { return object().at(key); }
};

class JsonParser {
 public:
  explicit JsonParser(const std::string& text) : text_(text) {}
  Json parse() {
    Json value = parse_value();
    skip_space();
    if (at_ != text_.size()) fail("trailing characters");
    return value;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error("JSON: " + what + " at offset " + std::to_string(at_));
  }
  void skip_space() {
    while (at_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[at_])))
      ++at_;
  }
  bool consume(char c) {
    skip_space();
    if (at_ < text_.size() && text_[at_] == c) {
      ++at_;
      return true;
    }
    return false;
  }
  void expect(char c) {
    if (!consume(c)) fail(std::string("expected '") + c + "'");
  }
  bool literal(const std::string& word) {
    if (text_.compare(at_, word.size(), word) != 0) return false;
    at_ += word.size();
    return true;
  }
  std::string parse_string() {
    expect('"');
    std::string out;
    while (at_ < text_.size() && text_[at_] != '"') {
      char c = text_[at_++];
      if (c == '\\') {
        if (at_ >= text_.size()) fail("bad escape");
        const char e = text_[at_++];
        c = e == 'n' ? '\n' : e == 't' ? '\t' : e;
      }
      out += c;
    }
    if (at_ >= text_.size()) fail("unterminated string");
    ++at_;
    return out;
  }
  Json parse_value() {
    skip_space();
    if (at_ >= text_.size()) fail("unexpected end");
    const char c = text_[at_];
    if (c == '{') {
      ++at_;
      std::map<std::string, Json> object;
      if (!consume('}')) {
        do {
          skip_space();
          std::string key = parse_string();
          expect(':');
          if (object.count(key)) fail("duplicate key " + key);
          object[key] = parse_value();
        } while (consume(','));
        expect('}');
      }
      return Json{std::move(object)};
    }
    if (c == '[') {
      ++at_;
      std::vector<Json> array;
      if (!consume(']')) {
        do {
          array.push_back(parse_value());
        } while (consume(','));
        expect(']');
      }
      return Json{std::move(array)};
    }
    if (c == '"') return Json{parse_string()};
    if (literal("true")) return Json{true};
    if (literal("false")) return Json{false};
    if (literal("null")) return Json{nullptr};
    // A JSON number: -?digits[.digits][e[+-]digits]; from_chars accepts a superset, so check
    // the grammar's first character ourselves.
    if (!(c == '-' || std::isdigit(static_cast<unsigned char>(c)))) fail("unexpected character");
    double number = 0.0;
    const auto [ptr, ec] = std::from_chars(text_.data() + at_, text_.data() + text_.size(), number);
    if (ec != std::errc()) fail("bad number");
    at_ = static_cast<std::size_t>(ptr - text_.data());
    return Json{number};
  }

  const std::string& text_;
  std::size_t at_ = 0;
};

inline Json parse_json(const std::string& text) {
  return JsonParser(text).parse();
}

}  // namespace tvk::test
