// Search type "delta_k": Δk-Search (THEORY §6) with a Top-k bound over the fully scored row,
// k = k0, k0 + Δk, ... until B_k <= eps. Any registered bound that is a TopkBound qualifies: the
// bound says which ranks it reads, so none is known here by name.

#include <memory>
#include <string>
#include <vector>

#include "core/bounds/bound_registry.h"
#include "core/certified/certified_search.h"
#include "core/certified/delta_k_search.h"

namespace tvk {
namespace {

class DeltaKSearchType final : public CertifiedSearch {
 public:
  DeltaKSearchType(std::string bound, std::size_t k0, std::size_t delta_k)
      : bound_(std::move(bound)), k0_(k0), delta_k_(delta_k) {}

  std::string details() const override {
    return bound_ + ", k0 " + std::to_string(k0_) + ", step " + std::to_string(delta_k_);
  }

  std::unique_ptr<KeySetSearch> start(const KeySetView& key_set) const override {
    return std::make_unique<OnKeySet>(DeltaKSearch(bound_, key_set.bound_options, k0_, delta_k_),
                                      *key_set.scorer, key_set.cost, key_set.bytes);
  }

 private:
  //! Δk-Search needs the whole row scored and sorted: that is part of its time.
  class OnKeySet final : public KeySetSearch {
   public:
    OnKeySet(DeltaKSearch search, const RowScorer& scorer, CostModel cost, ByteModel bytes)
        : search_(std::move(search)),
          scorer_(scorer),
          cost_(cost),
          bytes_(bytes),
          logits_(scorer.n()) {}
    SearchResult run(const Eigen::VectorXd& query, double eps) override {
      scorer_.score_all(query, logits_);
      profile_.assign(logits_);
      SearchResult result = search_.run(profile_, eps, cost_);
      result.bytes = bytes_.keys(logits_.size()) + bytes_.values(result.kept);  // every key
      return result;
    }

   private:
    DeltaKSearch search_;
    const RowScorer& scorer_;
    CostModel cost_;
    ByteModel bytes_;
    std::vector<double> logits_;
    TailProfile profile_;
  };

  std::string bound_;
  std::size_t k0_, delta_k_;
};

//! The registered bounds that are Top-k bounds (a value for every k), in registry order.
std::vector<std::string> topk_bound_names() {
  std::vector<std::string> names;
  for (const std::string& name : bound_names()) {
    if (dynamic_cast<const TopkBound*>(make_bound(name, BoundOptions{}).get())) {
      names.push_back(name);
    }
  }
  return names;
}

}  // namespace

SearchEntry delta_k_search_entry() {
  return {"delta_k",
          "Δk-Search: grow k by Δk until a Top-k bound certifies",
          {"delta_bound", "k0", "delta_k"},
          [](SectionReader& reader) -> std::shared_ptr<const CertifiedSearch> {
            std::string bound =
                reader.choice_or("delta_bound", "b2", "Δk bound", topk_bound_names());
            const auto k0 = static_cast<std::size_t>(reader.integer_or("k0", 1, 1));
            const auto delta_k = static_cast<std::size_t>(reader.integer_or("delta_k", 8, 1));
            return std::make_shared<DeltaKSearchType>(std::move(bound), k0, delta_k);
          }};
}

}  // namespace tvk
