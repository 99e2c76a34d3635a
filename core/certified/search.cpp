#include "core/certified/search.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <utility>

#include "core/bounds/bound_registry.h"
#include "core/certified/rounding.h"
#include "core/numerics/elementary.h"

namespace tvk {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

void check_eps(double eps, const char* who) {
  if (!(eps > 0.0 && eps < 1.0)) {
    throw std::invalid_argument(std::string(who) + ": eps must be in (0, 1), got " +
                                std::to_string(eps));
  }
}

// Certificates are rounded up by rounding::inflate (core/certified/rounding.h, THEORY §11): it
// bounds the exact tail mass of the computed logits and also the tail mass another routine
// computes (TailProfile::tau, kept_set_tau).
using rounding::inflate;

// The unvisited cells summarised by their largest bound U_top and T = Σ_R |C_j| e^{U_j − U_top}
// (so their mass is e^{U_top} T); U_top = −inf when R is empty.
struct Remainder {
  double top = -kInf;
  double scaled = 0.0;
};

// The smallest certifying k (>= k_min) for scored logits in descending order and the remainder
// R, with its certificate; {0, 1} when none certifies.
std::pair<std::size_t, double> smallest_certified(std::span<const double> scored, std::size_t k_min,
                                                  const Remainder& rest, std::size_t n, double eps,
                                                  std::vector<double>& tails) {
  const std::size_t m = scored.size();
  if (rest.top == kInf) return {0, 1.0};
  // A common reference >= every exponent, so no weight overflows and the largest is e^0.
  const double ref = std::max(m > 0 ? scored[0] : -kInf, rest.top);
  tails.assign(m + 1, 0.0);
  double running = 0.0;
  for (std::size_t r = m; r-- > 0;) {  // from the bottom: smallest terms first
    running += elementary::exp(scored[r] - ref);
    tails[r] = running;
  }
  const double remainder = rest.top == -kInf ? 0.0 : rest.scaled * elementary::exp(rest.top - ref);
  const double denominator = tails[0] + remainder;
  // The certificate is non-increasing in k (the tail sums only lose terms): the first k wins.
  for (std::size_t k = std::max<std::size_t>(k_min, 1); k <= m; ++k) {
    const double bound = inflate((tails[k] + remainder) / denominator, n - k, n);
    if (bound <= eps) return {k, bound};
  }
  return {0, 1.0};
}

}  // namespace

std::string kept_mode_name(KeptMode mode) {
  return mode == KeptMode::kScored ? "scored" : "topk";
}

KeptMode parse_kept_mode(std::string_view name) {
  if (name == "scored") return KeptMode::kScored;
  if (name == "topk") return KeptMode::kTopk;
  throw std::invalid_argument("unknown kept mode '" + std::string(name) +
                              "' (expected scored or topk)");
}

std::string search_stop_name(SearchStop stop) {
  return stop == SearchStop::kCertified ? "certified" : "dense_fallback";
}

double kept_set_tau(std::span<const double> logits, std::span<const std::uint32_t> kept_keys) {
  const TailProfile profile(logits);
  if (profile.n() != logits.size()) {
    throw std::invalid_argument("kept_set_tau: the row has masked or non-finite logits");
  }
  std::vector<char> kept(logits.size(), 0);
  for (std::uint32_t i : kept_keys)
    kept.at(i) = 1;
  const auto w = profile.weights();
  const auto pos = profile.positions();
  double outside = 0.0;
  for (std::size_t r = profile.n(); r-- > 0;) {
    if (!kept[pos[r]]) outside += w[r];
  }
  return outside / profile.total();
}

double mc_certificate(std::span<const double> scored_descending, std::size_t kept,
                      std::span<const double> unvisited_bounds,
                      std::span<const std::size_t> unvisited_sizes, std::size_t n) {
  if (unvisited_bounds.size() != unvisited_sizes.size() || kept > scored_descending.size()) {
    throw std::invalid_argument("mc_certificate: inconsistent arguments");
  }
  std::vector<std::size_t> order(unvisited_bounds.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return unvisited_bounds[a] > unvisited_bounds[b];
  });
  Remainder rest;
  if (!order.empty()) {
    rest.top = unvisited_bounds[order[0]];
    if (rest.top == kInf) return 1.0;
    for (std::size_t p = order.size(); p-- > 0;)  // from the bottom
      rest.scaled += static_cast<double>(unvisited_sizes[order[p]]) *
                     elementary::exp(unvisited_bounds[order[p]] - rest.top);
  }
  const std::size_t m = scored_descending.size();
  const double ref = std::max(m > 0 ? scored_descending[0] : -kInf, rest.top);
  double tail = 0.0, head = 0.0;
  for (std::size_t r = m; r-- > 0;)
    (r >= kept ? tail : head) += elementary::exp(scored_descending[r] - ref);
  const double remainder = rest.top == -kInf ? 0.0 : rest.scaled * elementary::exp(rest.top - ref);
  return inflate((tail + remainder) / (head + tail + remainder), n - kept, n);
}

