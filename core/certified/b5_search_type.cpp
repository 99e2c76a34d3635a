// Search type "b5": B5 (THEORY §2), blockwise certification from key summaries; MC-Search over
// position blocks keeping every scored key (b5_search).

#include <memory>
#include <string>
#include <vector>

#include "core/certified/b5_search.h"
#include "core/certified/cell_kinds.h"
#include "core/certified/certified_search.h"

namespace tvk {
namespace {

class B5SearchType final : public CertifiedSearch {
 public:
  B5SearchType(CellOptions blocks, UpperBoundKind upper) : blocks_(blocks), upper_(upper) {}

  std::optional<CellOptions> cells() const override { return blocks_; }

  std::string details() const override {
    return cell_kind_entry(blocks_.kind).describe(blocks_) + ", " + upper_bound_kind_name(upper_) +
           " bound, kept " + kept_mode_name(KeptMode::kScored);
  }

  std::unique_ptr<KeySetSearch> start(const KeySetView& key_set) const override {
    return std::make_unique<OnKeySet>(*key_set.cells, key_set.scale, upper_, key_set.cost,
                                      key_set.bytes);
  }

 private:
  class OnKeySet final : public KeySetSearch {
   public:
    OnKeySet(const KeyCells& blocks, double scale, UpperBoundKind upper, CostModel cost,
             ByteModel bytes)
        : blocks_(blocks), scale_(scale), upper_(upper), cost_(cost), bytes_(bytes) {}
    SearchResult run(const Eigen::VectorXd& query, double eps) override {
      SearchResult result =
          b5_search(blocks_, query, scale_, eps, upper_, cost_, /*true_tau=*/false);
      result.bytes =
          bytes_.cell_search(result.summaries_read, upper_ != UpperBoundKind::kCentroidRadius,
                             upper_ != UpperBoundKind::kBox, result.scored, result.kept);
      return result;
    }

   private:
    const KeyCells& blocks_;
    double scale_;
    UpperBoundKind upper_;
    CostModel cost_;
    ByteModel bytes_;
  };

  CellOptions blocks_;
  UpperBoundKind upper_;
};

std::vector<std::string> b5_keys() {
  std::vector<std::string> keys = {"cells"};
  for (const std::string& key : cell_kind_entry("blocks").keys)
    keys.push_back(key);
  keys.push_back("bound");
  return keys;
}

}  // namespace

SearchEntry b5_search_entry() {
  return {"b5", "B5: MC-Search over position blocks keeping every scored key", b5_keys(),
          [](SectionReader& reader) -> std::shared_ptr<const CertifiedSearch> {
            const std::string cells =
                reader.text_or("cells", "blocks", [](const std::string& value) {
                  if (value == "blocks") return std::string();
                  return "b5 runs on position blocks (cells: blocks), got '" + value + "'";
                });
            const UpperBoundKind upper = read_upper_bound(reader);
            return std::make_shared<B5SearchType>(read_cell_keys(reader, cells), upper);
          }};
}

}  // namespace tvk
