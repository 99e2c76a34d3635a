#include "experiments/cli/arg_parser.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <iostream>
#include <sstream>

#include "core/error.h"

namespace tvk::cli {

ArgParser::ArgParser(std::string verb, std::string usage, std::string summary)
    : verb_(std::move(verb)),
      command_("tvk " + verb_),
      usage_(std::move(usage)),
      summary_(std::move(summary)) {}

void ArgParser::add_option(const std::string& name, const std::string& metavar,
                           const std::string& help, const std::string& default_value) {
  order_.push_back(name);
  options_[name] = Option{metavar, help, default_value, false};
}

void ArgParser::add_flag(const std::string& name, const std::string& help) {
  order_.push_back(name);
  options_[name] = Option{"", help, "", true};
}

void ArgParser::set_positionals(const std::string& metavar, const std::string& help,
                                std::size_t min, std::size_t max) {
  positional_metavar_ = metavar;
  positional_help_ = help;
  positional_min_ = min;
  positional_max_ = max;
}

bool ArgParser::parse(const std::vector<std::string>& args) {
  bool options_done = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string arg = args[i];
    if (!options_done && arg.size() == 2 && arg[0] == '-' && arg[1] != '-') {
      for (const auto& [name, option] : options_) {
        if (option.letter == arg[1]) arg = "--" + name;
      }
      // An unknown letter is an error, not a positional argument ("-1" stays a number).
      if (arg[0] == '-' && arg[1] != '-' && std::isalpha(static_cast<unsigned char>(arg[1]))) {
        throw InputError(command_ + ": unknown option " + arg + " (see " + command_ + " --help)");
      }
    }
    if (!options_done && (arg == "--help" || arg == "-h")) {
      std::cout << help();
      return false;
    }
    if (!options_done && arg == "--") {
      options_done = true;
      continue;
    }
    if (!options_done && arg.size() > 2 && arg.rfind("--", 0) == 0) {
      const auto eq = arg.find('=');
      const std::string name = arg.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
      const auto it = options_.find(name);
      if (it == options_.end()) {
        throw InputError(command_ + ": unknown option --" + name + " (see " + command_ +
                         " --help)");
      }
      if (it->second.is_flag) {
        if (eq != std::string::npos) {
          throw InputError(command_ + ": --" + name + " takes no value");
        }
        values_[name] = "1";
        continue;
      }
      if (eq != std::string::npos) {
        values_[name] = arg.substr(eq + 1);
      } else if (i + 1 < args.size()) {
        values_[name] = args[++i];
      } else {
        throw InputError(command_ + ": --" + name + " needs a value (" + it->second.metavar + ")");
      }
      continue;
    }
    positionals_.push_back(arg);
  }
  if (positionals_.size() < positional_min_ || positionals_.size() > positional_max_) {
    std::string expected =
        positional_min_ == positional_max_
            ? std::to_string(positional_min_)
            : std::to_string(positional_min_) + " to " + std::to_string(positional_max_);
    throw InputError(command_ + ": expected " + expected + " " +
                     (positional_metavar_.empty() ? "argument(s)" : positional_metavar_) +
                     ", got " + std::to_string(positionals_.size()) + " (usage: " + usage_ + ")");
  }
  return true;
}

std::optional<std::string> ArgParser::value(const std::string& name) const {
  if (auto it = values_.find(name); it != values_.end()) return it->second;
  if (auto it = options_.find(name); it != options_.end() && !it->second.default_value.empty()) {
    return it->second.default_value;
  }
  return std::nullopt;
}

std::string ArgParser::value_or(const std::string& name, const std::string& fallback) const {
  return value(name).value_or(fallback);
}

bool ArgParser::flag(const std::string& name) const {
  return values_.count(name) > 0;
}

void ArgParser::add_short(char letter, const std::string& name) {
  options_.at(name).letter = letter;
}

std::string ArgParser::help() const {
  std::ostringstream out;
  out << "usage: " << usage_ << "\n\n" << summary_ << "\n";
  if (!positional_metavar_.empty()) {
    out << "\narguments:\n  " << positional_metavar_ << "\n      " << positional_help_ << "\n";
  }
  out << "\noptions:\n";
  for (const auto& name : order_) {
    const Option& option = options_.at(name);
    out << "  " << (option.letter != 0 ? std::string("-") + option.letter + ", " : "") << "--"
        << name << (option.is_flag ? "" : " " + option.metavar) << "\n      " << option.help;
    if (!option.default_value.empty()) out << " (default: " << option.default_value << ")";
    out << "\n";
  }
  out << "  -h, --help\n      show this help and exit\n";
  if (!epilog_.empty()) out << "\n" << epilog_ << "\n";
  return out.str();
}

double parse_double(const std::string& text, const std::string& what) {
  double value = 0.0;
  const char* begin = text.data();
  const char* end = begin + text.size();
  const auto [ptr, ec] = std::from_chars(begin, end, value);
  if (ec != std::errc() || ptr != end || text.empty()) {
    throw InputError(what + ": '" + text + "' is not a number");
  }
  return value;
}

long long parse_integer(const std::string& text, const std::string& what) {
  long long value = 0;
  const char* begin = text.data();
  const char* end = begin + text.size();
  const auto [ptr, ec] = std::from_chars(begin, end, value);
  if (ec != std::errc() || ptr != end || text.empty() || value < 0) {
    throw InputError(what + ": '" + text + "' is not a non-negative integer");
  }
  return value;
}

}  // namespace tvk::cli
