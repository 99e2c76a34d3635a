#include "core/certified/mc_search.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <utility>
#include <vector>

#include "core/certified/rounding.h"
#include "core/numerics/elementary.h"

namespace tvk {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

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
  check_search_eps(options.eps, "mc_search");
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

}  // namespace tvk
