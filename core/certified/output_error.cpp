#include "core/certified/output_error.h"
#include "core/numerics/vector_norms.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace tvk {

OutputError output_error(const TailProfile& profile, const Eigen::MatrixXd& values, std::size_t k) {
  const std::size_t n = profile.n();
  if (static_cast<std::size_t>(values.rows()) != n) {
    throw std::invalid_argument("output_error: values has " + std::to_string(values.rows()) +
                                " rows for a row of " + std::to_string(n) + " keys");
  }
  if (k < 1 || k > n) throw std::invalid_argument("output_error: k out of range");
  const auto w = profile.weights();
  const auto pos = profile.positions();
  const double z = profile.total();
  const double head = profile.head_weight(k);
  const double tail = profile.tail_weight(k);
  const Eigen::Index d = values.cols();

  OutputError out;
  out.tau = profile.tau(k);
  // Weighted sums from the bottom of the order, like every tail quantity.
  Eigen::VectorXd tail_sum = Eigen::VectorXd::Zero(d), head_sum = Eigen::VectorXd::Zero(d);
  for (std::size_t r = n; r-- > k;)
    tail_sum += w[r] * values.row(pos[r]).transpose();
  for (std::size_t r = k; r-- > 0;)
    head_sum += w[r] * values.row(pos[r]).transpose();

  // Definitions: Attn = Σ P_i v_i, Attn_k = Σ_H P̂_i v_i.
  const Eigen::VectorXd attn = (head_sum + tail_sum) / z;
  const Eigen::VectorXd mu_head = head_sum / head;
  out.exact = euclidean_norm(attn - mu_head);

  if (tail > 0.0) {
    const Eigen::VectorXd mu_tail = tail_sum / tail;
    out.factorised = out.tau * euclidean_norm(mu_tail - mu_head);
  }
  double diameter = 0.0, radius = 0.0, largest = 0.0, variance = 0.0;
  for (std::size_t r = n; r-- > 0;) {
    const auto v = values.row(pos[r]);
    largest = std::max(largest, euclidean_norm(v));
    variance += w[r] / z * squared_norm(v.transpose() - attn);
    if (r < k) continue;
    radius = std::max(radius, euclidean_norm(v.transpose() - mu_head));
    for (std::size_t h = 0; h < k; ++h) {
      diameter = std::max(diameter, euclidean_norm(v - values.row(pos[h])));
    }
  }
  out.diameter = out.tau * diameter;
  out.head_radius = out.tau * radius;
  out.variance = out.tau < 1.0 ? std::sqrt(out.tau / (1.0 - out.tau) * variance) : 0.0;
  out.generic = 2.0 * out.tau * largest;
  return out;
}

}  // namespace tvk
