//! \file laplace: i.i.d. Laplace logits, density exp(-|s - mu| / b) / (2b). E[e^s] is finite
//! iff b < 1; then the tilted law has elementary partial expectations, so tau_inf and rho_eps
//! are closed forms.

#include <cmath>

#include "core/models/model_base.h"
#include "core/models/numerics.h"
#include "core/numerics/elementary.h"
#include "core/text/text.h"

namespace tvk {
namespace {

const ModelInfo& laplace_info() {
  static const ModelInfo info{
      "laplace",
      "i.i.d. Laplace logits with location mu and scale b; rule exists iff scale < 1",
      {positive_param("scale", 1.0, "scale b (E[e^s] is finite iff b < 1)"),
       location_param("mu", 0.0, "location (median) of the logits")}};
  return info;
}

class LaplaceModel final : public ScoreModelBase {
 public:
  explicit LaplaceModel(const ParamValues& values)
      : ScoreModelBase(laplace_info(), values), scale_(param("scale")), mu_(param("mu")) {}

  void sample(RandomStream& stream, std::span<double> out) const override {
    // Inverse CDF on an open uniform u: s = mu + scale log(2u) below the median, mu − scale
    // log(2(1 − u)) above (1 − u is exact on uniform_open01's grid), so never infinite. tvk's
    // own log: Boost's exponential ziggurat calls libm's exp, whose variants differ by machine.
    for (double& s : out) {
      const double u = numerics::uniform_open01(stream);
      s = u < 0.5 ? mu_ + scale_ * elementary::log(2.0 * u)
                  : mu_ - scale_ * elementary::log(2.0 * (1.0 - u));
    }
  }

  std::optional<double> density(double s) const override {
    return std::exp(-std::fabs(s - mu_) / scale_) / (2.0 * scale_);
  }

 protected:
  std::string infinite_exp_mean_detail() const override {
    if (scale_ < 1.0) return {};
    return "laplace with scale >= 1, got scale = " + format_shortest(scale_);
  }

  // With mu = 0 (tau is free of mu) and x = F^{-1}(1 - rho), the tilted CDF is
  //   G(x) = (1 - b)/2 * e^{x (1+b)/b}        for x <= 0  (rho >= 1/2),
  //   G(x) = 1 - (1 + b)/2 * e^{-x (1-b)/b}   for x >  0  (rho <  1/2),
  // and x = b log(2(1 - rho)) resp. -b log(2 rho), which gives powers of 2rho or 2(1-rho).
  double tail_mass_interior(double rho) const override {
    const double b = scale_;
    if (rho < 0.5) return 1.0 - 0.5 * (1.0 + b) * std::pow(2.0 * rho, 1.0 - b);
    return 0.5 * (1.0 - b) * std::pow(2.0 * (1.0 - rho), 1.0 + b);
  }
  // Inverting the two branches; G(0) = (1 - b)/2 separates them.
  double k_fraction_interior(double eps) const override {
    const double b = scale_;
    if (eps >= 0.5 * (1.0 - b))
      return 0.5 * std::pow(2.0 * (1.0 - eps) / (1.0 + b), 1.0 / (1.0 - b));
    return 1.0 - 0.5 * std::pow(2.0 * eps / (1.0 - b), 1.0 / (1.0 + b));
  }
  std::optional<double> quantile_interior(double p) const override {
    if (p < 0.5) return mu_ + scale_ * std::log(2.0 * p);
    return mu_ - scale_ * std::log(2.0 * (1.0 - p));
  }

 private:
  double scale_;
  double mu_;
};

std::unique_ptr<ScoreModel> make_laplace(const ParamValues& values) {
  return std::make_unique<LaplaceModel>(values);
}

}  // namespace

ModelEntry laplace_model_entry() {
  return {&laplace_info, &make_laplace};
}

}  // namespace tvk
