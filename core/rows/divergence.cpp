#include "core/rows/divergence.h"

#include <cmath>
#include <limits>

#include "core/numerics/elementary.h"

namespace tvk {

double tv_half_l1_direct(const TailProfile& profile, std::size_t k) {
  const auto w = profile.weights();
  const double z = profile.total();
  const double head = profile.head_weight(k);
  double head_sum = 0.0;
  double tail_sum = 0.0;
  for (std::size_t r = profile.n(); r-- > k;)
    tail_sum += w[r] / z;  // P̂ is 0 on the tail
  for (std::size_t r = k; r-- > 0;)
    head_sum += std::abs(w[r] / head - w[r] / z);
  return 0.5 * (head_sum + tail_sum);
}

double kl_truncated_to_full(double tau) {
  return -elementary::log1p(-tau);
}

double kl_truncated_to_full_direct(const TailProfile& profile, std::size_t k) {
  const auto w = profile.weights();
  const double z = profile.total();
  const double head = profile.head_weight(k);
  double kl = 0.0;
  for (std::size_t r = k; r-- > 0;) {
    const double p_hat = w[r] / head;
    if (p_hat > 0.0) kl += p_hat * elementary::log(p_hat / (w[r] / z));
  }
  return kl;
}

double kl_full_to_truncated_direct(const TailProfile& profile, std::size_t k) {
  const auto w = profile.weights();
  const double z = profile.total();
  const double head = profile.head_weight(k);
  double kl = 0.0;
  for (std::size_t r = profile.n(); r-- > 0;) {
    const double p = w[r] / z;
    if (p == 0.0) continue;                                      // 0 · ln 0 = 0
    if (r >= k) return std::numeric_limits<double>::infinity();  // P̂_i = 0 < P_i
    kl += p * elementary::log(p / (w[r] / head));
  }
  return kl;
}

double tv_from_kl(double kl) {
  return -elementary::expm1(-kl);
}

double pinsker_bound(double kl) {
  return std::sqrt(kl / 2.0);
}

double bretagnolle_huber_bound(double kl) {
  return std::sqrt(-elementary::expm1(-kl));
}

}  // namespace tvk
