#include "core/certified/b5_search.h"

#include <stdexcept>

namespace tvk {

SearchResult b5_search(const KeyCells& blocks, const Eigen::VectorXd& query, double scale,
                       double eps, UpperBoundKind upper_bound, CostModel cost, bool true_tau) {
  if (blocks.kind() != CellKind::kBlocks) {
    throw std::invalid_argument("b5_search: B5 needs position blocks, got clusters");
  }
  McSearchOptions options;
  options.eps = eps;
  options.kept = KeptMode::kScored;
  options.upper_bound = upper_bound;
  options.cost = cost;
  options.true_tau = true_tau;
  return mc_search(blocks, query, scale, options);
}

}  // namespace tvk
