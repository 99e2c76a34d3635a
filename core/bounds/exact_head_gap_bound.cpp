// B2, exact head and boundary gap (the project's own, THEORY §2): L exact,
// Ū = (n−k) e^{s_(k+1)}. Registered as "b2".
#include <algorithm>
#include <memory>

#include "core/bounds/bound.h"
#include "core/bounds/bound_registry.h"
#include "core/bounds/clear_failure_scan.h"
#include "core/kernels/kernel_set.h"

namespace tvk {
namespace {

//! B2.
class ExactHeadGapBound final : public TopkBound {
 public:
  std::string name() const override { return "b2"; }
  std::string description() const override {
    return "exact head, boundary gap: (n-k) e^s_(k+1) / (L + (n-k) e^s_(k+1))";
  }
  double value(const TailProfile& profile, std::size_t k) const override;
  std::vector<std::size_t> ranks_read(std::size_t n, std::size_t k) const override;
  //! The scan of TopkBound::certify with clear failures skipped in blocks (same results).
  void certify(const TailProfile& profile, std::span<const double> eps,
               std::span<const std::size_t> k_eps, std::span<Certificate> out,
               BoundScratch& scratch) const override;
};

}  // namespace

double ExactHeadGapBound::value(const TailProfile& profile, std::size_t k) const {
  const std::size_t n = profile.n();
  if (k >= n) return 0.0;
  // Weights are max-subtracted, so L >= 1 and the ratio never divides by zero.
  const double upper_tail = static_cast<double>(n - k) * profile.weights()[k];
  return upper_tail / (profile.head_weight(k) + upper_tail);
}

void ExactHeadGapBound::certify(const TailProfile& profile, std::span<const double> eps,
                                std::span<const std::size_t> k_eps, std::span<Certificate> out,
                                BoundScratch& /*scratch*/) const {
  const std::size_t n = profile.n();
  const double nd = static_cast<double>(n);
  const double* w = profile.weights().data();
  const double* head = profile.head_weights().data();
  for (std::size_t i = 0; i < eps.size(); ++i) {
    // B2_k = U / (L + U) <= eps  <=>  U (1 − eps) <= eps L with U = (n−k) w_{k+1}: a k whose
    // U (1 − eps) exceeds eps L by a 1e-9 relative margin (far above rounding) fails the
    // exact test too; every other k gets the exact value.
    const double keep = 1.0 - eps[i];
    const double margin = eps[i] * (1.0 + 1e-9);
    const std::size_t k = std::max<std::size_t>(k_eps[i], 1);
    const auto skip = [w, head, n, keep, margin, nd, filter = kernels::active_kernels().b2_skip](
                          std::size_t kk) { return filter(w, head, kk, n, keep, margin, nd); };
    out[i] = certificate(profile, filtered_certified_k(*this, profile, eps[i], k, skip));
  }
}

std::vector<std::size_t> ExactHeadGapBound::ranks_read(std::size_t n, std::size_t k) const {
  // s_(k+1); the exact head is the kept ranks.
  if (k >= n) return {};
  return {k + 1};
}

BoundEntry b2_bound_entry() {
  return {"b2", [](const BoundOptions&) { return std::make_unique<ExactHeadGapBound>(); }};
}

}  // namespace tvk
