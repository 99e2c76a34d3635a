//! \file gumbel: i.i.d. max-Gumbel logits, F(s) = exp(-e^{-(s - mu)/b}). Writing
//! s = mu - b log E with E ~ Exp(1) gives e^s ∝ E^{-b}, so E[e^s] = e^mu Gamma(1 - b) is finite iff
//! b < 1, and under the tilted law E ~ Gamma(1 - b, 1): tau_inf and rho_eps are regularised
//! incomplete gamma functions (closed form).

#include <boost/math/special_functions/gamma.hpp>
#include <cmath>

#include "core/models/model_base.h"
#include "core/models/numerics.h"
#include "core/numerics/elementary.h"
#include "core/text/text.h"

namespace tvk {
namespace {

const ModelInfo& gumbel_info() {
  static const ModelInfo info{
      "gumbel",
      "i.i.d. max-Gumbel logits with location mu and scale b; rule exists iff scale < 1",
      {positive_param("scale", 1.0, "scale b (E[e^s] is finite iff b < 1)"),
       location_param("mu", 0.0, "location (mode) of the logits")}};
  return info;
}

class GumbelModel final : public ScoreModelBase {
 public:
  explicit GumbelModel(const ParamValues& values)
      : ScoreModelBase(gumbel_info(), values), scale_(param("scale")), mu_(param("mu")) {}

  void sample(RandomStream& stream, std::span<double> out) const override {
    // Inverse CDF on an open uniform: log(-log u) stays finite. tvk's own log (the same bits
    // on every machine, unlike libm's variants).
    for (double& s : out)
      s = mu_ - scale_ * elementary::log(-elementary::log(numerics::uniform_open01(stream)));
  }

  std::optional<double> density(double s) const override {
    const double z = (s - mu_) / scale_;
    return std::exp(-z - std::exp(-z)) / scale_;
  }

 protected:
  std::string infinite_exp_mean_detail() const override {
    if (scale_ < 1.0) return {};
    return "gumbel with scale >= 1, got scale = " + format_shortest(scale_);
  }

  // s < F^{-1}(1 - rho)  <=>  E > t with t = -log(1 - rho); tilted E ~ Gamma(1 - b).
  double tail_mass_interior(double rho) const override {
    return boost::math::gamma_q(1.0 - scale_, -std::log1p(-rho), numerics::MathPolicy());
  }
  double k_fraction_interior(double eps) const override {
    return -std::expm1(-boost::math::gamma_q_inv(1.0 - scale_, eps, numerics::MathPolicy()));
  }
  std::optional<double> quantile_interior(double p) const override {
    // -log p, computed as -log1p(p - 1) near 1 where p - 1 is exact.
    const double minus_log_p = p > 0.5 ? -std::log1p(p - 1.0) : -std::log(p);
    return mu_ - scale_ * std::log(minus_log_p);
  }

 private:
  double scale_;
  double mu_;
};

std::unique_ptr<ScoreModel> make_gumbel(const ParamValues& values) {
  return std::make_unique<GumbelModel>(values);
}

}  // namespace

ModelEntry gumbel_model_entry() {
  return {&gumbel_info, &make_gumbel};
}

}  // namespace tvk
