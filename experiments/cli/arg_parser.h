#pragma once
//! \file A small declarative command-line parser shared by every verb: `--name value`,
//! `--name=value`, boolean flags, positionals, and a generated --help text.

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tvk::cli {

//! Parses one verb's arguments. Errors throw tvk::InputError naming the option.
class ArgParser {
 public:
  //! `usage` is the synopsis line, `summary` one paragraph shown by --help.
  ArgParser(std::string verb, std::string usage, std::string summary);

  //! An option taking a value; `default_value` empty means "not set unless given".
  void add_option(const std::string& name, const std::string& metavar, const std::string& help,
                  const std::string& default_value = "");
  //! A boolean flag.
  void add_flag(const std::string& name, const std::string& help);
  //! A one-letter spelling of an option or flag added before (`-m` for `--multirun`).
  void add_short(char letter, const std::string& name);
  //! Positionals are collected in order; `help` describes them in --help.
  void set_positionals(const std::string& metavar, const std::string& help, std::size_t min,
                       std::size_t max);
  //! The command as messages name it: "tvk VERB" unless set (a separate program's name).
  void set_command(std::string command) { command_ = std::move(command); }
  //! Extra text at the end of --help (examples).
  void set_epilog(const std::string& text) { epilog_ = text; }

  //! Parses; returns false when --help was given (the help text is then printed to stdout).
  bool parse(const std::vector<std::string>& args);

  std::optional<std::string> value(const std::string& name) const;
  std::string value_or(const std::string& name, const std::string& fallback) const;
  bool flag(const std::string& name) const;
  const std::vector<std::string>& positionals() const { return positionals_; }
  std::string help() const;

 private:
  struct Option {
    std::string metavar, help, default_value;
    bool is_flag = false;
    char letter = 0;  // short form, 0 if none
  };
  std::string verb_, command_, usage_, summary_, epilog_;
  std::vector<std::string> order_;
  std::map<std::string, Option> options_;
  std::map<std::string, std::string> values_;
  std::string positional_metavar_, positional_help_;
  std::size_t positional_min_ = 0, positional_max_ = 0;
  std::vector<std::string> positionals_;
};

//! Parses a double for option `what`; throws InputError "what: 'text' is not a number".
double parse_double(const std::string& text, const std::string& what);
//! Parses a non-negative integer for option `what`.
long long parse_integer(const std::string& text, const std::string& what);

}  // namespace tvk::cli
