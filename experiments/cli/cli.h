#pragma once
//! \file The tvk command-line tool: `tvk VERB [options]`, one file per verb.

#include <string>
#include <vector>

namespace tvk::cli {

//! Runs the tool; returns the process exit code (0 ok, 2 bad input, 1 internal error).
int main(int argc, char** argv);

//! One verb of the tool.
struct Verb {
  const char* name;
  const char* summary;
  int (*run)(const std::vector<std::string>& args);
};

//! Every verb, in the order `tvk --help` lists them.
const std::vector<Verb>& verbs();

// The verbs (each in its own *_command.cpp). Each returns an exit code.
int run_row_command(const std::vector<std::string>& args);
int run_run_command(const std::vector<std::string>& args);
int run_validate_command(const std::vector<std::string>& args);
int run_models_command(const std::vector<std::string>& args);
int run_bounds_command(const std::vector<std::string>& args);
int run_searches_command(const std::vector<std::string>& args);
int run_rule_command(const std::vector<std::string>& args);
int run_merge_command(const std::vector<std::string>& args);
int run_store_command(const std::vector<std::string>& args);

}  // namespace tvk::cli
