// Search type "oracle_topk": the exact k_eps from every score (the search in
// oracle_topk_search.h; THEORY §1/§8). Certified. Bytes: every key, the kept values.

#include <memory>
#include <string>
#include <vector>

#include "core/certified/certified_search.h"
#include "core/certified/oracle_topk_search.h"

namespace tvk {
namespace {

class OracleTopkSearchType final : public CertifiedSearch {
 public:
  std::string details() const override { return "exact k_eps from every score"; }

  std::unique_ptr<KeySetSearch> start(const KeySetView& key_set) const override {
    return std::make_unique<OnKeySet>(key_set);
  }

 private:
  class OnKeySet final : public KeySetSearch {
   public:
    explicit OnKeySet(const KeySetView& view)
        : scorer_(*view.scorer), bytes_(view.bytes), cost_(view.cost), logits_(scorer_.n()) {}
    SearchResult run(const Eigen::VectorXd& query, double eps) override {
      scorer_.score_all(query, logits_);
      SearchResult result = oracle_topk_search(logits_, eps, scratch_);
      result.summary_cost = cost_.summary_cost;
      result.cost = static_cast<double>(result.n);
      result.bytes = bytes_.keys(result.n) + bytes_.values(result.kept);
      return result;
    }

   private:
    const RowScorer& scorer_;
    ByteModel bytes_;
    CostModel cost_;
    std::vector<double> logits_;
    OracleTopkScratch scratch_;
  };
};

}  // namespace

SearchEntry oracle_topk_search_entry() {
  return {"oracle_topk",
          "oracle top-k: score every key and keep the exact k_eps (certified, needs every score)",
          {},
          [](SectionReader&) -> std::shared_ptr<const CertifiedSearch> {
            return std::make_shared<OracleTopkSearchType>();
          }};
}

}  // namespace tvk
