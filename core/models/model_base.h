#pragma once
//! \file Shared plumbing for score-model implementations: parameter storage, the edge
//! conventions of tail_mass_limit / asymptotic_k_fraction / quantile, and the registry entry
//! type. A model file derives from ScoreModelBase and implements only the interior cases.

#include <memory>
#include <optional>
#include <string>

#include "core/models/score_model.h"

namespace tvk {

//! What the registry knows about one model: its description and a factory. The factory gets
//! values that make_model() has already completed with defaults and validated.
struct ModelEntry {
  const ModelInfo& (*info)();                                      //!< name, doc, parameters
  std::unique_ptr<ScoreModel> (*make)(const ParamValues& values);  //!< builds an instance
};

//! A real parameter with no range limits (locations).
ParamSpec real_param(std::string name, double default_value, std::string doc);
//! A parameter that must be > 0 (scales, degrees of freedom).
ParamSpec positive_param(std::string name, double default_value, std::string doc);
//! A location parameter (a shift of every logit): |value| <= 1e6. The models are shift
//! invariant, but mu + sigma z loses sigma z to rounding when |mu| is huge, so k/n would change.
ParamSpec location_param(std::string name, double default_value, std::string doc);

//! Base for score models. Handles the conventions once, so implementations only see the
//! interior: tau_inf(rho <= 0) = 1, tau_inf(rho >= 1) = 0; rho_eps(eps <= 0) = 1,
//! rho_eps(eps >= 1) = 0; quantile(0) = -inf, quantile(1) = +inf; NaN arguments give NaN;
//! and nullopt for both asymptotic quantities whenever E[e^s] is infinite.
class ScoreModelBase : public ScoreModel {
 public:
  ScoreModelBase(const ModelInfo& info, ParamValues values);

  const ModelInfo& info() const override { return info_; }
  const ParamValues& params() const override { return params_; }

  //! Finite unless the model overrides infinite_exp_mean_detail() to say why not.
  bool exp_mean_finite() const override { return infinite_exp_mean_detail().empty(); }
  //! "no asymptotic rule: E[e^s] is infinite (DETAIL)", or empty when the rule exists.
  std::string no_rule_reason() const override;

  std::optional<double> tail_mass_limit(double rho) const override;
  std::optional<double> asymptotic_k_fraction(double eps) const override;
  std::optional<double> quantile(double p) const override;

 protected:
  //! The value of parameter `name` (present after make_model applied the defaults).
  double param(const std::string& name) const;

  //! Empty when E[e^s] is finite, else why not, e.g. "laplace with scale >= 1, got 1.5".
  virtual std::string infinite_exp_mean_detail() const { return {}; }
  //! tau_inf(rho) for rho in (0, 1); only called when E[e^s] is finite.
  virtual double tail_mass_interior(double rho) const = 0;
  //! rho_eps for eps in (0, 1); only called when E[e^s] is finite. The default solves
  //! tail_mass_interior(rho) = eps by root finding; closed forms should override it.
  virtual double k_fraction_interior(double eps) const;
  //! F^{-1}(p) for p in (0, 1), or nullopt where the model has no single law per logit.
  virtual std::optional<double> quantile_interior(double p) const = 0;

 private:
  const ModelInfo& info_;
  ParamValues params_;
};

}  // namespace tvk
