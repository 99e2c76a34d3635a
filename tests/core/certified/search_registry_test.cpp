//! \file Every registered search type reads only the keys it lists (so the config's "is not a
//! key of search type" check and its reader agree), takes each of them, and with its defaults runs
//! on a small row of every synthetic family with a certificate that holds (true tau <= bound <=
//! eps). A new type in search_registry.cpp is covered with no new test code.

#include "core/certified/search_registry.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>
#include "core/numerics/eigen.h"

#include "core/certified/cell_kinds.h"
#include "core/certified/logits.h"
#include "core/certified/qkv_models.h"
#include "core/random/stream.h"

namespace tvk {
namespace {

//! A section of given keys; records every key whose value a reader asks for. Values are returned as
//! given (numbers parsed), with no validation: that is the config corner's job.
using Values = std::map<std::string, std::string>;

class RecordingSection final : public SectionReader {
 public:
  explicit RecordingSection(Values values = {}) : values_(std::move(values)) {}

  // Asking whether a key is there (to reject it) is not reading it.
  bool has(std::string_view key) override { return values_.count(std::string(key)) > 0; }
  std::int64_t integer_or(std::string_view key, std::int64_t fallback, std::int64_t) override {
    return asked(key) ? std::stoll(values_.at(std::string(key))) : fallback;
  }
  std::string choice_or(std::string_view key, const std::string& fallback, std::string_view,
                        const std::vector<std::string>& choices) override {
    choices_[std::string(key)] = choices;
    return asked(key) ? values_.at(std::string(key)) : fallback;
  }
  std::string text_or(std::string_view key, const std::string& fallback,
                      const std::function<std::string(const std::string&)>& check) override {
    const std::string value = asked(key) ? values_.at(std::string(key)) : fallback;
    if (!check(value).empty()) fail(key, check(value));
    return value;
  }
  [[noreturn]] void fail(std::string_view key, std::string_view message) override {
    throw std::invalid_argument(std::string(key) + ": " + std::string(message));
  }

  const std::set<std::string>& keys_asked() const { return asked_; }
  const std::map<std::string, std::vector<std::string>>& choices() const { return choices_; }

 private:
  bool asked(std::string_view key) {
    asked_.insert(std::string(key));
    return values_.count(std::string(key)) > 0;
  }
  Values values_;
  std::set<std::string> asked_;
  std::map<std::string, std::vector<std::string>> choices_;
};

//! The keys a type cannot do without (quest's token budget), given to every read below.
Values required_keys(const std::string& type) {
  if (type == "quest") return Values{{"budget", "64"}};
  return {};
}

//! The dense scoring of a key set, as the certified runner does it (canonical logits).
class KeysScorer final : public RowScorer {
 public:
  KeysScorer(const Eigen::MatrixXd& keys, double scale) : keys_(keys), scale_(scale) {}
  std::size_t n() const override { return static_cast<std::size_t>(keys_.rows()); }
  void score_all(const Eigen::VectorXd& query, std::span<double> out) const override {
    const std::vector<double> logits = row_logits(keys_, query, scale_);
    std::copy(logits.begin(), logits.end(), out.begin());
  }
  void score(const double* query, std::span<const std::uint32_t> keys, double* out) const override {
    const Eigen::VectorXd q = Eigen::Map<const Eigen::VectorXd>(query, keys_.cols());
    const std::vector<double> logits = row_logits(keys_, q, scale_);
    for (std::size_t i = 0; i < keys.size(); ++i)
      out[i] = logits.at(keys[i]);
  }

 private:
  const Eigen::MatrixXd& keys_;
  double scale_;
};

TEST(SearchRegistry, NamesAreDistinctAndFound) {
  const std::vector<std::string> names = search_type_names();
  ASSERT_FALSE(names.empty());
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()).size(), names.size());
  for (const std::string& name : names)
    EXPECT_EQ(find_search_entry(name)->name, name);
  EXPECT_EQ(find_search_entry("no_such_search"), nullptr);
}

TEST(SearchRegistry, EveryTypeReadsOnlyTheKeysItLists) {
  for (const SearchEntry& entry : search_entries()) {
    RecordingSection section(required_keys(entry.name));
    ASSERT_NE(entry.read(section), nullptr) << entry.name;
    for (const std::string& key : section.keys_asked()) {
      EXPECT_NE(std::find(entry.keys.begin(), entry.keys.end(), key), entry.keys.end())
          << entry.name << " reads '" << key << "' but does not list it";
    }
  }
}

