//! \file End-to-end tests of `tvk row`: --help, text and JSON output, one-line errors with exit
//! code 2 for bad input, standard input, and agreement with an independent numpy computation
//! (tests/cli/numpy_row_reference.py) on random and adversarial rows.

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "core/bounds/bound_registry.h"
#include "core/rows/tail_profile.h"
#include "tests/support/row_generators.h"
#include "tests/support/run_tvk.h"
#include "tests/support/strict_json.h"
#include "tests/support/temp_dir.h"

namespace {

namespace fs = std::filesystem;

using Json = nlohmann::json;
using tvk::test::parse_strict_json;

// ---------------------------------------------------------------------------------------------
// Running the built tool.

using tvk::test::read_text;
using tvk::test::RunResult;
using tvk::test::shell_quote;

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  ASSERT_TRUE(out.good()) << "cannot write " << path;
}

//! Shortest round-trip text of a row ("-inf" for masked keys), 8 logits a line.
std::string row_text(const std::vector<double>& row) {
  std::string text;
  char buffer[64];
  for (std::size_t i = 0; i < row.size(); ++i) {
    const auto [ptr, ec] = std::to_chars(buffer, buffer + sizeof buffer, row[i]);
    text.append(buffer, ptr);
    text += (i % 8 == 7 || i + 1 == row.size()) ? "\n" : " ";
  }
  return text;
}

