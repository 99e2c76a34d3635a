#pragma once
//! \file Numerical helpers shared by the score models: the standard normal law, an open-interval
//! uniform draw, root finding and number formatting for messages. Boost.Math is used with a
//! policy that returns inf/NaN instead of throwing, since callers handle the edges themselves.

#include <boost/math/policies/policy.hpp>
#include <boost/math/special_functions/erf.hpp>
#include <boost/math/tools/roots.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>
#include <string>

#include "core/random/stream.h"

namespace tvk::numerics {

//! Boost.Math policy for model code: no exceptions (edges are handled by the callers).
using MathPolicy = boost::math::policies::policy<
    boost::math::policies::domain_error<boost::math::policies::ignore_error>,
    boost::math::policies::pole_error<boost::math::policies::ignore_error>,
    boost::math::policies::overflow_error<boost::math::policies::ignore_error>,
    boost::math::policies::evaluation_error<boost::math::policies::ignore_error>>;

//! Standard normal density.
inline double normal_pdf(double z) {
  return std::exp(-0.5 * z * z) / std::sqrt(2.0 * std::numbers::pi);
}

//! Standard normal CDF Phi(z), accurate in relative terms for z -> -inf.
inline double normal_cdf(double z) {
  return 0.5 * boost::math::erfc(-z / std::numbers::sqrt2, MathPolicy());
}

//! Standard normal survival Phi_c(z) = 1 - Phi(z), accurate in relative terms for z -> +inf.
inline double normal_ccdf(double z) {
  return 0.5 * boost::math::erfc(z / std::numbers::sqrt2, MathPolicy());
}

//! Phi^{-1}(p) for p in (0, 1); -inf at 0, +inf at 1.
inline double normal_quantile(double p) {
  if (p <= 0.0) return -std::numeric_limits<double>::infinity();
  if (p >= 1.0) return std::numeric_limits<double>::infinity();
  return -std::numbers::sqrt2 * boost::math::erfc_inv(2.0 * p, MathPolicy());
}

//! Phi_c^{-1}(q), the inverse survival function, for q in (0, 1); accurate for tiny q.
inline double normal_cquantile(double q) {
  if (q <= 0.0) return std::numeric_limits<double>::infinity();
  if (q >= 1.0) return -std::numeric_limits<double>::infinity();
  return std::numbers::sqrt2 * boost::math::erfc_inv(2.0 * q, MathPolicy());
}

//! tau_inf(rho) of N(mu, sigma^2): the tilted law is N(mu + sigma^2, sigma^2), so
//! tau_inf(rho) = Phi(Phi_c^{-1}(rho) - sigma), free of mu (THEORY §4). rho in (0, 1).
inline double gaussian_tail_mass_limit(double sigma, double rho) {
  return normal_cdf(normal_cquantile(rho) - sigma);
}

//! rho_eps of N(mu, sigma^2): Phi_c(sigma + Phi^{-1}(eps)), the paper's rule. eps in (0, 1).
inline double gaussian_k_fraction(double sigma, double eps) {
  return normal_ccdf(sigma + normal_quantile(eps));
}

//! Uniform double in the open interval (0, 1): 52 random bits centred in their cell, so that
//! k + 0.5 is exact and the result lies in [2^-53, 1 - 2^-53]; inverse-CDF transforms never
//! see log(0).
inline double uniform_open01(RandomStream& stream) {
  return (static_cast<double>(stream() >> 12) + 0.5) * 0x1.0p-52;
}

//! Root of a monotone function f on [lo, hi] where f(lo) and f(hi) differ in sign (TOMS 748).
//! Stops when the bracket is below ~1e-15 relative (absolute near 0).
template <class F>
double find_root(F f, double lo, double hi) {
  double f_lo = f(lo);
  double f_hi = f(hi);
  if (f_lo == 0.0) return lo;
  if (f_hi == 0.0) return hi;
  if (lo == hi || (f_lo > 0.0) == (f_hi > 0.0)) {
    // No sign change: the nearer end in |f| is the best available answer.
    return std::fabs(f_lo) < std::fabs(f_hi) ? lo : hi;
  }
  std::uintmax_t max_iter = 200;
  auto tolerance = [](double a, double b) {
    return std::fabs(b - a) <= 4e-16 * std::fmax(1.0, std::fmin(std::fabs(a), std::fabs(b)));
  };
  auto [a, b] =
      boost::math::tools::toms748_solve(f, lo, hi, f_lo, f_hi, tolerance, max_iter, MathPolicy());
  return 0.5 * (a + b);
}

}  // namespace tvk::numerics
