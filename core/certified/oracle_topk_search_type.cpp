// Search type "oracle_topk": the exact k_eps of THEORY §1/§8 (the smallest k whose true tail mass
// is <= eps), which needs every score. Certified: the bound is the exact tau_k of the fully
// scored row, rounded up (as MC-Search rounds its certificate) so that it also covers the tail
// mass another routine recomputes, and capped at eps (tau_k <= eps by the choice of k).

#include <algorithm>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/certified/certified_search.h"
#include "core/certified/rounding.h"
#include "core/rows/tail_profile.h"

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
      if (!(eps > 0.0 && eps < 1.0)) {
        throw std::invalid_argument("oracle_topk: eps must be in (0, 1), got " +
                                    std::to_string(eps));
      }
      const std::size_t n = scorer_.n();
      scorer_.score_all(query, logits_);
      profile_.assign(logits_);
      // TailProfile positions count unmasked keys only: map them back to key indices.
      unmasked_.clear();
      if (profile_.n() != n) {
        for (std::size_t i = 0; i < n; ++i) {
          if (logits_[i] != -std::numeric_limits<double>::infinity()) {
            unmasked_.push_back(static_cast<std::uint32_t>(i));
          }
        }
      }
      const auto key_of = [&](std::uint32_t position) {
        return unmasked_.empty() ? position : unmasked_[position];
      };
      const std::size_t m = profile_.n();
      const std::size_t k = profile_.k_eps(eps);
      SearchResult result;
      result.n = n;
      result.certified = true;
      result.scored = n;
      result.kept = k;
      const auto positions = profile_.positions();
      const auto sorted = profile_.sorted_logits();
      result.kept_keys.reserve(k);
      for (std::size_t r = 0; r < k; ++r) {
        result.kept_keys.push_back(key_of(positions[r]));
        result.kept_logits.push_back(sorted[r]);
      }
      result.dropped_keys.reserve(m - k);
      for (std::size_t r = k; r < m; ++r)
        result.dropped_keys.push_back(key_of(positions[r]));
      result.dense_fallback = k == m;
      result.stop = result.dense_fallback ? SearchStop::kDenseFallback : SearchStop::kCertified;
      result.bound = std::min(eps, rounding::inflate(profile_.tau(k), m - k, m));
      result.summary_cost = cost_.summary_cost;
      result.cost = static_cast<double>(n);
      result.bytes = bytes_.keys(n) + bytes_.values(k);
      return result;
    }

   private:
    const RowScorer& scorer_;
    ByteModel bytes_;
    CostModel cost_;
    std::vector<double> logits_;
    std::vector<std::uint32_t> unmasked_;
    TailProfile profile_;
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
