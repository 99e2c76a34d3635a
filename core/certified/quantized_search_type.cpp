// Search type "quantized": the quantized certified search (THEORY §8) over int8 or int4 key
// summaries, with optional sink and recent keys scored exactly first.

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/certified/certified_search.h"

namespace tvk {
namespace {

class QuantizedSearchType final : public CertifiedSearch {
 public:
  QuantizedSearchType(QuantizerOptions quantizer, std::size_t sinks, std::size_t recent)
      : quantizer_(quantizer), sinks_(sinks), recent_(recent) {}

  std::optional<QuantizerOptions> quantizer() const override { return quantizer_; }

  std::string details() const override {
    return quantizer_description(quantizer_) + ", sinks " + std::to_string(sinks_) + ", recent " +
           std::to_string(recent_);
  }

  std::unique_ptr<KeySetSearch> start(const KeySetView& key_set) const override {
    if (key_set.codes == nullptr) {
      throw std::invalid_argument("quantized search: the key set has no quantized summaries");
    }
    if (key_set.scorer == nullptr) {
      throw std::invalid_argument("quantized search: the key set has no scorer");
    }
    QuantizedSearchOptions options;
    options.sinks = sinks_;
    options.recent = recent_;
    options.bytes = key_set.bytes;
    return std::make_unique<OnKeySet>(*key_set.codes, *key_set.scorer, key_set.scale, options);
  }

 private:
  class OnKeySet final : public KeySetSearch {
   public:
    OnKeySet(const QuantizedKeys& codes, const RowScorer& scorer, double scale,
             QuantizedSearchOptions options)
        : codes_(codes), scorer_(scorer), scale_(scale), options_(options) {}
    SearchResult run(const Eigen::VectorXd& query, double eps) override {
      if (static_cast<std::size_t>(query.size()) != codes_.dim()) {
        throw std::invalid_argument("quantized search: query has " + std::to_string(query.size()) +
                                    " entries for keys of " + std::to_string(codes_.dim()) +
                                    " channels");
      }
      options_.eps = eps;
      return quantized_search(codes_, scorer_.n(), scorer_, query.data(), scale_, options_,
                              scratch_);
    }

   private:
    const QuantizedKeys& codes_;
    const RowScorer& scorer_;
    double scale_;
    QuantizedSearchOptions options_;
    QuantizedSearchScratch scratch_;
  };

  QuantizerOptions quantizer_;
  std::size_t sinks_, recent_;
};

}  // namespace

SearchEntry quantized_search_entry() {
  return {"quantized",
          "quantized search: bound every logit from int8/int4 codes, score by decreasing bound "
          "until the certificate holds",
          {"bits", "group", "sinks", "recent"},
          [](SectionReader& reader) -> std::shared_ptr<const CertifiedSearch> {
            QuantizerOptions quantizer;
            quantizer.bits = std::stoi(reader.choice_or("bits", "8", "bits", {"8", "4"}));
            quantizer.group = static_cast<std::size_t>(reader.integer_or("group", 0, 0));
            const auto sinks = static_cast<std::size_t>(reader.integer_or("sinks", 0, 0));
            const auto recent = static_cast<std::size_t>(reader.integer_or("recent", 0, 0));
            return std::make_shared<QuantizedSearchType>(quantizer, sinks, recent);
          }};
}

}  // namespace tvk
