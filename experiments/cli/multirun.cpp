#include "experiments/cli/multirun.h"

#include <set>

#include "core/error.h"

namespace tvk::cli {
namespace {

// A swept value as part of a file stem: letters, digits, '.', '-' and '_' kept, every run of
// other characters one '-', none at the end ("[1, 2]" -> "1-2").
std::string stem_text(const std::string& text) {
  std::string out;
  for (char c : text) {
    const bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '.' || c == '-' || c == '_';
    if (keep) {
      out += c;
    } else if (!out.empty() && out.back() != '-') {
      out += '-';
    }
  }
  while (!out.empty() && out.back() == '-')
    out.pop_back();
  return out;
}

}  // namespace

std::vector<std::string> split_top_level_commas(const std::string& value) {
  std::vector<std::string> parts(1);
  int depth = 0;
  char quote = 0;
  for (char c : value) {
    if (quote != 0) {
      if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '[' || c == '{') {
      ++depth;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    } else if (c == ',' && depth == 0) {
      parts.emplace_back();
      continue;
    }
    parts.back() += c;
  }
  return parts;
}

std::vector<MultirunJob> expand_multirun(const std::vector<std::string>& overrides) {
  std::vector<MultirunJob> jobs(1);
  for (const std::string& override_text : overrides) {
    const auto eq = override_text.find('=');
    const std::vector<std::string> values =
        eq == std::string::npos ? std::vector<std::string>{}
                                : split_top_level_commas(override_text.substr(eq + 1));
    if (values.size() < 2) {  // not a sweep: every job gets it as it is
      for (auto& job : jobs)
        job.overrides.push_back(override_text);
      continue;
    }
    const std::string key = override_text.substr(0, eq);
    const std::string bare_key = key.empty() || key[0] != '+' ? key : key.substr(1);
    // models[1].nu -> models.1.nu in file names
    std::string key_stem;
    for (char c : bare_key) {
      if (c != ']') key_stem += c == '[' ? '.' : c;
    }
    key_stem = stem_text(key_stem);
    std::vector<MultirunJob> expanded;
    for (const auto& job : jobs) {
      for (const std::string& value : values) {
        if (value.empty()) {
          throw InputError("'" + override_text + "': a multirun sweep has an empty value");
        }
        MultirunJob next = job;
        next.overrides.push_back(key + "=" + value);
        next.label += (next.label.empty() ? "" : " ") + bare_key + "=" + value;
        next.name_suffix += "_" + key_stem + "-" + stem_text(value);
        expanded.push_back(std::move(next));
      }
    }
    jobs = std::move(expanded);
  }
  std::set<std::string> suffixes;
  for (const auto& job : jobs) {
    if (!suffixes.insert(job.name_suffix).second) {
      throw InputError("multirun: two jobs would write the same results file (suffix '" +
                       job.name_suffix + "'); make the swept values differ in letters or digits");
    }
  }
  return jobs;
}

}  // namespace tvk::cli
