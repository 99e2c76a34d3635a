#pragma once
//! \file Error types shared by every layer. Bad user input (config, command line, data files)
//! is an InputError: the CLI prints its message on one line and exits with code 2.

#include <stdexcept>
#include <string>

namespace tvk {

//! Bad input from the user: the message already names the file, key or dataset and the
//! line where known, e.g. "configs/x.yaml:7:3: model.sigma[1]: must be > 0, got -2".
class InputError : public std::runtime_error {
 public:
  explicit InputError(const std::string& message) : std::runtime_error(message) {}
};

//! Exit code for bad input, as promised in the README.
inline constexpr int kExitBadInput = 2;

}  // namespace tvk
