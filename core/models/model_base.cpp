#include "core/models/model_base.h"

#include <cmath>
#include <limits>
#include <utility>

#include "core/models/numerics.h"

namespace tvk {

ParamSpec real_param(std::string name, double default_value, std::string doc) {
  ParamSpec spec;
  spec.name = std::move(name);
  spec.default_value = default_value;
  spec.doc = std::move(doc);
  return spec;
}

ParamSpec positive_param(std::string name, double default_value, std::string doc) {
  ParamSpec spec = real_param(std::move(name), default_value, std::move(doc));
  spec.min = 0.0;
  spec.min_inclusive = false;
  return spec;
}

ParamSpec location_param(std::string name, double default_value, std::string doc) {
  ParamSpec spec = real_param(std::move(name), default_value, std::move(doc));
  spec.min = -1e6;
  spec.max = 1e6;
  return spec;
}

ScoreModelBase::ScoreModelBase(const ModelInfo& info, ParamValues values)
    : info_(info), params_(std::move(values)) {}

std::string ScoreModelBase::no_rule_reason() const {
  const std::string detail = infinite_exp_mean_detail();
  if (detail.empty()) return {};
  return "no asymptotic rule: E[e^s] is infinite (" + detail + ")";
}

std::optional<double> ScoreModelBase::tail_mass_limit(double rho) const {
  if (!exp_mean_finite()) return std::nullopt;
  if (std::isnan(rho)) return std::numeric_limits<double>::quiet_NaN();
  if (rho <= 0.0) return 1.0;
  if (rho >= 1.0) return 0.0;
  return tail_mass_interior(rho);
}

std::optional<double> ScoreModelBase::asymptotic_k_fraction(double eps) const {
  if (!exp_mean_finite()) return std::nullopt;
  if (std::isnan(eps)) return std::numeric_limits<double>::quiet_NaN();
  if (eps <= 0.0) return 1.0;
  if (eps >= 1.0) return 0.0;
  return k_fraction_interior(eps);
}

std::optional<double> ScoreModelBase::quantile(double p) const {
  if (std::isnan(p)) return std::numeric_limits<double>::quiet_NaN();
  if (p <= 0.0 || p >= 1.0) {
    // Only models with a law per logit have the edge values either.
    if (!quantile_interior(0.5)) return std::nullopt;
    return p <= 0.0 ? -std::numeric_limits<double>::infinity()
                    : std::numeric_limits<double>::infinity();
  }
  return quantile_interior(p);
}

double ScoreModelBase::param(const std::string& name) const {
  return params_.at(name);
}

double ScoreModelBase::k_fraction_interior(double eps) const {
  // Solve in t = logit(rho) so that rho keeps its relative precision near both 0 and 1.
  auto rho_of = [](double t) { return 1.0 / (1.0 + std::exp(-t)); };
  auto f = [&](double t) { return tail_mass_interior(rho_of(t)) - eps; };
  return rho_of(numerics::find_root(f, -700.0, 40.0));
}

}  // namespace tvk
