#pragma once
//! \file SectionReader over a ConfigReader: how searches and cell kinds (core/certified/) read
//! their keys with the config's file:line:column messages.

#include "core/certified/section_reader.h"
#include "core/config/config_reader.h"

namespace tvk {

//! Reads the keys of the map `reader` stands for; the reader keeps track of the keys used, so
//! its finish() still reports the unknown ones.
class ConfigSectionReader final : public SectionReader {
 public:
  explicit ConfigSectionReader(ConfigReader& reader) : reader_(reader) {}

  bool has(std::string_view key) override;
  std::int64_t integer_or(std::string_view key, std::int64_t fallback,
                          std::int64_t minimum) override;
  std::string choice_or(std::string_view key, const std::string& fallback, std::string_view what,
                        const std::vector<std::string>& choices) override;
  std::string text_or(std::string_view key, const std::string& fallback,
                      const std::function<std::string(const std::string&)>& check) override;
  [[noreturn]] void fail(std::string_view key, std::string_view message) override;

 private:
  ConfigReader& reader_;
};

}  // namespace tvk
