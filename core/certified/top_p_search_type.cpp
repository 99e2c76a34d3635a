// Search type "top_p": Twilight-style top-p selection (THEORY §8 baselines). Every key's logit is
// estimated from its quantized summary (QuantizedKeys::estimates, scale · q·k̃: no guarantee),
// the estimates are soft-maxed (max-subtracted) and the smallest set of largest estimated
// weights with estimated mass >= p is kept (p = 0.85 in Twilight's configs; by default here
// 1 − eps of the run; the selection in top_p_search.h). The kept mass is estimated, not proven:
// uncertified, bound NaN. Bytes: the codes of every key, plus the exact keys and values of the kept
// ones.

#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "core/certified/baseline_support.h"
#include "core/certified/certified_search.h"
#include "core/certified/top_p_search.h"

namespace tvk {
namespace {

class TopPSearchType final : public CertifiedSearch {
 public:
  TopPSearchType(QuantizerOptions quantizer, std::optional<double> p)
      : quantizer_(quantizer), p_(p) {}

  std::optional<QuantizerOptions> quantizer() const override { return quantizer_; }

  std::string details() const override {
    std::ostringstream out;
    out << quantizer_description(quantizer_) << ", p ";
    if (p_) {
      out << *p_;
    } else {
      out << "1 - eps";
    }
    out << ", uncertified";
    return out.str();
  }

  std::unique_ptr<KeySetSearch> start(const KeySetView& key_set) const override {
    if (key_set.codes == nullptr) throw std::invalid_argument("top_p: needs quantized keys");
    return std::make_unique<OnKeySet>(key_set, p_);
  }

 private:
  class OnKeySet final : public KeySetSearch {
   public:
    OnKeySet(const KeySetView& view, std::optional<double> p)
        : codes_(*view.codes),
          scorer_(*view.scorer),
          scale_(view.scale),
          bytes_(view.bytes),
          cost_(view.cost),
          p_(p) {}

    SearchResult run(const Eigen::VectorXd& query, double eps) override {
      if (!(eps > 0.0 && eps < 1.0)) {
        throw std::invalid_argument("top_p: eps must be in (0, 1), got " + std::to_string(eps));
      }
      const std::size_t n = scorer_.n();
      if (n > codes_.size()) throw std::invalid_argument("top_p: fewer quantized keys than keys");
      estimates_.resize(n);
      codes_.estimates(query.data(), scale_, n, estimates_.data());
      SearchResult result;
      store_kept(result, scorer_, query, top_p_keys(estimates_, p_ ? *p_ : 1.0 - eps, order_),
                 logits_);
      finish_uncertified(result, n, n, cost_);
      result.bytes = static_cast<double>(n) * codes_.bytes_per_key() + bytes_.keys(result.kept) +
                     bytes_.values(result.kept);
      return result;
    }

   private:
    const QuantizedKeys& codes_;
    const RowScorer& scorer_;
    double scale_;
    ByteModel bytes_;
    CostModel cost_;
    std::optional<double> p_;
    std::vector<double> estimates_, logits_;
    std::vector<std::uint32_t> order_;
  };

  QuantizerOptions quantizer_;
  std::optional<double> p_;
};

}  // namespace

SearchEntry top_p_search_entry() {
  return {
      "top_p",
      "Twilight top-p: keep the smallest set of estimated mass >= p from quantized scores "
      "(uncertified)",
      {"bits", "group", "p"},
      [](SectionReader& reader) -> std::shared_ptr<const CertifiedSearch> {
        QuantizerOptions quantizer;
        quantizer.bits = reader.choice_or("bits", "4", "quantizer bits", {"4", "8"}) == "8" ? 8 : 4;
        quantizer.group = static_cast<std::size_t>(reader.integer_or("group", 8, 0));
        std::optional<double> p;
        if (reader.has("p")) p = read_real(reader, "p", 1.0, 0.0, 1.0, true);
        return std::make_shared<TopPSearchType>(quantizer, p);
      }};
}

}  // namespace tvk