SearchResult mc_search(const KeyCells& cells, const Eigen::VectorXd& query, double scale,
                       const McSearchOptions& options) {
  check_eps(options.eps, "mc_search");
  const std::size_t n = cells.n(), count = cells.cells();
  std::vector<double> upper(count);
  cells.upper_bounds(query, scale, options.upper_bound, upper);

  // Visiting order: decreasing U_j, ties by cell index.
  std::vector<std::uint32_t> order(count);
  std::iota(order.begin(), order.end(), 0u);
  std::sort(order.begin(), order.end(), [&upper](std::uint32_t a, std::uint32_t b) {
    return upper[a] > upper[b] || (upper[a] == upper[b] && a < b);
  });
  // rest_after[v]: the cells after the v-th visit, R = order[v+1..), as (U_top, scaled mass),
  // with the scaled mass summed from the bottom by T_v = |C_v| + T_{v+1} e^{U_{v+1} − U_v}
  // (factors <= 1: no overflow, relative accuracy kept).
  std::vector<Remainder> rest_after(count);
  {
    double scaled = 0.0;
    for (std::size_t v = count; v-- > 1;) {
      const double u = upper[order[v]];
      if (u == kInf) {
        scaled = kInf;
      } else {
        const double below = v + 1 < count ? upper[order[v + 1]] : -kInf;
        scaled = static_cast<double>(cells.cell_size(order[v])) +
                 (v + 1 < count ? scaled * elementary::exp(below - u) : 0.0);
      }
      rest_after[v - 1] = Remainder{u, scaled};
    }
  }

  std::vector<std::pair<double, std::uint32_t>> scored;  // (logit, key)
  scored.reserve(n);
  std::vector<double> cell_logits, sorted_logits, tails;
  double top = -kInf, sum = 0.0;  // online Σ_S e^{s − top}
  std::size_t visited = 0, kept = 0;
  double bound = 1.0;
  auto by_logit = [](const std::pair<double, std::uint32_t>& a,
                     const std::pair<double, std::uint32_t>& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  };
  for (std::size_t v = 0; v < count; ++v) {
    const std::uint32_t cell = order[v];
    const auto members = cells.members(cell);
    cell_logits.resize(members.size());
    cells.score_cell(query, scale, cell, cell_logits);
    for (std::size_t p = 0; p < members.size(); ++p) {
      const double s = cell_logits[p];
      scored.emplace_back(s, members[p]);
      if (s > top) {
        sum = sum * elementary::exp(top - s) + 1.0;
        top = s;
      } else {
        sum += elementary::exp(s - top);
      }
    }
    visited = v + 1;
    const Remainder rest = visited < count ? rest_after[v] : Remainder{};
    // A cheap test first (K = S is the best kept set: the certificate only grows as keys leave
    // K): only near or below eps is the exact, sorted certificate computed, and it decides.
    if (rest.top == kInf) continue;
    if (rest.top != -kInf) {
      const double ref = std::max(top, rest.top);
      const double a = sum * elementary::exp(top - ref),
                   b = rest.scaled * elementary::exp(rest.top - ref);
      if (b / (a + b) > options.eps * (1.0 + 1e-6)) continue;
    }
    std::sort(scored.begin(), scored.end(), by_logit);
    sorted_logits.resize(scored.size());
    for (std::size_t p = 0; p < scored.size(); ++p)
      sorted_logits[p] = scored[p].first;
    const std::size_t k_min = options.kept == KeptMode::kTopk ? 1 : scored.size();
    const auto [k, certificate] =
        smallest_certified(sorted_logits, k_min, rest, n, options.eps, tails);
    if (k > 0) {
      kept = k;
      bound = certificate;
      break;
    }
  }
  // The last visit always certifies (R = ∅, K = S = every key gives 0), so kept > 0 here.

  SearchResult result;
  result.n = n;
  result.cells = count;
  result.cells_visited = visited;
  result.scored = scored.size();
  result.summaries_read = count;
  result.kept = kept;
  result.bound = bound;
  result.dense_fallback = visited == count;
  result.stop = result.dense_fallback ? SearchStop::kDenseFallback : SearchStop::kCertified;
  result.certified = true;
  result.summary_cost = options.cost.summary_cost;
  result.cost = static_cast<double>(result.scored) +
                options.cost.summary_cost * static_cast<double>(result.summaries_read);
  result.kept_keys.reserve(kept);
  result.kept_logits.reserve(kept);
  for (std::size_t p = 0; p < kept; ++p) {
    result.kept_keys.push_back(scored[p].second);
    result.kept_logits.push_back(scored[p].first);
  }
  for (std::size_t p = kept; p < scored.size(); ++p)
    result.dropped_keys.push_back(scored[p].second);
  result.unvisited_cells.assign(order.begin() + static_cast<std::ptrdiff_t>(visited), order.end());
  if (options.true_tau) {
    result.true_tau = kept_set_tau(cells.logits(query, scale), result.kept_keys);
  }
  return result;
}

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
  check_eps(eps, "Δk-Search");
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
