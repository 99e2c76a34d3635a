//! \file The baselines of THEORY §8 as registered search types, on hand-built key sets: Quest
//! keeps the pages a brute-force reimplementation of its selection keeps, StreamingLLM exactly
//! its sinks and window, the oracle exactly k_eps with a bound >= the true tail mass, top-p the
//! smallest set of estimated mass >= p; the byte formulas; and their config errors.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>
#include "core/numerics/eigen.h"

#include "core/certified/baseline_support.h"
#include "core/certified/logits.h"
#include "core/certified/search_registry.h"
#include "core/certified/top_p_search.h"
#include "core/rows/tail_profile.h"

namespace tvk {
namespace {

using Values = std::map<std::string, std::string>;

//! A section with given keys (numbers parsed, no validation); fail() throws.
class Section final : public SectionReader {
 public:
  explicit Section(Values values) : values_(std::move(values)) {}
  bool has(std::string_view key) override { return values_.count(std::string(key)) > 0; }
  std::int64_t integer_or(std::string_view key, std::int64_t fallback,
                          std::int64_t minimum) override {
    if (!has(key)) return fallback;
    const std::int64_t value = std::stoll(values_.at(std::string(key)));
    if (value < minimum) fail(key, "must be >= " + std::to_string(minimum));
    return value;
  }
  std::string choice_or(std::string_view key, const std::string& fallback, std::string_view,
                        const std::vector<std::string>&) override {
    return has(key) ? values_.at(std::string(key)) : fallback;
  }
  std::string text_or(std::string_view key, const std::string& fallback,
                      const std::function<std::string(const std::string&)>& check) override {
    const std::string value = has(key) ? values_.at(std::string(key)) : fallback;
    if (!check(value).empty()) fail(key, check(value));
    return value;
  }
  [[noreturn]] void fail(std::string_view key, std::string_view message) override {
    throw std::invalid_argument(std::string(key) + ": " + std::string(message));
  }

 private:
  Values values_;
};

std::shared_ptr<const CertifiedSearch> read_search(const std::string& type, Values values) {
  Section section(std::move(values));
  return find_search_entry(type)->read(section);
}

std::string read_error(const std::string& type, Values values) {
  try {
    read_search(type, std::move(values));
  } catch (const std::invalid_argument& error) {
    return error.what();
  }
  return "no error";
}

//! Canonical logits of a key matrix; counts the keys scored through score().
class MatrixScorer final : public RowScorer {
 public:
  MatrixScorer(const Eigen::MatrixXd& keys, double scale) : keys_(keys), scale_(scale) {}
  std::size_t n() const override { return static_cast<std::size_t>(keys_.rows()); }
  void score_all(const Eigen::VectorXd& query, std::span<double> out) const override {
    const std::vector<double> logits = row_logits(keys_, query, scale_);
    std::copy(logits.begin(), logits.end(), out.begin());
  }
  void score(const double* query, std::span<const std::uint32_t> keys, double* out) const override {
    for (std::size_t i = 0; i < keys.size(); ++i) {
      const Eigen::VectorXd key = keys_.row(keys[i]).transpose();
      out[i] = key_logit(query, key.data(), static_cast<std::size_t>(key.size()), scale_);
    }
    scored_ += keys.size();
  }
  std::size_t scored() const { return scored_; }

 private:
  const Eigen::MatrixXd& keys_;
  double scale_;
  mutable std::size_t scored_ = 0;
};

//! A key set with its cells (when the search asks for them), scorer and byte model.
struct Fixture {
  Fixture(std::size_t n, std::size_t d, std::size_t dv, unsigned seed) {
    std::srand(seed);
    keys = Eigen::MatrixXd::Random(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(d));
    values = Eigen::MatrixXd::Random(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(dv));
    query = 2.0 * Eigen::VectorXd::Random(static_cast<Eigen::Index>(d));
    scale = 1.0 / std::sqrt(static_cast<double>(d));
  }
  std::unique_ptr<KeySetSearch> start(const CertifiedSearch& search) {
    scorer.emplace(keys, scale);
    if (const auto options = search.cells()) cells.emplace(keys, values, *options);
    KeySetView view;
    view.cells = cells ? &*cells : nullptr;
    view.scale = scale;
    view.scorer = &*scorer;
    view.codes = codes;
    view.values = &values;
    view.bytes =
        ByteModel{static_cast<std::size_t>(keys.cols()), static_cast<std::size_t>(values.cols())};
    return search.start(view);
  }
  std::vector<double> logits() const { return row_logits(keys, query, scale); }