TEST(SearchRegistry, EveryTypeTakesEveryChoiceOfItsKeys) {
  // Each value of each choice key (cells kinds, bounds, kept sets) gives a search that builds.
  for (const SearchEntry& entry : search_entries()) {
    RecordingSection defaults(required_keys(entry.name));
    entry.read(defaults);
    for (const auto& [key, choices] : defaults.choices()) {
      for (const std::string& choice : choices) {
        Values values = required_keys(entry.name);
        values[key] = choice;
        RecordingSection section(values);
        const auto search = entry.read(section);
        EXPECT_FALSE(search->details().empty()) << entry.name << " " << key << ": " << choice;
      }
    }
  }
}

TEST(SearchRegistry, EveryTypeCertifiesSmallRowsWithItsDefaults) {
  // An uncertified baseline (certified false) only has to keep a consistent set: its bound is NaN.
  for (const SearchEntry& entry : search_entries()) {
    RecordingSection section(required_keys(entry.name));
    const auto search = entry.read(section);
    for (QkvFamily family : {QkvFamily::kGaussian, QkvFamily::kClustered, QkvFamily::kPositional}) {
      QkvParameters p;
      p.family = family;
      p.n = 200;
      p.d = 8;
      p.dv = 4;
      p.clusters = 5;
      RandomStream key_rng = make_stream(7, 0, 0, StreamPurpose::kKeys);
      RandomStream query_rng = make_stream(7, 0, 0, StreamPurpose::kQuery);
      const QkvRow row = sample_row(p, key_rng, query_rng);
      const std::optional<CellOptions> options = search->cells();
      std::optional<KeyCells> cells;
      if (options) cells.emplace(row.keys, row.values, *options);
      const KeysScorer scorer(row.keys, row.scale);
      std::optional<QuantizedKeys> codes;
      if (const std::optional<QuantizerOptions> quantizer = search->quantizer()) {
        const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> keys =
            row.keys;
        codes.emplace(QuantizedKeys::build(keys.data(), p.n, p.d, *quantizer));
      }
      KeySetView view;
      view.cells = cells ? &*cells : nullptr;
      view.codes = codes ? &*codes : nullptr;
      view.scale = row.scale;
      view.scorer = &scorer;
      auto on_key_set = search->start(view);
      const std::vector<double> logits = row_logits(row.keys, row.query, row.scale);
      for (double eps : {0.3, 0.05, 0.001}) {
        const SearchResult result = on_key_set->run(row.query, eps);
        const std::string where =
            entry.name + " " + qkv_family_name(family) + " eps " + std::to_string(eps);
        EXPECT_EQ(result.n, p.n) << where;
        EXPECT_EQ(result.kept, result.kept_keys.size()) << where;
        EXPECT_EQ(result.kept, result.kept_logits.size()) << where;
        if (!result.certified) {
          EXPECT_TRUE(std::isnan(result.bound)) << where;
          continue;
        }
        EXPECT_LE(result.bound, eps) << where;
        EXPECT_LE(kept_set_tau(logits, result.kept_keys), result.bound) << where;
      }
    }
  }
}

TEST(CellKinds, EveryKindReadsItsKeysAndBuildsCells) {
  const Eigen::MatrixXd keys = Eigen::MatrixXd::Random(40, 3);
  for (const CellKindEntry& kind : cell_kinds()) {
    EXPECT_EQ(cell_kind_entry(kind.name).kind, kind.kind);
    EXPECT_EQ(cell_kind_entry(kind.kind).name, kind.name);
    RecordingSection section;
    const CellOptions options = read_cell_keys(section, kind.name);
    EXPECT_EQ(options.kind, kind.kind);
    for (const std::string& key : kind.keys)
      EXPECT_TRUE(section.keys_asked().count(key)) << kind.name << " ignores " << key;
    EXPECT_TRUE(kind.same(options, options));
    EXPECT_FALSE(kind.describe(options).empty());
    const KeyCells cells(keys, options);
    EXPECT_EQ(cells.kind(), kind.kind);
    EXPECT_EQ(cells.n(), 40u);
  }
  EXPECT_THROW(cell_kind_entry("grid"), std::invalid_argument);
}

TEST(CellKinds, AnotherKindsKeyIsAnError) {
  RecordingSection section(Values{{"block", "4"}});
  EXPECT_THROW(
      {
        try {
          read_cell_keys(section, "clusters");
        } catch (const std::invalid_argument& error) {
          EXPECT_STREQ(error.what(), "block: is used only with cells: blocks");
          throw;
        }
      },
      std::invalid_argument);
}

}  // namespace
}  // namespace tvk
