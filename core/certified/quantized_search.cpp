#include "core/certified/quantized_search.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>
#include <utility>

#include "core/certified/mc_search.h"
#include "core/certified/rounding.h"
#include "core/numerics/elementary.h"

namespace tvk {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// The same outward rounding as mc_certificate (so the k chosen here is normally the one
// mc_certificate confirms); THEORY §11.
using rounding::inflate;

}  // namespace

SearchResult quantized_search(const QuantizedKeys& codes, std::size_t count,
                              const KeyScorer& scorer, const double* query, double scale,
                              const QuantizedSearchOptions& options,
                              QuantizedSearchScratch& scratch) {
  if (!(options.eps > 0.0 && options.eps < 1.0)) {
    throw std::invalid_argument("quantized_search: eps must be in (0, 1), got " +
                                std::to_string(options.eps));
  }
  if (count == 0 || count > codes.size()) {
    throw std::invalid_argument("quantized_search: count " + std::to_string(count) +
                                " must be in [1, " + std::to_string(codes.size()) + "]");
  }
  const std::size_t n = count;
  const double eps = options.eps;
  // Exact keys: [0, sinks) and [n − recent, n); bounded keys: [first, last).
  const std::size_t first = std::min(options.sinks, n);
  const std::size_t last = std::max(first, n - std::min(options.recent, n));
  const std::size_t bounded = last - first;

  std::vector<std::pair<double, std::uint32_t>> scored;  // (logit, key)
  scored.reserve(n);
  scratch.batch.clear();
  for (std::size_t j = 0; j < first; ++j)
    scratch.batch.push_back(static_cast<std::uint32_t>(j));
  for (std::size_t j = last; j < n; ++j)
    scratch.batch.push_back(static_cast<std::uint32_t>(j));
  scratch.scores.resize(scratch.batch.size());
  if (!scratch.batch.empty()) scorer.score(query, scratch.batch, scratch.scores.data());
  for (std::size_t p = 0; p < scratch.batch.size(); ++p)
    scored.emplace_back(scratch.scores[p], scratch.batch[p]);

  scratch.lo.resize(bounded);
  scratch.hi.resize(bounded);
  codes.logit_bounds(query, scale, first, last, scratch.lo.data(), scratch.hi.data());
  const std::vector<double>& hi = scratch.hi;
  scratch.order.resize(bounded);
  std::iota(scratch.order.begin(), scratch.order.end(), 0u);
  std::sort(scratch.order.begin(), scratch.order.end(), [&hi](std::uint32_t a, std::uint32_t b) {
    return hi[a] > hi[b] || (hi[a] == hi[b] && a < b);
  });
  const std::vector<std::uint32_t>& order = scratch.order;

  // A reference >= every exponent that will ever appear: every logit is <= its hi.
  double ref = bounded > 0 ? hi[order[0]] : -kInf;
  for (const auto& entry : scored)
    ref = std::max(ref, entry.first);
  const bool finite = std::isfinite(ref);
  // suffix[p] = Σ_{i >= p} e^{hi_{order[i]} − ref}, summed from the smallest up.
  std::vector<double> suffix(bounded + 1, 0.0);
  if (finite) {
    for (std::size_t p = bounded; p-- > 0;)
      suffix[p] = suffix[p + 1] + elementary::exp(hi[order[p]] - ref);
  }
  double head = 0.0;  // Σ_S e^{s − ref}
  if (finite) {
    for (const auto& entry : scored)
      head += elementary::exp(entry.first - ref);
  }

  auto by_logit = [](const std::pair<double, std::uint32_t>& a,
                     const std::pair<double, std::uint32_t>& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  };
  std::vector<double> sorted, tails, unvisited;
  std::vector<std::size_t> sizes;
  std::size_t kept = 0, visited = 0, next_full_check = 0;
  double bound = 1.0;
  // The certificate at visit `visited` (R = order[visited..)): the smallest certifying top-k,
  // confirmed by mc_certificate. Returns whether it certified.
  auto try_certify = [&]() -> bool {
    std::sort(scored.begin(), scored.end(), by_logit);
    const std::size_t m = scored.size();
    sorted.resize(m);
    for (std::size_t p = 0; p < m; ++p)
      sorted[p] = scored[p].first;
    double rest_top = visited < bounded ? hi[order[visited]] : -kInf;
    const double local_ref = std::max(m > 0 ? sorted[0] : -kInf, rest_top);
    double rest = 0.0;
    for (std::size_t p = bounded; p-- > visited;)
      rest += elementary::exp(hi[order[p]] - local_ref);
    tails.assign(m + 1, 0.0);
    for (std::size_t r = m; r-- > 0;)
      tails[r] = tails[r + 1] + elementary::exp(sorted[r] - local_ref);
    const double denominator = tails[0] + rest;
    std::size_t k = 1;
    while (k <= m && inflate((tails[k] + rest) / denominator, n - k, n) > eps)
      ++k;
    if (k > m) return false;
    unvisited.resize(bounded - visited);
    for (std::size_t p = visited; p < bounded; ++p)
      unvisited[p - visited] = hi[order[p]];
    sizes.assign(unvisited.size(), 1);
    for (; k <= m; ++k) {  // confirm with the rigorous function (normally at once)
      const double certificate = mc_certificate(sorted, k, unvisited, sizes, n);
      if (certificate <= eps) {
        kept = k;
        bound = certificate;
        return true;
      }
    }
    return false;
  };

  std::uint32_t key = 0;
  for (;;) {
    if (visited == bounded) {  // every key scored: R = ∅ always certifies (K = S gives 0)
      if (!try_certify()) {
        throw std::logic_error("quantized_search: the fully scored row did not certify");
      }
      break;
    }
    if (finite) {
      const double rest = suffix[visited];
      const double cheap = inflate(rest / (head + rest), n - scored.size(), n);
      // When every weight left underflowed against the fixed reference (a loose bound far
      // above the logits), the cheap test says nothing: let the exact certificate decide.
      const bool underflow = !(head + rest >= 0x1p-900);
      if ((cheap <= eps || underflow) && scored.size() >= next_full_check) {
        if (try_certify()) break;
        // Rounding differences only: retry after a few more keys, not at every step.
        next_full_check = scored.size() + std::max<std::size_t>(1, scored.size() / 8);
      }
    }
    key = static_cast<std::uint32_t>(first + order[visited]);
    double s = 0.0;
    scorer.score(query, std::span<const std::uint32_t>(&key, 1), &s);
    scored.emplace_back(s, key);
    if (finite) head += elementary::exp(s - ref);
    ++visited;
  }
  std::sort(scored.begin(), scored.end(), by_logit);

  SearchResult result;
  result.n = n;
  result.cells = bounded;
  result.cells_visited = visited;
  result.scored = scored.size();
  result.summaries_read = bounded;
  result.kept = kept;
  result.bound = bound;
  result.dense_fallback = scored.size() == n;
  result.stop = result.dense_fallback ? SearchStop::kDenseFallback : SearchStop::kCertified;
  result.certified = true;
  result.summary_cost = 1.0;
  result.cost = static_cast<double>(result.scored) + static_cast<double>(result.summaries_read);
  result.bytes = static_cast<double>(result.summaries_read) * codes.bytes_per_key() +
                 options.bytes.keys(result.scored) + options.bytes.values(result.kept);
  result.kept_keys.reserve(kept);
  result.kept_logits.reserve(kept);
  for (std::size_t p = 0; p < kept; ++p) {
    result.kept_keys.push_back(scored[p].second);
    result.kept_logits.push_back(scored[p].first);
  }
  for (std::size_t p = kept; p < scored.size(); ++p)
    result.dropped_keys.push_back(scored[p].second);
  return result;
}

}  // namespace tvk
