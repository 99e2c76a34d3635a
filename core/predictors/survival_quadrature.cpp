#include "core/predictors/survival_quadrature.h"

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

#include "core/predictors/finite_n_numerics.h"

namespace tvk::finite_n {

double integrate_over_survival(const KeptFunction& kept, double q_guess, double tolerance,
                               double floor, const std::vector<double>& breaks) {
  const double t_min = logit(kQMin), t_max = logit(1.0 - kQMin);
  std::vector<double> break_t;
  for (double q : breaks) {
    if (q > kQMin && q < 1.0 - kQMin) break_t.push_back(logit(q));
  }
  constexpr double kSteering = 1e-4;  // tolerance of the evaluations that only place panels
  auto at = [&](double t, double tol) { return kept(survival_of(t), tol); };

  // A point inside the transition (0.1 <= P <= 0.9 where one is found quickly).
  double t_c = std::clamp(logit(std::clamp(q_guess, kQMin, 1.0 - kQMin)), t_min, t_max);
  double p_c = at(t_c, kSteering);
  double move = 0.5;
  for (int i = 0; i < 16 && (p_c > 0.9 || p_c < 0.1); ++i) {
    const bool right = p_c > 0.9;
    const double t_new = std::clamp(t_c + (right ? move : -move), t_min, t_max);
    if (t_new == t_c) break;
    const double p_new = at(t_new, kSteering);
    if ((right && p_new < 0.1) || (!right && p_new > 0.9)) {
      move *= 0.5;  // jumped over the transition
      continue;
    }
    t_c = t_new;
    p_c = p_new;
    move *= 2.0;
  }
  // Width of the transition from the local slope (a logistic of scale w has slope 1/(4w)).
  const double delta = 0.05;
  const double slope = std::fabs(at(std::min(t_c + delta, t_max), kSteering) - p_c) / delta;
  const double width = std::clamp(slope > 0.0 ? 0.25 / slope : 1.0, 0.02, 1.0);

  const UnitRule& rule = unit_rule();
  const double q_c = survival_of(t_c);
  const double absolute_tolerance = 0.1 * tolerance * std::max(q_c, floor);
  double total = q_c;
  for (int side : {+1, -1}) {
    double a = t_c, panel = width;
    const double end = side > 0 ? t_max : t_min;
    for (int count = 0; count < 200 && a != end; ++count, panel *= 2.0) {
      double b = side > 0 ? std::min(a + panel, end) : std::max(a - panel, end);
      for (double t : break_t) {
        if ((side > 0 && t > a && t < b) || (side < 0 && t < a && t > b)) b = t;
      }
      double contribution = 0.0, remainder = 0.0;
      for (std::size_t i = 0; i < kRule; ++i) {
        const double t = a + (b - a) * rule.x[i];
        const double q = survival_of(t);
        const double tol = std::clamp(tolerance * q_c / q, tolerance, std::max(1e-2, tolerance));
        const double p = at(t, tol);
        const double weight = std::fabs(b - a) * rule.w[i] * q * (1.0 - q);
        contribution += weight * (side > 0 ? p : p - 1.0);
        // The node furthest out bounds what is left by monotonicity.
        remainder = side > 0 ? p * (1.0 - q) : (1.0 - p) * q;
      }
      total += contribution;
      a = b;
      if (remainder < absolute_tolerance) break;
    }
  }
  return total;
}

double sum_non_increasing(const std::function<double(std::size_t)>& g, std::size_t count,
                          double tolerance) {
  const double tiny = 1e-3 * tolerance;
  if (count <= 256) {
    double sum = 0.0;
    for (std::size_t i = 1; i <= count; ++i) {
      const double value = g(i);
      sum += value;
      if (value < tiny) break;  // the rest are smaller still
    }
    return sum;
  }
  // First index in [1, count + 1] where g < level (g non-increasing).
  auto first_below = [&](double level) {
    std::size_t lo = 1, hi = count + 1;
    while (lo < hi) {
      const std::size_t mid = lo + (hi - lo) / 2;
      if (g(mid) < level) {
        hi = mid;
      } else {
        lo = mid + 1;
      }
    }
    return lo;
  };
  const std::size_t first = first_below(1.0 - tiny);
  const std::size_t last = first_below(tiny);
  double sum = static_cast<double>(first - 1);
  const std::size_t span = last - first;
  const std::size_t stride = span <= 4096 ? 1 : (span + 4095) / 4096;
  if (stride == 1) {
    for (std::size_t i = first; i < last; ++i)
      sum += g(i);
    return sum;
  }
  // Trapezoid over the sampled indices (g varies slowly on this scale).
  double previous = g(first);
  std::size_t at = first;
  while (at < last) {
    const std::size_t next = std::min(at + stride, last);
    const double value = next < last ? g(next) : (last <= count ? g(last) : 0.0);
    sum += 0.5 * (previous + value) * static_cast<double>(next - at);
    previous = value;
    at = next;
  }
  return sum;
}

}  // namespace tvk::finite_n
