#include "core/bounds/bound.h"

namespace tvk {

std::size_t TopkBound::certified_k(const TailProfile& profile, double eps,
                                   std::size_t k_start) const {
  const std::size_t n = profile.n();
  for (std::size_t k = k_start < 1 ? 1 : k_start; k < n; ++k) {
    if (value(profile, k) <= eps) return k;
  }
  return n;  // B_n = 0: keeping every key is always certified
}

void TopkBound::certify(const TailProfile& profile, std::span<const double> eps,
                        std::span<const std::size_t> k_eps, std::span<Certificate> out,
                        BoundScratch& /*scratch*/) const {
  for (std::size_t i = 0; i < eps.size(); ++i) {
    out[i] = certificate(profile, certified_k(profile, eps[i], k_eps[i]));
  }
}

Certificate TopkBound::certificate(const TailProfile& profile, std::size_t k) const {
  return Certificate{k, k == profile.n() ? 0.0 : value(profile, k), profile.tau(k)};
}

}  // namespace tvk
