//! \file gaussian_mixture: i.i.d. logits from w N(mu1, sigma1^2) + (1 - w) N(mu2, sigma2^2).
//! Tilting by e^s keeps it a two-component mixture: component j becomes N(mu_j + sigma_j^2,
//! sigma_j^2) with weight ∝ w_j e^{mu_j + sigma_j^2 / 2}. So the tilted CDF is closed form and
//! only the quantiles need root finding (TOMS 748, bracketed by the component quantiles).

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include "core/models/model_base.h"
#include "core/models/numerics.h"
#include "core/random/normal_block.h"

namespace tvk {
namespace {

const ModelInfo& gaussian_mixture_info() {
  static const ModelInfo info = [] {
    ParamSpec weight = real_param("w", 0.9, "weight of component 1 (component 2 gets 1 - w)");
    weight.min = 0.0;
    weight.max = 1.0;
    weight.min_inclusive = false;
    weight.max_inclusive = false;
    return ModelInfo{
        "gaussian_mixture",
        "i.i.d. logits from the two-component mixture w N(mu1, sigma1^2) + (1-w) N(mu2, sigma2^2)",
        {weight, location_param("mu1", 0.0, "mean of component 1"),
         positive_param("sigma1", 1.0, "standard deviation of component 1"),
         location_param("mu2", 3.0, "mean of component 2"),
         positive_param("sigma2", 0.5, "standard deviation of component 2")}};
  }();
  return info;
}

//! One normal component: weight in the law and in the tilted law.
struct Component {
  double weight;
  double mu;
  double sigma;
  double tilted_weight;
};

class GaussianMixtureModel final : public ScoreModelBase {
 public:
  explicit GaussianMixtureModel(const ParamValues& values)
      : ScoreModelBase(gaussian_mixture_info(), values) {
    const double w = param("w");
    components_ = {Component{w, param("mu1"), param("sigma1"), 0.0},
                   Component{1.0 - w, param("mu2"), param("sigma2"), 0.0}};
    // Tilted weights w_j e^{mu_j + sigma_j^2/2}, normalised in log space (no overflow).
    std::array<double, 2> log_mass{};
    for (std::size_t j = 0; j < 2; ++j) {
      const Component& c = components_[j];
      log_mass[j] = std::log(c.weight) + c.mu + 0.5 * c.sigma * c.sigma;
    }
    const double top = std::max(log_mass[0], log_mass[1]);
    double total = 0.0;
    for (std::size_t j = 0; j < 2; ++j)
      total += std::exp(log_mass[j] - top);
    for (std::size_t j = 0; j < 2; ++j) {
      components_[j].tilted_weight = std::exp(log_mass[j] - top) / total;
    }
  }

  void sample(RandomStream& stream, std::span<double> out) const override {
    const Component& first = components_[0];
    const Component& second = components_[1];
    for (double& s : out) {
      const Component& c = stream.uniform01() < first.weight ? first : second;
      s = c.mu + c.sigma * standard_normal(stream);  // tvk's ziggurat, machine-independent
    }
  }

  std::optional<double> density(double s) const override {
    double f = 0.0;
    for (const Component& c : components_) {
      f += c.weight * numerics::normal_pdf((s - c.mu) / c.sigma) / c.sigma;
    }
    return f;
  }

 protected:
  double tail_mass_interior(double rho) const override {
    // x = F^{-1}(1 - rho), solved on whichever tail keeps relative precision.
    const double x = rho <= 0.5 ? solve(rho, /*tilted=*/false, /*upper=*/true)
                                : solve(1.0 - rho, /*tilted=*/false, /*upper=*/false);
    return mixture_cdf(x, /*tilted=*/true, /*upper=*/false);
  }
  double k_fraction_interior(double eps) const override {
    // x = G^{-1}(eps) for the tilted CDF G, then rho = 1 - F(x).
    const double x = eps <= 0.5 ? solve(eps, /*tilted=*/true, /*upper=*/false)
                                : solve(1.0 - eps, /*tilted=*/true, /*upper=*/true);
    return mixture_cdf(x, /*tilted=*/false, /*upper=*/true);
  }
  std::optional<double> quantile_interior(double p) const override {
    return p <= 0.5 ? solve(p, /*tilted=*/false, /*upper=*/false)
                    : solve(1.0 - p, /*tilted=*/false, /*upper=*/true);
  }

 private:
  // Mean of component c under the law or the tilted law.
  static double centre(const Component& c, bool tilted) {
    return tilted ? c.mu + c.sigma * c.sigma : c.mu;
  }

  // P(s < x) (upper = false) or P(s > x) (upper = true), under the law or the tilted law.
  double mixture_cdf(double x, bool tilted, bool upper) const {
    double total = 0.0;
    for (const Component& c : components_) {
      const double z = (x - centre(c, tilted)) / c.sigma;
      total += (tilted ? c.tilted_weight : c.weight) *
               (upper ? numerics::normal_ccdf(z) : numerics::normal_cdf(z));
    }
    return total;
  }

  // x with mixture_cdf(x, tilted, upper) = target. The mixture's quantile lies between its
  // components' quantiles at the same level, which brackets the root.
  double solve(double target, bool tilted, bool upper) const {
    double lo = std::numeric_limits<double>::infinity();
    double hi = -lo;
    for (const Component& c : components_) {
      const double z =
          upper ? numerics::normal_cquantile(target) : numerics::normal_quantile(target);
      const double x = centre(c, tilted) + c.sigma * z;
      lo = std::min(lo, x);
      hi = std::max(hi, x);
    }
    auto f = [&](double x) { return mixture_cdf(x, tilted, upper) - target; };
    return numerics::find_root(f, lo, hi);
  }

  std::array<Component, 2> components_{};
};

std::unique_ptr<ScoreModel> make_gaussian_mixture(const ParamValues& values) {
  return std::make_unique<GaussianMixtureModel>(values);
}

}  // namespace

ModelEntry gaussian_mixture_model_entry() {
  return {&gaussian_mixture_info, &make_gaussian_mixture};
}

}  // namespace tvk