  Eigen::MatrixXd keys, values;
  Eigen::VectorXd query;
  double scale = 1.0;
  std::optional<MatrixScorer> scorer;
  std::optional<KeyCells> cells;
  const QuantizedKeys* codes = nullptr;
};

//! Every result: kept_keys distinct, in descending logit order (ties by index), with their exact
//! logits; scored = kept for a baseline.
void expect_consistent(const SearchResult& result, const std::vector<double>& logits) {
  ASSERT_EQ(result.kept, result.kept_keys.size());
  ASSERT_EQ(result.kept, result.kept_logits.size());
  EXPECT_EQ(std::set<std::uint32_t>(result.kept_keys.begin(), result.kept_keys.end()).size(),
            result.kept);
  for (std::size_t r = 0; r < result.kept; ++r) {
    EXPECT_EQ(result.kept_logits[r], logits[result.kept_keys[r]]) << r;
    if (r > 0) {
      const bool ordered = result.kept_logits[r - 1] > result.kept_logits[r] ||
                           (result.kept_logits[r - 1] == result.kept_logits[r] &&
                            result.kept_keys[r - 1] < result.kept_keys[r]);
      EXPECT_TRUE(ordered) << r;
    }
  }
  if (!result.certified) {
    EXPECT_TRUE(std::isnan(result.bound));
    EXPECT_EQ(result.scored, result.kept);
  }
}

std::set<std::uint32_t> kept_set(const SearchResult& result) {
  return {result.kept_keys.begin(), result.kept_keys.end()};
}

//! Quest's selection written out from the key matrix: pages of `page` keys, each page's
//! per-channel min and max, score Σ_d max(q_d kmin_d, q_d kmax_d); the last page plus the
//! top ⌊B/page⌋ − 1 others (ties to the lower page), or everything when that covers the row.
std::set<std::uint32_t> brute_force_quest(const Fixture& f, std::size_t page, double tokens) {
  const auto n = static_cast<std::size_t>(f.keys.rows());
  const auto d = static_cast<std::size_t>(f.keys.cols());
  const std::size_t pages = (n + page - 1) / page;
  const std::size_t budget = std::max<std::size_t>(1, static_cast<std::size_t>(tokens / page));
  std::set<std::uint32_t> kept;
  if (static_cast<double>(n) <= tokens || pages <= budget) {
    for (std::size_t i = 0; i < n; ++i)
      kept.insert(static_cast<std::uint32_t>(i));
    return kept;
  }
  std::vector<std::pair<double, std::size_t>> scored;
  for (std::size_t j = 0; j + 1 < pages; ++j) {
    double score = 0.0;
    for (std::size_t c = 0; c < d; ++c) {
      double lo = INFINITY, hi = -INFINITY;
      for (std::size_t i = j * page; i < (j + 1) * page; ++i) {
        lo = std::min(lo, f.keys(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(c)));
        hi = std::max(hi, f.keys(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(c)));
      }
      score += std::max(f.query[static_cast<Eigen::Index>(c)] * lo,
                        f.query[static_cast<Eigen::Index>(c)] * hi);
    }
    scored.push_back({-score, j});
  }
  std::sort(scored.begin(), scored.end());
  std::vector<std::size_t> chosen = {pages - 1};
  for (std::size_t t = 0; t + 1 < budget; ++t)
    chosen.push_back(scored[t].second);
  for (std::size_t j : chosen) {
    for (std::size_t i = j * page; i < std::min(n, (j + 1) * page); ++i)
      kept.insert(static_cast<std::uint32_t>(i));
  }
  return kept;
}

TEST(QuestSearch, KeepsThePagesABruteForceSelectionKeeps) {
  struct Case {
    std::size_t n, page;
    std::string budget;
    double tokens;
  };
  for (const Case& c : {Case{100, 16, "48", 48.0}, Case{100, 16, "0.5", 50.0},
                        Case{257, 16, "64", 64.0}, Case{90, 8, "30", 30.0}, Case{100, 16, "5", 5.0},
                        Case{100, 16, "100", 100.0}, Case{40, 16, "0.9", 36.0}}) {
    for (unsigned seed : {1u, 2u, 3u}) {
      Fixture f(c.n, 6, 3, seed);
      const auto search =
          read_search("quest", {{"page", std::to_string(c.page)}, {"budget", c.budget}});
      ASSERT_EQ(search->cells()->block, c.page);
      const SearchResult result = f.start(*search)->run(f.query, 0.01);
      const std::string where = "n " + std::to_string(c.n) + " budget " + c.budget;
      const std::set<std::uint32_t> expected = brute_force_quest(f, c.page, c.tokens);
      EXPECT_EQ(kept_set(result), expected) << where;
      expect_consistent(result, f.logits());
      EXPECT_FALSE(result.certified);
      EXPECT_EQ(result.n, c.n);
      const std::size_t pages = (c.n + c.page - 1) / c.page;
      const std::size_t read = result.kept == c.n ? 0 : pages - 1;
      EXPECT_EQ(result.summaries_read, read) << where;
      EXPECT_DOUBLE_EQ(result.bytes, static_cast<double>(read) * 2 * 6 * 2 + 2.0 * result.kept * 6 +
                                         2.0 * result.kept * 3)
          << where;
      EXPECT_EQ(f.scorer->scored(), result.kept) << where;
    }
  }
}

TEST(QuestSearch, ConfigErrorsAreClear) {
  EXPECT_EQ(read_error("quest", {}),
            "budget: quest needs a token budget: a whole number of tokens >= 1 or a fraction of "
            "n in (0, 1)");
  EXPECT_EQ(read_error("quest", {{"budget", "0"}}),
            "budget: must be a number in (0, 1e+15], got '0'");
  EXPECT_EQ(read_error("quest", {{"budget", "-3"}}),
            "budget: must be a number in (0, 1e+15], got '-3'");
  EXPECT_EQ(read_error("quest", {{"budget", "lots"}}),
            "budget: must be a number in (0, 1e+15], got 'lots'");
  EXPECT_EQ(read_error("quest", {{"budget", "2.5"}}),
            "budget: must be a whole number of tokens >= 1 or a fraction of n in (0, 1)");
  EXPECT_EQ(read_error("quest", {{"budget", "64"}, {"page", "0"}}), "page: must be >= 1");
  EXPECT_NE(read_search("quest", {{"budget", "64"}})->details().find("first two layers"),
            std::string::npos);
}

TEST(StreamingSearch, KeepsExactlyTheSinksAndTheWindow) {
  for (std::size_t n : {300u, 256u, 100u, 3u}) {
    Fixture f(n, 5, 2, 4);
    const auto search = read_search("streaming", {});
    const SearchResult result = f.start(*search)->run(f.query, 0.05);
    std::set<std::uint32_t> expected;
    for (std::size_t i = 0; i < n; ++i) {
      if (i < 4 || i + 252 >= n) expected.insert(static_cast<std::uint32_t>(i));
    }
    EXPECT_EQ(kept_set(result), expected) << n;
    EXPECT_EQ(result.kept, std::min<std::size_t>(n, 256)) << n;
    expect_consistent(result, f.logits());
    EXPECT_EQ(result.summaries_read, 0u);
    EXPECT_EQ(result.dense_fallback, result.kept == n);
    EXPECT_DOUBLE_EQ(result.bytes, 2.0 * result.kept * 5 + 2.0 * result.kept * 2);
  }
  Fixture f(50, 4, 2, 5);
  const SearchResult result =
      f.start(*read_search("streaming", {{"sinks", "2"}, {"window", "10"}}))->run(f.query, 0.05);
  std::set<std::uint32_t> expected = {0, 1};
  for (std::uint32_t i = 40; i < 50; ++i)
    expected.insert(i);
  EXPECT_EQ(kept_set(result), expected);
  EXPECT_EQ(read_error("streaming", {{"sinks", "0"}, {"window", "0"}}),
            "window: sinks + window must be >= 1");
  EXPECT_EQ(read_error("streaming", {{"window", "-1"}}), "window: must be >= 0");
}

TEST(OracleTopkSearch, KeepsExactlyKEpsWithABoundAboveTheTrueTau) {
  for (unsigned seed : {1u, 2u, 3u, 4u}) {
    Fixture f(200, 8, 4, seed);
    f.query *= 3.0;
    const auto search = read_search("oracle_topk", {});
    auto on_key_set = f.start(*search);
    const std::vector<double> logits = f.logits();
    const TailProfile profile(logits);
    for (double eps : {0.5, 0.1, 0.01, 1e-6}) {
      const SearchResult result = on_key_set->run(f.query, eps);
      const std::size_t k = profile.k_eps(eps);
      EXPECT_TRUE(result.certified);
      EXPECT_EQ(result.kept, k) << eps;
      EXPECT_EQ(result.scored, 200u);
      expect_consistent(result, logits);
      for (std::size_t r = 0; r < k; ++r)
        EXPECT_EQ(result.kept_keys[r], profile.positions()[r]);
      const double tau = kept_set_tau(logits, result.kept_keys);
      EXPECT_GE(result.bound, tau) << eps;
      EXPECT_GE(result.bound, profile.tau(k)) << eps;
      EXPECT_LE(result.bound, eps) << eps;
      EXPECT_EQ(result.dropped_keys.size(), 200u - k);
      EXPECT_EQ(result.stop, k == 200 ? SearchStop::kDenseFallback : SearchStop::kCertified);
      EXPECT_DOUBLE_EQ(result.bytes, 2.0 * 200 * 8 + 2.0 * k * 4);
    }
  }
  // Every key needed: all kept, bound 0, dense fallback.
  Fixture flat(10, 3, 1, 9);
  flat.query.setZero();
  const SearchResult result = flat.start(*read_search("oracle_topk", {}))->run(flat.query, 0.05);
  EXPECT_EQ(result.kept, 10u);
  EXPECT_EQ(result.bound, 0.0);
  EXPECT_EQ(result.stop, SearchStop::kDenseFallback);
}

//! The estimated mass of the first m keys of `order` (weights e^{e − max}), over the total.
double estimated_mass(const std::vector<double>& estimates, const std::vector<std::uint32_t>& kept,
                      std::size_t m) {
  const double top = *std::max_element(estimates.begin(), estimates.end());
  double total = 0.0, head = 0.0;
  for (double e : estimates)
    total += std::exp(e - top);
  for (std::size_t r = 0; r < m; ++r)
    head += std::exp(estimates[kept[r]] - top);
  return head / total;
}

TEST(TopPSelection, KeepsTheSmallestSetOfEstimatedMassAtLeastP) {
  std::srand(11);
  std::vector<std::uint32_t> scratch;
  for (std::size_t n : {1u, 7u, 64u, 500u}) {
    Eigen::VectorXd random = 4.0 * Eigen::VectorXd::Random(static_cast<Eigen::Index>(n));
    std::vector<double> estimates(random.data(), random.data() + n);
    for (double p : {0.5, 0.85, 0.99, 0.999999}) {
      const std::vector<std::uint32_t> kept = top_p_keys(estimates, p, scratch);
      ASSERT_FALSE(kept.empty());
      const std::string where = "n " + std::to_string(n) + " p " + std::to_string(p);
      // Largest estimates first, ties to the lower index.
      for (std::size_t r = 1; r < kept.size(); ++r) {
        EXPECT_TRUE(estimates[kept[r - 1]] > estimates[kept[r]] ||
                    (estimates[kept[r - 1]] == estimates[kept[r]] && kept[r - 1] < kept[r]))
            << where;
      }
      // Every kept estimate >= every dropped one.
      const std::set<std::uint32_t> in(kept.begin(), kept.end());
      for (std::uint32_t i = 0; i < n; ++i) {
        if (!in.count(i)) {
          EXPECT_LE(estimates[i], estimates[kept.back()]) << where;
        }
      }
      EXPECT_GE(estimated_mass(estimates, kept, kept.size()), p * (1 - 1e-12)) << where;
      if (kept.size() > 1) {
        EXPECT_LT(estimated_mass(estimates, kept, kept.size() - 1), p * (1 + 1e-12)) << where;
      }
    }
    EXPECT_EQ(top_p_keys(estimates, 1.0, scratch).size(), n);
  }
  // Ties keep the lower index first; one dominant key is enough on its own.
  const std::vector<double> tied = {1.0, 3.0, 3.0, 0.0};
  EXPECT_EQ(top_p_keys(tied, 0.5, scratch), (std::vector<std::uint32_t>{1, 2}));
  const std::vector<double> dominant = {0.0, 50.0, 1.0};
  EXPECT_EQ(top_p_keys(dominant, 0.99, scratch), (std::vector<std::uint32_t>{1}));
}

TEST(TopPSearch, KeepsWhatTheSelectionKeepsFromTheCodesEstimates) {
  for (const Values& values : {Values{}, Values{{"p", "0.85"}},
                               Values{{"bits", "8"}, {"group", "0"}}, Values{{"p", "1"}}}) {
    const auto search = read_search("top_p", values);
    ASSERT_TRUE(search->quantizer());
    Fixture f(300, 8, 4, 21);
    f.query *= 3.0;
    const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> rows = f.keys;
    const QuantizedKeys codes = QuantizedKeys::build(rows.data(), 300, 8, *search->quantizer());
    f.codes = &codes;
    auto on_key_set = f.start(*search);
    std::vector<double> estimates(300);
    codes.estimates(f.query.data(), f.scale, 300, estimates.data());
    for (double eps : {0.3, 0.05, 0.001}) {
      const SearchResult result = on_key_set->run(f.query, eps);
      const double p = values.count("p") ? std::stod(values.at("p")) : 1.0 - eps;
      const std::string where = search->details() + " eps " + std::to_string(eps);
      std::vector<std::uint32_t> scratch;
      const std::vector<std::uint32_t> expected = top_p_keys(estimates, p, scratch);
      EXPECT_EQ(kept_set(result), std::set<std::uint32_t>(expected.begin(), expected.end()))
          << where;
      expect_consistent(result, f.logits());
      EXPECT_FALSE(result.certified);
      EXPECT_GE(estimated_mass(estimates, expected, expected.size()), p * (1 - 1e-12)) << where;
      EXPECT_EQ(result.summaries_read, 300u);
      EXPECT_DOUBLE_EQ(result.bytes,
                       300 * codes.bytes_per_key() + 2.0 * result.kept * 8 + 2.0 * result.kept * 4)
          << where;
      if (p == 1.0) {
        EXPECT_EQ(result.kept, 300u);
      }
    }
  }
  EXPECT_EQ(read_search("top_p", {})->quantizer()->bits, 4);
  EXPECT_EQ(read_search("top_p", {})->quantizer()->group, 8u);
  EXPECT_EQ(read_error("top_p", {{"p", "0"}}), "p: must be a number in (0, 1], got '0'");
  EXPECT_EQ(read_error("top_p", {{"p", "1.5"}}), "p: must be a number in (0, 1], got '1.5'");
}

TEST(BaselineSupport, ReadsRealNumbers) {
  EXPECT_EQ(parse_real("0.25"), 0.25);
  EXPECT_EQ(parse_real("1e-3"), 1e-3);
  EXPECT_FALSE(parse_real(""));
  EXPECT_FALSE(parse_real(" 1"));
  EXPECT_FALSE(parse_real("1x"));
  EXPECT_FALSE(parse_real("nan"));
  EXPECT_FALSE(parse_real("inf"));
  Section section(Values{{"p", "0.9"}});
  EXPECT_EQ(read_real(section, "p", 0.5, 0.0, 1.0, true), 0.9);
  EXPECT_EQ(read_real(section, "q", 0.5, 0.0, 1.0, true), 0.5);
}

}  // namespace
}  // namespace tvk
