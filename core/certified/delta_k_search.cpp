#include "core/certified/delta_k_search.h"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/bounds/bound_registry.h"

namespace tvk {

DeltaKSearch::DeltaKSearch(std::string_view bound, const BoundOptions& options, std::size_t k0,
                           std::size_t delta_k)
    : bound_(make_bound(bound, options)), name_(bound), k0_(k0), delta_k_(delta_k) {
  topk_ = dynamic_cast<const TopkBound*>(bound_.get());
  if (topk_ == nullptr) {
    throw std::invalid_argument("Δk-Search needs a Top-k bound (b1, b2, b3...), got '" + name_ +
                                "'");
  }
  if (k0_ == 0) throw std::invalid_argument("Δk-Search: k0 must be >= 1");
  if (delta_k_ == 0) throw std::invalid_argument("Δk-Search: delta_k must be >= 1");
}

DeltaKSearch::~DeltaKSearch() = default;
DeltaKSearch::DeltaKSearch(DeltaKSearch&&) noexcept = default;
DeltaKSearch& DeltaKSearch::operator=(DeltaKSearch&&) noexcept = default;

std::string DeltaKSearch::bound_name() const {
  return name_;
}

std::vector<std::size_t> DeltaKSearch::ranks_read(std::size_t n, std::size_t k) const {
  return topk_->ranks_read(n, k);  // the bound says what it reads: no bound is known by name
}

SearchResult DeltaKSearch::run(const TailProfile& profile, double eps, CostModel cost) const {
  check_search_eps(eps, "Δk-Search");
  const std::size_t n = profile.n();
  std::vector<char> read(n + 1, 0);
  std::size_t k = std::min(k0_, n), tried = 0;
  double bound = 0.0;
  for (;;) {
    ++tried;
    for (std::size_t r : ranks_read(n, k))
      read[r] = 1;
    bound = k >= n ? 0.0 : topk_->value(profile, k);
    if (bound <= eps) break;
    k = std::min(k + delta_k_, n);
  }
  std::size_t beyond = 0;
  for (std::size_t r = k + 1; r <= n; ++r)
    beyond += read[r];

  SearchResult result;
  result.n = n;
  result.cells = 0;
  result.cells_visited = tried;
  result.scored = n;
  result.summaries_read = 0;
  result.positions_examined = k + beyond;
  result.kept = k;
  result.bound = bound;
  result.true_tau = profile.tau(k);
  result.dense_fallback = k == n;
  result.stop = result.dense_fallback ? SearchStop::kDenseFallback : SearchStop::kCertified;
  result.certified = true;
  result.summary_cost = cost.summary_cost;
  result.cost = static_cast<double>(n);
  const auto pos = profile.positions();
  const auto logits = profile.sorted_logits();
  result.kept_keys.assign(pos.begin(), pos.begin() + static_cast<std::ptrdiff_t>(k));
  result.kept_logits.assign(logits.begin(), logits.begin() + static_cast<std::ptrdiff_t>(k));
  result.dropped_keys.assign(pos.begin() + static_cast<std::ptrdiff_t>(k), pos.end());
  return result;
}

}  // namespace tvk
