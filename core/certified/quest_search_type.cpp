// Search type "quest": Quest's query-aware page selection (arXiv 2406.10774, mit-han-lab/Quest;
// THEORY §8 baselines). Keys are split into pages of `page` consecutive keys (16 in Quest) with
// per-channel minimum and maximum keys; a page's score is Σ_d max(q_d kmin_d, q_d kmax_d) (the
// box bound, used only to rank pages, never summed into a mass bound). With a token budget B
// Quest's page budget is P_B = ⌊B / page⌋ (quest/models/llama.py: token_budget // page_size),
// at least 1 here. When the row has at most P_B pages (or n <= B) every key is kept and no
// page summary is read. Otherwise the last page (the current, possibly partial one, whose
// summary Quest does not read) is always kept, plus the top P_B − 1 of the other pages by score
// (ties to the lower page), as Quest's reference _ref_self_approx_attention does. Uncertified.
// Quest keeps its first two layers dense; tvk applies the selection on every layer it is run on
// (a config selects the layers).

#include <algorithm>
#include <cmath>
#include <memory>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include "core/certified/baseline_support.h"
#include "core/certified/certified_search.h"

namespace tvk {
namespace {

class QuestSearchType final : public CertifiedSearch {
 public:
  QuestSearchType(std::size_t page, double budget) : page_(page), budget_(budget) {}

  std::optional<CellOptions> cells() const override {
    CellOptions options;
    options.kind = CellKind::kBlocks;
    options.block = page_;
    return options;
  }

  std::string details() const override {
    std::ostringstream out;
    out << "pages of " << page_ << ", budget ";
    if (budget_ >= 1.0) {
      out << static_cast<std::size_t>(budget_) << " tokens";
    } else {
      out << budget_ << " of n";
    }
    out << ", last page kept, every layer it runs on (Quest keeps its first two layers dense), "
           "uncertified";
    return out.str();
  }

  std::unique_ptr<KeySetSearch> start(const KeySetView& key_set) const override {
    if (key_set.cells == nullptr || key_set.cells->kind() != CellKind::kBlocks) {
      throw std::invalid_argument("quest: needs position blocks of its page size");
    }
    return std::make_unique<OnKeySet>(key_set, page_, budget_);
  }

 private:
  class OnKeySet final : public KeySetSearch {
   public:
    OnKeySet(const KeySetView& view, std::size_t page, double budget)
        : cells_(*view.cells),
          scorer_(*view.scorer),
          bytes_(view.bytes),
          cost_(view.cost),
          page_(page),
          budget_(budget) {}

    SearchResult run(const Eigen::VectorXd& query, double /*eps*/) override {
      const std::size_t n = cells_.n();
      const std::size_t pages = cells_.cells();
      const double tokens = budget_ >= 1.0 ? budget_ : budget_ * static_cast<double>(n);
      const std::size_t page_budget =
          std::max<std::size_t>(1, static_cast<std::size_t>(std::floor(tokens / page_)));
      std::vector<std::uint32_t> keys;
      std::size_t read = 0;
      if (static_cast<double>(n) <= tokens || pages <= page_budget) {
        keys.resize(n);
        std::iota(keys.begin(), keys.end(), std::uint32_t{0});
      } else {
        read = pages - 1;
        scores_.resize(read);
        const std::size_t d = cells_.d();
        for (std::size_t j = 0; j < read; ++j) {
          const auto lo = cells_.key_min(j), hi = cells_.key_max(j);
          double score = 0.0;
          for (std::size_t c = 0; c < d; ++c)
            score += std::max(query[c] * lo[c], query[c] * hi[c]);
          scores_[j] = score;
        }
        order_.resize(read);
        std::iota(order_.begin(), order_.end(), std::size_t{0});
        const std::size_t top = page_budget - 1;
        std::partial_sort(order_.begin(), order_.begin() + top, order_.end(),
                          [&](std::size_t a, std::size_t b) {
                            if (scores_[a] != scores_[b]) return scores_[a] > scores_[b];
                            return a < b;
                          });
        order_.resize(top);
        order_.push_back(pages - 1);
        for (std::size_t j : order_) {
          for (std::uint32_t i : cells_.members(j))
            keys.push_back(i);
        }
      }
      SearchResult result;
      store_kept(result, scorer_, query, std::move(keys), logits_);
      finish_uncertified(result, n, read, cost_);
      result.cells = pages;
      result.cells_visited = result.dense_fallback ? pages : page_budget;
      result.bytes = static_cast<double>(read) * (2.0 * static_cast<double>(bytes_.d) * 2.0) +
                     bytes_.keys(result.kept) + bytes_.values(result.kept);
      return result;
    }

   private:
    const KeyCells& cells_;
    const RowScorer& scorer_;
    ByteModel bytes_;
    CostModel cost_;
    std::size_t page_;
    double budget_;
    std::vector<double> scores_, logits_;
    std::vector<std::size_t> order_;
  };

  std::size_t page_;
  double budget_;
};

}  // namespace

SearchEntry quest_search_entry() {
  return {"quest",
          "Quest: keep the top pages by their per-channel box score within a token budget "
          "(uncertified)",
          {"page", "budget"},
          [](SectionReader& reader) -> std::shared_ptr<const CertifiedSearch> {
            const auto page = static_cast<std::size_t>(reader.integer_or("page", 16, 1));
            if (!reader.has("budget")) {
              reader.fail("budget",
                          "quest needs a token budget: a whole number of tokens >= 1 or a "
                          "fraction of n in (0, 1)");
            }
            const double budget = read_real(reader, "budget", 1.0, 0.0, 1e15, true);
            if (budget >= 1.0 && budget != std::floor(budget)) {
              reader.fail("budget",
                          "must be a whole number of tokens >= 1 or a fraction of n in "
                          "(0, 1)");
            }
            return std::make_shared<QuestSearchType>(page, budget);
          }};
}

}  // namespace tvk
