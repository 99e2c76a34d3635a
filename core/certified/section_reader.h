#pragma once
//! \file The keys of one config section as a search or a cell kind reads them (OpenMC's
//! `Filter::from_xml`). The config corner implements it over its reader (core/config/
//! config_section_reader.h), so every error names the file, line, column and key path; core code
//! sees only this interface and does no I/O.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace tvk {

//! One config section (a `searches:` element). Every read marks the key as used.
class SectionReader {
 public:
  virtual ~SectionReader() = default;

  //! Whether `key` is present.
  virtual bool has(std::string_view key) = 0;
  //! An integer >= `minimum`; `fallback` when absent.
  virtual std::int64_t integer_or(std::string_view key, std::int64_t fallback,
                                  std::int64_t minimum) = 0;
  //! One of `choices` ("unknown <what> 'x' (did you mean y?)" otherwise); `fallback` when absent.
  virtual std::string choice_or(std::string_view key, const std::string& fallback,
                                std::string_view what, const std::vector<std::string>& choices) = 0;
  //! A string that `check` accepts (it returns "" or the problem); `fallback` when absent.
  virtual std::string text_or(std::string_view key, const std::string& fallback,
                              const std::function<std::string(const std::string&)>& check) = 0;
  //! Reports `message` at the value of `key` (at the section when the key is absent).
  [[noreturn]] virtual void fail(std::string_view key, std::string_view message) = 0;
};

}  // namespace tvk
