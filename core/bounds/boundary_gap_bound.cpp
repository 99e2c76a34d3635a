// B1, the single boundary-gap bound tau_k <= 1 / (1 + (k/(n−k)) e^{Δ_k}) (THEORY §2):
// L̲ = k e^{s_(k)}, Ū = (n−k) e^{s_(k+1)}; uses two logits and n, k. Registered as "b1".
#include <algorithm>
#include <memory>

#include "core/bounds/bound.h"
#include "core/bounds/bound_registry.h"
#include "core/bounds/clear_failure_scan.h"
#include "core/kernels/kernel_set.h"
#include "core/numerics/elementary.h"

namespace tvk {
namespace {

//! B1. Sharp when all head logits are equal and all tail logits are equal.
class BoundaryGapBound final : public TopkBound {
 public:
  std::string name() const override { return "b1"; }
  std::string description() const override {
    return "single boundary gap: 1/(1 + k/(n-k) e^(s_(k) - s_(k+1)))";
  }
  double value(const TailProfile& profile, std::size_t k) const override;
  std::vector<std::size_t> ranks_read(std::size_t n, std::size_t k) const override;
  //! Same results as TopkBound::certify, without an exp for every k it passes over.
  void certify(const TailProfile& profile, std::span<const double> eps,
               std::span<const std::size_t> k_eps, std::span<Certificate> out,
               BoundScratch& scratch) const override;
};

}  // namespace

double BoundaryGapBound::value(const TailProfile& profile, std::size_t k) const {
  const std::size_t n = profile.n();
  if (k >= n) return 0.0;
  // Gap form 1 / (1 + k/(n−k) e^{Δ_k}): Δ_k >= 0, so no 0/0 even when both weights underflow.
  const double gap = profile.logit(k) - profile.logit(k + 1);
  return 1.0 / (1.0 + static_cast<double>(k) / static_cast<double>(n - k) * elementary::exp(gap));
}

void BoundaryGapBound::certify(const TailProfile& profile, std::span<const double> eps,
                               std::span<const std::size_t> k_eps, std::span<Certificate> out,
                               BoundScratch& /*scratch*/) const {
  const std::size_t n = profile.n();
  const double nd = static_cast<double>(n);
  const double* w = profile.weights().data();
  for (std::size_t i = 0; i < eps.size(); ++i) {
    // B1_k <= eps  <=>  k w_k >= c (n−k) w_{k+1} with c = (1−eps)/eps, since e^{Δ_k} =
    // w_k / w_{k+1}. The weight test is only a filter: a k that fails it by more than a
    // 1e-9 relative margin (far above rounding) cannot pass the exact test, every other k
    // gets the exact value, so the result equals the plain scan's. Away from underflow
    // (w_{k+1} > 1e-290) the weight ratio is exact enough for that.
    const double c = (1.0 - eps[i]) / eps[i] * (1.0 - 1e-9);
    const std::size_t k = std::max<std::size_t>(k_eps[i], 1);
    const auto skip = [w, n, c, nd, filter = kernels::active_kernels().b1_skip](std::size_t kk) {
      return filter(w, kk, n, c, nd);
    };
    out[i] = certificate(profile, filtered_certified_k(*this, profile, eps[i], k, skip));
  }
}

std::vector<std::size_t> BoundaryGapBound::ranks_read(std::size_t n, std::size_t k) const {
  // s_(k+1); s_(k) is the last kept rank.
  if (k >= n) return {};
  return {k + 1};
}

BoundEntry b1_bound_entry() {
  return {"b1", [](const BoundOptions&) { return std::make_unique<BoundaryGapBound>(); }};
}

}  // namespace tvk
