#include "core/certified/oracle_topk_search.h"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string>

#include "core/certified/rounding.h"

namespace tvk {

SearchResult oracle_topk_search(std::span<const double> logits, double eps,
                                OracleTopkScratch& scratch) {
  if (!(eps > 0.0 && eps < 1.0)) {
    throw std::invalid_argument("oracle_topk: eps must be in (0, 1), got " + std::to_string(eps));
  }
  TailProfile& profile = scratch.profile;
  std::vector<std::uint32_t>& unmasked = scratch.unmasked;
  const std::size_t n = logits.size();
  profile.assign(logits);
  // TailProfile positions count unmasked keys only: map them back to key indices.
  unmasked.clear();
  if (profile.n() != n) {
    for (std::size_t i = 0; i < n; ++i) {
      if (logits[i] != -std::numeric_limits<double>::infinity()) {
        unmasked.push_back(static_cast<std::uint32_t>(i));
      }
    }
  }
  const auto key_of = [&](std::uint32_t position) {
    return unmasked.empty() ? position : unmasked[position];
  };
  const std::size_t m = profile.n();
  const std::size_t k = profile.k_eps(eps);
  SearchResult result;
  result.n = n;
  result.certified = true;
  result.scored = n;
  result.kept = k;
  const auto positions = profile.positions();
  const auto sorted = profile.sorted_logits();
  result.kept_keys.reserve(k);
  for (std::size_t r = 0; r < k; ++r) {
    result.kept_keys.push_back(key_of(positions[r]));
    result.kept_logits.push_back(sorted[r]);
  }
  result.dropped_keys.reserve(m - k);
  for (std::size_t r = k; r < m; ++r)
    result.dropped_keys.push_back(key_of(positions[r]));
  result.dense_fallback = k == m;
  result.stop = result.dense_fallback ? SearchStop::kDenseFallback : SearchStop::kCertified;
  result.bound = std::min(eps, rounding::inflate(profile.tau(k), m - k, m));
  return result;
}

}  // namespace tvk
