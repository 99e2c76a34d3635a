//! \file `tvk searches` lists exactly the registered search types, each with its doc and every key
//! with the default its reader takes; configs/README.md's search table names every registered type
//! and no other. A new type in search_registry.cpp is covered with no new test code.

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/certified/search_registry.h"
#include "tests/support/run_tvk.h"
#include "tests/support/temp_dir.h"

namespace {

namespace fs = std::filesystem;

const fs::path kSource = TVK_SOURCE_DIR;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  return lines;
}

TEST(SearchesCli, ListsEveryRegisteredTypeWithItsDocKeysAndDefaults) {
  tvk::test::TempDir temp = tvk::test::TempDir::numbered("tvk_searches_cli_");
  const tvk::test::RunResult result = tvk::test::run_tvk(temp.path(), {"searches"});
  ASSERT_EQ(result.code, 0) << result.err;
  EXPECT_TRUE(result.err.empty()) << result.err;

  // The unindented lines are the type names, in registry order, and nothing else.
  std::vector<std::string> listed;
  for (const std::string& line : lines_of(result.out)) {
    if (!line.empty() && line[0] != ' ') listed.push_back(line);
  }
  EXPECT_EQ(listed, tvk::search_type_names()) << result.out;

  for (const tvk::SearchEntry& entry : tvk::search_entries()) {
    const std::size_t at = result.out.find(entry.name + "\n    " + entry.doc + "\n");
    ASSERT_NE(at, std::string::npos) << entry.name << " and its doc not in:\n" << result.out;
    const std::size_t end = result.out.find("\n\n", at);
    const std::string block = result.out.substr(at, end - at);
    const std::vector<tvk::SearchKeyDefault> keys = tvk::search_key_defaults(entry);
    ASSERT_EQ(keys.size(), entry.keys.size()) << entry.name;
    for (const tvk::SearchKeyDefault& key : keys) {
      const std::string value =
          key.required ? "required" : (key.default_value.empty() ? "-" : key.default_value);
      const std::regex line("\n    " + key.key + " +default " + value + "( |\n|$)");
      EXPECT_TRUE(std::regex_search(block, line))
          << entry.name << "." << key.key << " default " << value << " not in:\n"
          << block;
      for (const std::string& choice : key.choices)
        EXPECT_NE(block.find(choice), std::string::npos) << entry.name << "." << key.key;
    }
    if (entry.keys.empty()) {
      EXPECT_NE(block.find("(no keys)"), std::string::npos) << block;
    }
  }
}

TEST(SearchesCli, DefaultsComeFromTheReaders) {
  // Every type reads a default for at least one of its keys or has none; a type whose reader
  // needs a key reports it as required rather than failing the listing.
  for (const tvk::SearchEntry& entry : tvk::search_entries()) {
    for (const tvk::SearchKeyDefault& key : tvk::search_key_defaults(entry)) {
      EXPECT_FALSE(key.required && !key.default_value.empty()) << entry.name << "." << key.key;
      for (const std::string& choice : key.choices)
        EXPECT_FALSE(choice.empty()) << entry.name << "." << key.key;
      if (!key.choices.empty()) {
        EXPECT_NE(std::find(key.choices.begin(), key.choices.end(), key.default_value),
                  key.choices.end())
            << entry.name << "." << key.key << " default is not one of its choices";
      }
    }
  }
}

TEST(SearchesCli, ConfigReadmeTableNamesEveryRegisteredType) {
  const std::string readme = tvk::test::read_text(kSource / "configs/README.md");
  const std::size_t section = readme.find("### Each element of `searches`");
  ASSERT_NE(section, std::string::npos);
  const std::string prefix = "| `type` | string | required | |";
  const std::size_t row = readme.find("\n" + prefix, section);
  ASSERT_NE(row, std::string::npos) << "no `type` row in the searches table";
  const std::string text = readme.substr(row + 1, readme.find('\n', row + 1) - row - 1);

  // Every single-word code span of the row's last cell is a type name.
  std::set<std::string> named;
  const std::regex code("`([a-z0-9_]+)`");
  const std::string cell = text.substr(prefix.size());
  for (auto it = std::sregex_iterator(cell.begin(), cell.end(), code); it != std::sregex_iterator();
       ++it)
    named.insert((*it)[1]);
  const std::vector<std::string> names = tvk::search_type_names();
  EXPECT_EQ(named, std::set<std::string>(names.begin(), names.end())) << text;
}

}  // namespace
