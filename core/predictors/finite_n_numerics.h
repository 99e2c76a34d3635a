#pragma once
//! \file What the pieces of the finite-n predictor share (core/predictors/finite_n_rule.h): the
//! numerical constants, Gauss-Legendre on [0, 1], cost counters and the logit map t = logit(q).
//! Internal to core/predictors/.

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

#include <boost/math/quadrature/gauss.hpp>

namespace tvk::finite_n {

using Complex = std::complex<double>;

constexpr std::size_t kRule = 8;   // Gauss-Legendre nodes per panel
constexpr double kQFloor = 1e-13;  // smallest tail probability evaluated through quantile(1 - q)
constexpr double kMaxSpan = 4.0;   // max |lambda| c (r_max - r_min) on one panel
constexpr int kMaxDepth = 40;      // panel subdivision limit
constexpr double kCut = 32.0;      // |lambda eps r| where the upper tail becomes asymptotic
constexpr double kDamped = 40.0;   // gamma eps r beyond which e^{-lambda eps r} is negligible
constexpr std::size_t kMaxTerms = 20000;  // Bromwich terms per inversion
constexpr double kQMin = 1e-12;           // outer integral: q in [kQMin, 1 - kQMin]

//! Gauss-Legendre on [0, 1].
struct UnitRule {
  std::array<double, kRule> x{}, w{};
};

inline const UnitRule& unit_rule() {
  static const UnitRule rule = [] {
    using Gauss = boost::math::quadrature::gauss<double, kRule>;
    const auto& abscissa = Gauss::abscissa();  // the kRule/2 positive nodes on [-1, 1]
    const auto& weights = Gauss::weights();
    constexpr std::size_t half = kRule / 2;
    UnitRule r;
    for (std::size_t i = 0; i < half; ++i) {
      r.x[half - 1 - i] = 0.5 * (1.0 - abscissa[i]);
      r.w[half - 1 - i] = 0.5 * weights[i];
      r.x[half + i] = 0.5 * (1.0 + abscissa[i]);
      r.w[half + i] = 0.5 * weights[i];
    }
    return r;
  }();
  return rule;
}

//! How a panel's coordinate p maps to the probability u = F(s) of its logit.
enum class Coordinate {
  kBelowGap,   //!< u = u_top - p (just below the key's logit)
  kBelowMass,  //!< u = p (far below)
  kAbove,      //!< u = 1 - p (above: p is a tail probability)
};

//! Cost counters shared by all inversions of one prediction.
struct Stats {
  std::size_t evaluations = 0;
  std::size_t terms = 0;
  std::size_t truncated = 0;
};

inline double logit(double q) {
  return std::log(q) - std::log1p(-q);
}
inline double survival_of(double t) {
  return t < 0.0 ? std::exp(t) / (1.0 + std::exp(t)) : 1.0 / (1.0 + std::exp(-t));
}

}  // namespace tvk::finite_n
