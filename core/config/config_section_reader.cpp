#include "core/config/config_section_reader.h"

#include "core/config/config_checks.h"

namespace tvk {

bool ConfigSectionReader::has(std::string_view key) {
  return reader_.has(key);
}

std::int64_t ConfigSectionReader::integer_or(std::string_view key, std::int64_t fallback,
                                             std::int64_t minimum) {
  return reader_.get_or<std::int64_t>(key, fallback, at_least(minimum));
}

std::string ConfigSectionReader::choice_or(std::string_view key, const std::string& fallback,
                                           std::string_view what,
                                           const std::vector<std::string>& choices) {
  return reader_.get_or<std::string>(key, fallback, one_of(what, choices));
}

std::string ConfigSectionReader::text_or(
    std::string_view key, const std::string& fallback,
    const std::function<std::string(const std::string&)>& check) {
  return reader_.get_or<std::string>(key, fallback, check);
}

void ConfigSectionReader::fail(std::string_view key, std::string_view message) {
  reader_.fail(key, message);
}

}  // namespace tvk
