// Search type "mc_search": MC-Search (THEORY §6) over position blocks or k-means clusters,
// keeping the top-k of the scored keys or every scored key.

#include <memory>
#include <string>
#include <vector>

#include "core/certified/cell_kinds.h"
#include "core/certified/certified_search.h"
#include "core/certified/mc_search.h"

namespace tvk {
namespace {

class McSearchType final : public CertifiedSearch {
 public:
  McSearchType(CellOptions cells, UpperBoundKind upper, KeptMode kept)
      : cells_(cells), upper_(upper), kept_(kept) {}

  std::optional<CellOptions> cells() const override { return cells_; }

  std::string details() const override {
    return cell_kind_entry(cells_.kind).describe(cells_) + ", " + upper_bound_kind_name(upper_) +
           " bound, kept " + kept_mode_name(kept_);
  }

  std::unique_ptr<KeySetSearch> start(const KeySetView& key_set) const override {
    McSearchOptions options;
    options.kept = kept_;
    options.upper_bound = upper_;
    options.cost = key_set.cost;
    options.true_tau = false;
    return std::make_unique<OnKeySet>(*key_set.cells, key_set.scale, options, key_set.bytes);
  }

 private:
  class OnKeySet final : public KeySetSearch {
   public:
    OnKeySet(const KeyCells& cells, double scale, McSearchOptions options, ByteModel bytes)
        : cells_(cells), scale_(scale), options_(options), bytes_(bytes) {}
    SearchResult run(const Eigen::VectorXd& query, double eps) override {
      options_.eps = eps;
      SearchResult result = mc_search(cells_, query, scale_, options_);
      result.bytes = bytes_.cell_search(
          result.summaries_read, options_.upper_bound != UpperBoundKind::kCentroidRadius,
          options_.upper_bound != UpperBoundKind::kBox, result.scored, result.kept);
      return result;
    }

   private:
    const KeyCells& cells_;
    double scale_;
    McSearchOptions options_;
    ByteModel bytes_;
  };

  CellOptions cells_;
  UpperBoundKind upper_;
  KeptMode kept_;
};

std::vector<std::string> mc_keys() {
  std::vector<std::string> keys = {"cells"};
  for (const std::string& key : cell_keys())
    keys.push_back(key);
  keys.push_back("bound");
  keys.push_back("kept");
  return keys;
}

}  // namespace

SearchEntry mc_search_entry() {
  return {"mc_search", "MC-Search: visit cells by decreasing U_j until the certificate holds",
          mc_keys(), [](SectionReader& reader) -> std::shared_ptr<const CertifiedSearch> {
            const std::string cells =
                reader.choice_or("cells", "clusters", "cells kind", cell_kind_names());
            const KeptMode kept = parse_kept_mode(reader.choice_or(
                "kept", "topk", "kept set",
                {kept_mode_name(KeptMode::kTopk), kept_mode_name(KeptMode::kScored)}));
            const UpperBoundKind upper = read_upper_bound(reader);
            return std::make_shared<McSearchType>(read_cell_keys(reader, cells), upper, kept);
          }};
}

}  // namespace tvk