std::size_t line_count(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

class RowCli : public ::testing::Test {
 protected:
  fs::path file(const std::string& name, const std::string& text) {
    const fs::path path = dir_ / name;
    write_text(path, text);
    return path;
  }

  //! Runs `tvk row ARGS` (in the temp dir, stdin from `stdin_path` or /dev/null).
  RunResult run(const std::vector<std::string>& args, const std::string& stdin_path = "") {
    std::vector<std::string> command{"row"};
    command.insert(command.end(), args.begin(), args.end());
    return tvk::test::run_tvk(dir_, command, stdin_path);
  }

  tvk::test::TempDir temp_ = tvk::test::TempDir::numbered("tvk_row_cli_");
  const fs::path dir_ = temp_.path();
};

const std::string kExample = std::string(TVK_SOURCE_DIR) + "/configs/examples/row_gaussian.txt";

TEST_F(RowCli, HelpExitsZeroAndMentionsEps) {
  const RunResult help = run({"--help"});
  EXPECT_EQ(help.code, 0) << help.err;
  EXPECT_NE(help.out.find("--eps"), std::string::npos) << help.out;
  EXPECT_NE(help.out.find("--json"), std::string::npos) << help.out;
  EXPECT_NE(help.out.find("--block"), std::string::npos) << help.out;
  EXPECT_TRUE(help.err.empty()) << help.err;
}

TEST_F(RowCli, TextOutputForExample) {
  const RunResult result = run({kExample});
  ASSERT_EQ(result.code, 0) << result.err;
  EXPECT_TRUE(result.err.empty()) << result.err;
  EXPECT_NE(result.out.find("row_gaussian.txt: n = 512 keys"), std::string::npos) << result.out;
  // The default budgets 0.01, 0.05, 0.1, each with a k_eps computed here independently.
  std::ifstream in(kExample);
  std::vector<double> row;
  std::string token;
  while (in >> token) {
    if (token[0] == '#') {
      std::getline(in, token);
      continue;
    }
    row.push_back(std::stod(token));
  }
  ASSERT_EQ(row.size(), 512u);
  const tvk::TailProfile profile(row);
  for (const char* eps : {"0.01", "0.05", "0.1"}) {
    const std::string line = "eps = " + std::string(eps) +
                             ": k_eps = " + std::to_string(profile.k_eps(std::stod(eps))) + " ";
    EXPECT_NE(result.out.find(line), std::string::npos) << line << "\n" << result.out;
  }
  for (const std::string& name : tvk::bound_names()) {
    EXPECT_NE(result.out.find("\n  " + name + " "), std::string::npos) << name;
  }
  EXPECT_NE(result.out.find("identities at k_eps"), std::string::npos);
  EXPECT_NE(result.out.find("Pinsker"), std::string::npos);
}

TEST_F(RowCli, JsonIsParseable) {
  const RunResult result = run({"--json", "--eps", "0.01,0.05,0.3", "--block", "8", kExample});
  ASSERT_EQ(result.code, 0) << result.err;
  EXPECT_EQ(line_count(result.out), 1u);
  Json json;
  ASSERT_NO_THROW(json = parse_strict_json(result.out)) << result.out;
  ASSERT_TRUE(json.is_object());
  ASSERT_TRUE(json.contains("n") && json.at("n").is_number());
  EXPECT_EQ(json.at("n").get<double>(), 512.0);
  EXPECT_EQ(json.at("masked").get<double>(), 0.0);
  EXPECT_EQ(json.at("block").get<double>(), 8.0);
  ASSERT_TRUE(json.contains("results") && json.at("results").is_array());
  const auto& results = json.at("results");
  ASSERT_EQ(results.size(), 3u);
  const double eps[] = {0.01, 0.05, 0.3};
  for (std::size_t i = 0; i < results.size(); ++i) {
    const Json& r = results[i];
    for (const char* key : {"eps", "k_eps", "tau"}) {
      ASSERT_TRUE(r.contains(key) && r.at(key).is_number()) << key;
    }
    EXPECT_EQ(r.at("eps").get<double>(), eps[i]);
    const double k_eps = r.at("k_eps").get<double>();
    EXPECT_EQ(k_eps, std::floor(k_eps));
    EXPECT_GE(k_eps, 1.0);
    EXPECT_LE(k_eps, 512.0);
    EXPECT_GE(r.at("tau").get<double>(), 0.0);
    EXPECT_LE(r.at("tau").get<double>(), eps[i]);
    ASSERT_TRUE(r.contains("bounds") && r.at("bounds").is_object());
    for (const std::string& name : tvk::bound_names()) {
      ASSERT_TRUE(r.at("bounds").contains(name)) << name;
      const Json& b = r.at("bounds").at(name);
      for (const char* key : {"k", "price", "bound", "tau"}) {
        ASSERT_TRUE(b.contains(key) && b.at(key).is_number()) << name << "." << key;
      }
      EXPECT_GE(b.at("k").get<double>(), k_eps) << name;
      EXPECT_DOUBLE_EQ(b.at("price").get<double>(), b.at("k").get<double>() / k_eps) << name;
      EXPECT_LE(b.at("bound").get<double>(), eps[i]) << name;
      EXPECT_LE(b.at("tau").get<double>(), b.at("bound").get<double>() * (1 + 1e-12) + 1e-300)
          << name;
    }
    EXPECT_GE(r.at("bounds").at("b1").at("k").get<double>(),
              r.at("bounds").at("b2").at("k").get<double>());
    EXPECT_GE(r.at("bounds").at("b4").at("k").get<double>(), k_eps);
    ASSERT_TRUE(r.contains("identities") && r.at("identities").is_object());
    EXPECT_TRUE(r.at("identities").at("kl_full_to_truncated_infinite").is_boolean());
  }
}

struct BadInput {
  std::string name;     // file name ("" = no file written)
  std::string content;  // file content
  std::vector<std::string> args;
  std::vector<std::string> expected;  // substrings of the one-line message
};

TEST_F(RowCli, BadInputExitsTwoWithOneLine) {
  const std::vector<BadInput> cases = {
      {"empty.txt", "", {}, {"empty.txt", "empty"}},
      {"comment.txt", "# nothing but a comment\n\n", {}, {"comment.txt", "empty"}},
      {"abc.txt", "1 2 abc\n", {}, {"abc.txt:1:5", "token 3", "'abc'"}},
      {"nan.txt", "nan\n", {}, {"nan.txt:1:1", "token 1", "NaN"}},
      {"nan2.txt", "0, NaN", {}, {"nan2.txt:1:4", "token 2", "NaN"}},
      {"plusinf.txt", "+inf\n", {}, {"plusinf.txt:1:1", "token 1", "+inf"}},
      {"inf.txt", "1 inf\n", {}, {"inf.txt:1:3", "token 2", "+inf"}},
      {"infinity.txt", "1,2,infinity\n", {}, {"infinity.txt:1:5", "token 3"}},
      {"line2.txt", "0.5, 1\n  2 x\n", {}, {"line2.txt:2:5", "token 4", "'x'"}},
      {"plusminus.txt", "+-1 2\n", {}, {"plusminus.txt:1:1", "token 1", "'+-1'"}},
      {"masked.txt", "-inf -inf\n", {}, {"masked.txt", "masked"}},
      {"eps_big.txt", "1 2 3\n", {"--eps", "1.5"}, {"--eps", "1.5"}},
      {"eps_zero.txt", "1 2 3\n", {"--eps", "0"}, {"--eps", "0"}},
      {"eps_one.txt", "1 2 3\n", {"--eps", "0.1,1"}, {"--eps", "1"}},
      {"eps_negative.txt", "1 2 3\n", {"--eps", "-0.1"}, {"--eps"}},
      {"eps_text.txt", "1 2 3\n", {"--eps", "abc"}, {"--eps", "abc"}},
      {"block.txt", "1 2 3\n", {"--block", "0"}, {"--block"}},
      {"", "", {"does_not_exist.txt"}, {"does_not_exist.txt"}},
      {"", "", {"subdir"}, {"subdir"}},  // a directory: not readable as a row
  };
  fs::create_directory(dir_ / "subdir");
  for (const BadInput& bad : cases) {
    SCOPED_TRACE(bad.name.empty() ? bad.args[0] : bad.name);
    std::vector<std::string> args = bad.args;
    if (!bad.name.empty()) {
      file(bad.name, bad.content);
      args.push_back(bad.name);
    }
    const RunResult result = run(args);
    EXPECT_EQ(result.code, 2) << result.out << result.err;
    EXPECT_TRUE(result.out.empty()) << result.out;
    EXPECT_EQ(line_count(result.err), 1u) << result.err;
    EXPECT_TRUE(!result.err.empty() && result.err.back() == '\n') << result.err;
    for (const std::string& part : bad.expected)
      EXPECT_NE(result.err.find(part), std::string::npos) << "'" << part << "' in " << result.err;
  }
}

TEST_F(RowCli, StandardInput) {
  const fs::path row = file("row.txt", "3 2.5 1 0 -inf -1\n");
  const RunResult from_file = run({"--json", "--eps", "0.05", row.string()});
  ASSERT_EQ(from_file.code, 0) << from_file.err;
  const RunResult dash = run({"--json", "--eps", "0.05", "-"}, row.string());
  ASSERT_EQ(dash.code, 0) << dash.err;
  EXPECT_EQ(dash.out, from_file.out);
  const RunResult implicit = run({"--json", "--eps", "0.05"}, row.string());
  ASSERT_EQ(implicit.code, 0) << implicit.err;
  EXPECT_EQ(implicit.out, from_file.out);
  const Json json = parse_strict_json(dash.out);
  EXPECT_EQ(json.at("n").get<double>(), 5.0);
  EXPECT_EQ(json.at("masked").get<double>(), 1.0);
  const RunResult text = run({"-"}, row.string());
  ASSERT_EQ(text.code, 0) << text.err;
  EXPECT_NE(text.out.find("<stdin>: n = 5 keys (1 masked keys removed)"), std::string::npos)
      << text.out;
  // Errors on standard input name it.
  const fs::path bad = file("bad.txt", "1 2 abc\n");
  const RunResult error = run({"-"}, bad.string());
  EXPECT_EQ(error.code, 2);
  EXPECT_NE(error.err.find("<stdin>:1:5: token 3 'abc'"), std::string::npos) << error.err;
}

bool python_has_numpy() {
  return std::system("/usr/bin/python3 -c 'import numpy' > /dev/null 2>&1") == 0;
}

//! The "Done when": tvk row --json agrees with an independent numpy computation on tau
//! (1e-12 relative) and exactly on k_eps and every bound's certified k.
TEST_F(RowCli, AgreesWithNumpyReference) {
  if (!python_has_numpy()) GTEST_SKIP() << "/usr/bin/python3 without numpy";
  std::vector<tvk::test::NamedRow> rows = tvk::test::adversarial_rows();
  for (auto& row : tvk::test::random_rows(90, 0xc11, 300))
    rows.push_back(std::move(row));
  const std::string eps = "1e-9,0.001,0.01,0.05,0.1,0.2,0.5,0.9";
  const std::size_t blocks[] = {16, 1, 3, 7, 64};
  const std::size_t groups[] = {8, 1, 3, 20};
  std::string manifest;
  auto add = [&](const std::string& row_path, std::size_t index) {
    const std::string block = std::to_string(blocks[index % 5]);
    const std::string group = std::to_string(groups[index % 4]);
    const fs::path json = dir_ / ("row" + std::to_string(index) + ".json");
    const RunResult result =
        run({"--json", "--eps", eps, "--block", block, "--b3-groups", group, row_path});
    ASSERT_EQ(result.code, 0) << row_path << ": " << result.err;
    write_text(json, result.out);
    manifest += row_path + " " + json.string() + " " + eps + " " + block + " " + group + "\n";
  };
  for (std::size_t i = 0; i < rows.size(); ++i) {
    SCOPED_TRACE(rows[i].name);
    const fs::path path = file("row" + std::to_string(i) + ".txt",
                               "# " + rows[i].name + "\n" + row_text(rows[i].logits));
    add(path.string(), i);
    if (HasFatalFailure()) return;
  }
  add(kExample, rows.size());
  write_text(dir_ / "manifest.txt", manifest);
  const std::string command =
      "/usr/bin/python3 " +
      shell_quote(std::string(TVK_SOURCE_DIR) + "/tests/cli/numpy_row_reference.py") + " " +
      shell_quote((dir_ / "manifest.txt").string()) + " > " +
      shell_quote((dir_ / "numpy.txt").string()) + " 2>&1";
  const int status = std::system(command.c_str());
  const std::string report = read_text(dir_ / "numpy.txt");
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << report;
  EXPECT_NE(report.find("ok: " + std::to_string(rows.size() + 1) + " rows"), std::string::npos)
      << report;
}

}  // namespace
