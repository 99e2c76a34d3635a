//! \file gaussian: i.i.d. N(mu, sigma^2) logits, the paper's model (closed-form rule).

#include "core/kernels/kernel_set.h"
#include "core/models/model_base.h"
#include "core/models/numerics.h"
#include "core/random/normal_block.h"

namespace tvk {
namespace {

const ModelInfo& gaussian_info() {
  static const ModelInfo info{
      "gaussian",
      "i.i.d. normal logits N(mu, sigma^2); rule rho_eps = Phi_c(sigma + Phi^{-1}(eps))",
      {location_param("mu", 0.0, "mean of the logits"),
       positive_param("sigma", 1.0, "standard deviation of the logits")}};

  return info;
}

class GaussianModel final : public ScoreModelBase {
 public:
  explicit GaussianModel(const ParamValues& values)
      : ScoreModelBase(gaussian_info(), values), mu_(param("mu")), sigma_(param("sigma")) {}

  void sample(RandomStream& stream, std::span<double> out) const override {
    // The vectorised ziggurat of a whole row (the benchmarks' hot path).
    fill_standard_normals(stream, out);
    kernels::active_kernels().scale_shift(out.data(), out.size(), mu_, sigma_);
  }

  std::optional<double> density(double s) const override {
    return numerics::normal_pdf((s - mu_) / sigma_) / sigma_;
  }

 protected:
  double tail_mass_interior(double rho) const override {
    return numerics::gaussian_tail_mass_limit(sigma_, rho);
  }
  double k_fraction_interior(double eps) const override {
    return numerics::gaussian_k_fraction(sigma_, eps);
  }
  std::optional<double> quantile_interior(double p) const override {
    return mu_ + sigma_ * numerics::normal_quantile(p);
  }

 private:
  double mu_;
  double sigma_;
};

std::unique_ptr<ScoreModel> make_gaussian(const ParamValues& values) {
  return std::make_unique<GaussianModel>(values);
}

}  // namespace

ModelEntry gaussian_model_entry() {
  return {&gaussian_info, &make_gaussian};
}

}  // namespace tvk
