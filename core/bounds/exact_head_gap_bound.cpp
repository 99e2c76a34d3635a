#include "core/bounds/exact_head_gap_bound.h"

namespace tvk {

double ExactHeadGapBound::value(const TailProfile& profile, std::size_t k) const {
  const std::size_t n = profile.n();
  if (k >= n) return 0.0;
  // Weights are max-subtracted, so L >= 1 and the ratio never divides by zero.
  const double upper_tail = static_cast<double>(n - k) * profile.weights()[k];
  return upper_tail / (profile.head_weight(k) + upper_tail);
}

}  // namespace tvk
