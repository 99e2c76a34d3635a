#include "core/tail_profile.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>

namespace tvk {

void TailProfile::assign(std::span<const double> logits) {
  scratch_.clear();
  position_.clear();
  for (std::size_t i = 0; i < logits.size(); ++i) {
    const double s = logits[i];
    if (std::isnan(s) || s == HUGE_VAL) {
      throw std::domain_error("logit " + std::to_string(i + 1) + " is " +
                              (std::isnan(s) ? "NaN" : "+inf"));
    }
    if (s == -HUGE_VAL) continue;  // an explicit mask: the key is removed from the row
    position_.push_back(static_cast<std::uint32_t>(scratch_.size()));
    scratch_.push_back(s);
  }
  const std::size_t n = scratch_.size();
  if (n == 0) throw std::domain_error("the row has no unmasked logit");

  // Descending by logit, ties by key position: the head is deterministic.
  std::sort(position_.begin(), position_.end(), [this](std::uint32_t a, std::uint32_t b) {
    return scratch_[a] > scratch_[b] || (scratch_[a] == scratch_[b] && a < b);
  });
  sorted_.resize(n);
  weight_.resize(n);
  for (std::size_t r = 0; r < n; ++r)
    sorted_[r] = scratch_[position_[r]];
  const double top = sorted_[0];
  for (std::size_t r = 0; r < n; ++r)
    weight_[r] = std::exp(sorted_[r] - top);

  tail_.resize(n + 1);
  head_.resize(n + 1);
  tail_[n] = 0.0;
  for (std::size_t r = n; r-- > 0;)
    tail_[r] = tail_[r + 1] + weight_[r];  // smallest first
  head_[0] = 0.0;
  for (std::size_t r = 0; r < n; ++r)
    head_[r + 1] = head_[r] + weight_[r];
}

std::size_t TailProfile::k_eps(double eps) const {
  // tau_k is non-increasing (the tail sums only add positive terms), so bisect on k in [1, n].
  std::size_t lo = 1, hi = n();  // tau_n = 0 <= eps always
  while (lo < hi) {
    const std::size_t mid = lo + (hi - lo) / 2;
    if (tau(mid) <= eps) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  return lo;
}

std::vector<std::size_t> k_eps(const TailProfile& profile, std::span<const double> eps) {
  std::vector<std::size_t> out(eps.size());
  std::transform(eps.begin(), eps.end(), out.begin(),
                 [&profile](double e) { return profile.k_eps(e); });
  return out;
}

}  // namespace tvk
