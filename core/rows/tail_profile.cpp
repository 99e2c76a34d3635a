#include "core/rows/tail_profile.h"

#include "core/kernels/kernel_set.h"
#include "core/rows/descending_order.h"
#include "core/rows/value_range.h"
#include "core/rows/vector_exp.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>

namespace tvk {

void TailProfile::assign(std::span<const double> logits) {
  // Masked keys (-inf) are removed; NaN and +inf are errors. Rows without masks (the common
  // case) are sorted in place of a copy; one vectorised pass finds the range and whether the
  // row is finite.
  if (logits.empty()) throw std::domain_error("the row has no unmasked logit");
  ValueRange range = value_range(logits);
  std::span<const double> row = logits;
  if (!range.finite()) {
    scratch_.clear();
    for (std::size_t i = 0; i < logits.size(); ++i) {
      const double s = logits[i];
      if (std::isnan(s) || s == HUGE_VAL) {
        throw std::domain_error("logit " + std::to_string(i + 1) + " is " +
                                (std::isnan(s) ? "NaN" : "+inf"));
      }
      if (s != -HUGE_VAL) scratch_.push_back(s);
    }
    row = scratch_;
    if (row.empty()) throw std::domain_error("the row has no unmasked logit");
    range = value_range(row);
  }
  const std::size_t n = row.size();

  // Descending by logit, ties by key position: the head is deterministic.
  descending_order(row, range, position_, sort_scratch_);
  sorted_.resize(n);
  weight_.resize(n);
  kernels::active_kernels().gather(row.data(), position_.data(), n, sorted_.data());
  exp_shifted(sorted_, sorted_[0], weight_);
  weight_[0] = 1.0;  // exp(0), whatever the vector routine

  tail_.resize(n + 1);
  head_.resize(n + 1);
  tail_[n] = 0.0;
  head_[0] = 0.0;
  // Two independent chains in one loop: the tail from the bottom (smallest terms first) and
  // the head from the top, each in a register.
  double tail = 0.0, head = 0.0;
  const double* w = weight_.data();
  double* tail_out = tail_.data();
  double* head_out = head_.data();
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t r = n - 1 - i;
    tail += w[r];
    tail_out[r] = tail;
    head += w[i];
    head_out[i + 1] = head;
  }
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
