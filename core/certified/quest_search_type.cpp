// Search type "quest": Quest's query-aware page selection (the selection and its reference in
// quest_search.h; THEORY §8 baselines) on position blocks of `page` keys, with a token budget.
// Uncertified. Quest keeps its first two layers dense; tvk applies the selection on every layer
// it is run on (a config selects the layers). Bytes: the summaries read (kmin and kmax, 16-bit)
// plus the exact keys and values kept.

#include <cmath>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "core/certified/baseline_support.h"
#include "core/certified/certified_search.h"
#include "core/certified/quest_search.h"

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
      QuestSelection selection = quest_select(cells_, query, page_, budget_, scratch_);
      const std::size_t read = selection.pages_read;
      SearchResult result;
      store_kept(result, scorer_, query, std::move(selection.keys), logits_);
      finish_uncertified(result, n, read, cost_);
      result.cells = pages;
      result.cells_visited = result.dense_fallback ? pages : selection.page_budget;
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
    QuestScratch scratch_;
    std::vector<double> logits_;
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
