#pragma once
//! \file The law of one logit as the finite-n predictor uses it: the model's quantile tabulated
//! in t = logit(u) and read by cubic Hermite interpolation (header-only; internal to
//! core/predictors/).

#include "core/models/score_model.h"
#include "core/predictors/finite_n_numerics.h"

namespace tvk::finite_n {

//! The law of one logit as the predictor uses it. The quantile function is called tens of
//! thousands of times per prediction, and some models' quantiles are slow (Student-t inverts an
//! incomplete beta function, the mixture finds a root), so it is tabulated once in t = logit(u)
//! on knots t_k = -60 + k/32 (t = 0, where a Laplace quantile has a kink, is a knot) and read
//! by cubic Hermite interpolation with the exact slope ds/dt = u (1 - u) / f(s). Outside the
//! table, or next to a knot where the density vanishes, the model is called directly.
class LogitLaw {
 public:
  explicit LogitLaw(const ScoreModel& model) : model_(model) {
    const std::size_t knots = static_cast<std::size_t>((kHigh - kLow) / kStep) + 1;
    s_.resize(knots);
    slope_.resize(knots);
    for (std::size_t k = 0; k < knots; ++k) {
      const double t = kLow + static_cast<double>(k) * kStep;
      const double u = survival_of(t), complement = survival_of(-t);
      const double s = *model_.quantile(u);
      const double f = density(s);
      s_[k] = s;
      slope_[k] = f > 0.0 ? u * complement / f : std::numeric_limits<double>::quiet_NaN();
    }
    const double spread = quantile(0.75, 0.25) - quantile(0.25, 0.75);
    scale_ = std::isfinite(spread) && spread > 0.0 ? spread : 1.0;
  }

  //! F^{-1}(u), with complement = 1 - u given to full relative accuracy.
  double quantile(double u, double complement) const {
    const double t = std::log(u) - std::log(complement);
    const double position = (t - kLow) / kStep;
    if (position >= 0.0 && position < static_cast<double>(s_.size() - 1)) {
      const std::size_t k = static_cast<std::size_t>(position);
      const double x = position - static_cast<double>(k);
      const double s0 = s_[k], s1 = s_[k + 1], d0 = slope_[k] * kStep, d1 = slope_[k + 1] * kStep;
      if (std::isfinite(s0) && std::isfinite(s1) && std::isfinite(d0) && std::isfinite(d1)) {
        const double x2 = x * x, x3 = x2 * x;
        return (2.0 * x3 - 3.0 * x2 + 1.0) * s0 + (x3 - 2.0 * x2 + x) * d0 +
               (-2.0 * x3 + 3.0 * x2) * s1 + (x3 - x2) * d1;
      }
    }
    return *model_.quantile(u);
  }
  //! P(logit > s) by inverting the table (bisection on the interpolant); 1 below the table and
  //! 0 above it (tail probabilities below 1e-11 there).
  double survival(double s) const {
    if (!(s > s_.front())) return 1.0;
    if (!(s < s_.back())) return 0.0;
    const std::size_t k =
        static_cast<std::size_t>(std::upper_bound(s_.begin(), s_.end(), s) - s_.begin() - 1);
    double lo = kLow + static_cast<double>(k) * kStep, hi = lo + kStep;
    for (int i = 0; i < 60 && hi - lo > 1e-15 * std::max(1.0, std::fabs(lo)); ++i) {
      const double mid = 0.5 * (lo + hi);
      if (quantile(survival_of(mid), survival_of(-mid)) <= s) {
        lo = mid;
      } else {
        hi = mid;
      }
    }
    return survival_of(-0.5 * (lo + hi));
  }
  //! Density f(s) (0 where the model has none).
  double density(double s) const { return model_.density(s).value_or(0.0); }
  //! Interquartile range: the step of the numerical derivatives of the density is 1e-3 of it.
  double scale() const { return scale_; }

 private:
  static constexpr double kLow = -60.0, kHigh = 26.0, kStep = 1.0 / 32.0;
  const ScoreModel& model_;
  std::vector<double> s_, slope_;
  double scale_ = 1.0;
};

}  // namespace tvk::finite_n
