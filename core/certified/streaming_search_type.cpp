// Search type "streaming": StreamingLLM (THEORY §8 baselines; the selection in
// streaming_search.h) keeps the first `sinks` keys and the last `window` keys, whatever the
// query. Uncertified: certified false, bound NaN; only the true tail mass of what it keeps,
// computed afterwards, says how it did.

#include <memory>
#include <string>
#include <vector>

#include "core/certified/baseline_support.h"
#include "core/certified/certified_search.h"
#include "core/certified/streaming_search.h"

namespace tvk {
namespace {

class StreamingSearchType final : public CertifiedSearch {
 public:
  StreamingSearchType(std::size_t sinks, std::size_t window) : sinks_(sinks), window_(window) {}

  std::string details() const override {
    return std::to_string(sinks_) + " sinks, window " + std::to_string(window_) + ", uncertified";
  }

  std::unique_ptr<KeySetSearch> start(const KeySetView& key_set) const override {
    return std::make_unique<OnKeySet>(key_set, sinks_, window_);
  }

 private:
  class OnKeySet final : public KeySetSearch {
   public:
    OnKeySet(const KeySetView& view, std::size_t sinks, std::size_t window)
        : scorer_(*view.scorer),
          bytes_(view.bytes),
          cost_(view.cost),
          sinks_(sinks),
          window_(window) {}
    SearchResult run(const Eigen::VectorXd& query, double /*eps*/) override {
      const std::size_t n = scorer_.n();
      SearchResult result;
      store_kept(result, scorer_, query, streaming_keys(n, sinks_, window_), logits_);
      finish_uncertified(result, n, 0, cost_);
      result.bytes = bytes_.keys(result.kept) + bytes_.values(result.kept);
      return result;
    }

   private:
    const RowScorer& scorer_;
    ByteModel bytes_;
    CostModel cost_;
    std::size_t sinks_, window_;
    std::vector<double> logits_;
  };

  std::size_t sinks_, window_;
};

}  // namespace

SearchEntry streaming_search_entry() {
  return {"streaming",
          "StreamingLLM: keep the first `sinks` keys and the last `window` keys (uncertified)",
          {"sinks", "window"},
          [](SectionReader& reader) -> std::shared_ptr<const CertifiedSearch> {
            const auto sinks = static_cast<std::size_t>(reader.integer_or("sinks", 4, 0));
            const auto window = static_cast<std::size_t>(reader.integer_or("window", 252, 0));
            if (sinks + window == 0) reader.fail("window", "sinks + window must be >= 1");
            return std::make_shared<StreamingSearchType>(sinks, window);
          }};
}

}  // namespace tvk
