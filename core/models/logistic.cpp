//! \file logistic: i.i.d. logistic logits, F(s) = 1 / (1 + e^{-(s - mu)/b}). Writing
//! s = mu + b logit(U) with U uniform gives e^s ∝ U^b (1 - U)^{-b}, so
//! E[e^s] = e^mu B(1 + b, 1 - b) = e^mu pi b / sin(pi b) is finite iff b < 1, and under the
//! tilted law U ~ Beta(1 + b, 1 - b): tau_inf and rho_eps are regularised incomplete beta
//! functions (closed form).

#include <boost/math/special_functions/beta.hpp>
#include <cmath>

#include "core/models/model_base.h"
#include "core/models/numerics.h"
#include "core/numerics/elementary.h"
#include "core/text/text.h"

namespace tvk {
namespace {

const ModelInfo& logistic_info() {
  static const ModelInfo info{
      "logistic",
      "i.i.d. logistic logits with location mu and scale b; rule exists iff scale < 1",
      {positive_param("scale", 1.0, "scale b (E[e^s] is finite iff b < 1)"),
       location_param("mu", 0.0, "location (median) of the logits")}};
  return info;
}

class LogisticModel final : public ScoreModelBase {
 public:
  explicit LogisticModel(const ParamValues& values)
      : ScoreModelBase(logistic_info(), values), scale_(param("scale")), mu_(param("mu")) {}

  void sample(RandomStream& stream, std::span<double> out) const override {
    // Inverse CDF on an open uniform: both logs stay finite (tvk's own, machine-independent).
    for (double& s : out) {
      const double u = numerics::uniform_open01(stream);
      s = mu_ + scale_ * (elementary::log(u) - elementary::log1p(-u));
    }
  }

  std::optional<double> density(double s) const override {
    const double e = std::exp(-std::fabs(s - mu_) / scale_);  // symmetric: no overflow
    return e / (scale_ * (1.0 + e) * (1.0 + e));
  }

 protected:
  std::string infinite_exp_mean_detail() const override {
    if (scale_ < 1.0) return {};
    return "logistic with scale >= 1, got scale = " + format_shortest(scale_);
  }

  // s < F^{-1}(1 - rho)  <=>  U < 1 - rho, and I_{1-rho}(1+b, 1-b) = 1 - I_rho(1-b, 1+b).
  double tail_mass_interior(double rho) const override {
    return boost::math::ibetac(1.0 - scale_, 1.0 + scale_, rho, numerics::MathPolicy());
  }
  double k_fraction_interior(double eps) const override {
    return boost::math::ibetac_inv(1.0 - scale_, 1.0 + scale_, eps, numerics::MathPolicy());
  }
  std::optional<double> quantile_interior(double p) const override {
    return mu_ + scale_ * (std::log(p) - std::log1p(-p));
  }

 private:
  double scale_;
  double mu_;
};

std::unique_ptr<ScoreModel> make_logistic(const ParamValues& values) {
  return std::make_unique<LogisticModel>(values);
}

}  // namespace

ModelEntry logistic_model_entry() {
  return {&logistic_info, &make_logistic};
}

}  // namespace tvk
