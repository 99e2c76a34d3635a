#include "core/predictors/laplace_inversion.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <complex>
#include <cstddef>
#include <functional>
#include <limits>
#include <numbers>
#include <stdexcept>
#include <vector>

#include "core/predictors/term_law.h"

namespace tvk::finite_n {

double probability_below(const Others& others, double q, double y, double x, double tolerance,
                         Stats& stats) {
  ++stats.evaluations;
  if (others.count == 0) return x > 0.0 ? 1.0 : 0.0;
  if (std::isinf(x)) return x > 0.0 ? 1.0 : 0.0;
  const double eps = others.eps;
  if (others.count == 1) {
    // One term: its transform decays too slowly to invert cheaply, but its distribution
    // function is elementary. Below y, w = -(1-eps) r in (-(1-eps), 0); above, w = eps r > eps.
    const LogitLaw& law = *others.law;
    double p = 0.0;
    if (x > 0.0) {
      p += 1.0 - q;
    } else if (x > -(1.0 - eps)) {
      p += law.survival(y + std::log(-x / (1.0 - eps))) - q;
    }
    if (x > eps) p += q - law.survival(y + std::log(x / eps));
    return std::clamp(p, 0.0, 1.0);
  }
  const double count = static_cast<double>(others.count);
  TermLaw law(*others.law, eps, y, q, 1e-4 * tolerance / count);
  const double q_top = law.q_top();
  auto log_transform = [&](Complex lambda, Complex& log_all, Complex& log_none_above) {
    const auto [a, c] = law.parts(lambda);
    log_all = count * std::log(1.0 + a + c - q_top);
    log_none_above = count * std::log(law.u_top() + a);
  };

  // Scale of W below x (from A, the light side) for the first guess of gamma.
  const auto [m1, m2] = law.lower_moments();
  const double mean_a = count * m1;
  const double sd_a = std::sqrt(std::max(0.0, count * (m2 - m1 * m1)));
  const double alias = -std::log(1e-3 * tolerance);
  const double spread = std::fabs(x) + (1.0 - eps) * (mean_a + 6.0 * sd_a) + eps;
  const double gamma0 = alias / spread;

  // Choose gamma on a grid lambda_k = gamma0 2^k: both aliasing errors are below e^{-alias}
  // when gamma T >= alias + max(0, E(2 gamma)), E(lambda) = log M(lambda) + lambda x (a
  // Chernoff bound for the left one), and the terms stay below e^{kMaxExponent} (so that
  // cancellation in the sum costs no accuracy) when E(gamma) <= kMaxExponent. Among those,
  // the smallest T wins.
  constexpr int kLow = -14, kHigh = 7;
  constexpr double kMaxExponent = 8.0;
  std::array<double, kHigh - kLow + 1> grid{}, exponent{};
  double chernoff = 0.0;
  for (int k = kLow; k <= kHigh; ++k) {
    const double g = std::min(gamma0 * std::ldexp(1.0, k), 300.0);
    Complex log_all, unused;
    log_transform(Complex(g, 0.0), log_all, unused);
    grid[static_cast<std::size_t>(k - kLow)] = g;
    exponent[static_cast<std::size_t>(k - kLow)] = log_all.real() + g * x;
    chernoff = std::min(chernoff, log_all.real() + g * x);
  }
  // Fallback when even the smallest gamma gives large terms: x is then far above the bulk of
  // W and P is 1 to many digits, which the smallest gamma still resolves.
  double gamma = grid[0];
  double period = (alias + std::max(0.0, exponent[1])) / gamma;
  bool found = false;
  for (std::size_t k = 0; k + 1 < grid.size(); ++k) {
    if (exponent[k] > kMaxExponent) continue;
    const double t = (alias + std::max(0.0, exponent[k + 1])) / grid[k];
    if (!found || t < period) {
      period = t;
      gamma = grid[k];
      found = true;
    }
  }
  if (chernoff < std::log(1e-3 * tolerance)) return 0.0;  // P <= e^{chernoff}
  if (x > 0.0) {
    // 1 - P <= P(eps C >= x) <= P(S >= x), S = sum over the keys above y of min(eps r, x):
    // Cantelli's inequality with the mean and variance of S.
    const auto [g1, g2] = law.upper_capped_moments(x);
    const double mean = count * g1, variance = count * std::max(0.0, g2 - g1 * g1);
    if (x > mean) {
      const double bound = variance / (variance + (x - mean) * (x - mean));
      if (bound < 0.5 * tolerance) return 1.0 - 0.5 * bound;
    }
  }

  // With x > 0 the part "no other key above y" (W <= 0 < x) is kept for sure; invert only the
  // rest, whose transform decays much faster.
  const bool split_none_above = x > 0.0;
  const double step = 2.0 * std::numbers::pi / period;
  const double negligible = 1e-2 * tolerance * std::numbers::pi / step;  // per term, |value|
  auto term = [&](Complex lambda, Complex a, Complex c) {
    const Complex log_all = count * std::log(1.0 + a + c - q_top);
    Complex value = std::exp(log_all + lambda * x);
    if (split_none_above) value -= std::exp(count * std::log(law.u_top() + a) + lambda * x);
    return value / lambda;
  };

  // The transform need not decay monotonically: when the terms on one side of y are few and
  // concentrated near r = 1, W is close to a lattice and |M| revives near omega = 2 pi / (1 -
  // eps) (one key below y) or 2 pi / eps (one key above). Probe there; the sum must then run
  // past the revival. Beyond that, stop only after the terms stayed negligible over the last
  // half of the sum, or over 1.5 revival periods 2 pi / (1 - eps) when that is shorter.
  double omega_floor = 0.0;
  for (double base : {1.0 - eps, eps}) {
    for (double factor : {0.8, 0.9, 1.0, 1.1, 1.25, 1.45}) {
      const double omega = factor * 2.0 * std::numbers::pi / base;
      const Complex lambda(gamma, omega);
      const auto [a, c] = law.parts(lambda);
      if (std::abs(term(lambda, a, c)) > negligible)
        omega_floor = std::max(omega_floor, 1.3 * omega);
    }
  }
  // Terms in 1.5 revival periods of the keys below y: a later revival is seen before stopping.
  const auto window = static_cast<std::size_t>(3.0 * std::numbers::pi / ((1.0 - eps) * step)) + 1;
  double sum = 0.0;
  std::size_t last_large = 0;
  std::size_t j = 0;
  for (;; ++j) {
    const Complex lambda(gamma, static_cast<double>(j) * step);
    const auto [a, c] = law.parts_on_line(j, gamma, step);
    const Complex value = term(lambda, a, c);
    sum += (j == 0 ? 0.5 : 1.0) * value.real();
    if (std::abs(value) > negligible) last_large = j;
    if (j >= 8 && j - last_large > std::max<std::size_t>(5, std::min(j / 2, window)) &&
        lambda.imag() > omega_floor) {
      break;
    }
    if (j + 1 >= kMaxTerms) {
      ++stats.truncated;
      break;
    }
  }
  stats.terms += j + 1;
  double p = step / std::numbers::pi * sum;
  if (split_none_above) p += std::exp(count * std::log1p(-q_top));
  return std::clamp(p, 0.0, 1.0);
}

}  // namespace tvk::finite_n
