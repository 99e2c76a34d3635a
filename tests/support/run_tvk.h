//! \file Running the built `tvk` binary from a test: the command line is shell-quoted, run in a
//! given directory, and its stdout, stderr and exit code are captured. Header-only test support;
//! needs the TVK_BINARY compile definition of the test suites.

#pragma once

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace tvk::test {

struct RunResult {
  int code = -1;
  std::string out, err;
};

//! `word` in single quotes, safe for sh.
inline std::string shell_quote(const std::string& word) {
  std::string out = "'";
  for (char c : word)
    out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

//! The whole of a file (empty if it cannot be read).
inline std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

//! Runs `tvk ARGS` in `dir` (or `working_dir` if given) with `environment` added, stdin from
//! `stdin_path` (or /dev/null); stdout and stderr go through dir/stdout.txt and dir/stderr.txt.
inline RunResult run_tvk(const std::filesystem::path& dir, const std::vector<std::string>& args,
                         const std::string& stdin_path = "",
                         const std::vector<std::pair<std::string, std::string>>& environment = {},
                         const std::filesystem::path& working_dir = {}) {
  const std::filesystem::path cwd = working_dir.empty() ? dir : working_dir;
  std::string command = "cd " + shell_quote(cwd.string()) + " && ";
  for (const auto& [name, value] : environment)
    command += name + "=" + shell_quote(value) + " ";
  command += shell_quote(TVK_BINARY);
  for (const std::string& arg : args)
    command += " " + shell_quote(arg);
  command += " < " + shell_quote(stdin_path.empty() ? "/dev/null" : stdin_path);
  command += " > " + shell_quote((dir / "stdout.txt").string());
  command += " 2> " + shell_quote((dir / "stderr.txt").string());
  const int status = std::system(command.c_str());
  RunResult result;
  result.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.out = read_text(dir / "stdout.txt");
  result.err = read_text(dir / "stderr.txt");
  return result;
}

}  // namespace tvk::test
