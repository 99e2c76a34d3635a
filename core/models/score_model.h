#pragma once
//! \file The score-model interface: a law for the logits of one attention row.
//! Adding a model = one source file in core/models/ implementing ScoreModel plus one line in
//! core/models/model_registry.cpp; `tvk models`, config validation and the generic
//! conformance tests then cover it.

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/random/stream.h"

namespace tvk {

class ScoreModel;

//! A row that is `fixed_count` deterministic keys at one logit plus an i.i.d. bulk of the other
//! n − fixed_count keys (attention sinks): what the finite-n predictor and the Blom baseline
//! need of such a model, instead of knowing it by name.
struct FixedKeysAndBulk {
  std::size_t fixed_count = 0;
  double fixed_logit = 0.0;
  double bulk_survival_at_fixed = 0.0;  //!< P(bulk logit > fixed_logit), to full accuracy
  std::shared_ptr<const ScoreModel> bulk;
};

//! One parameter of a model: name, default and valid range (plain data, no behaviour).
struct ParamSpec {
  std::string name;
  double default_value = 0.0;
  double min = -1e308;  //!< lower end of the valid range
  double max = 1e308;   //!< upper end of the valid range
  bool min_inclusive = true;
  bool max_inclusive = true;
  bool integer = false;      //!< must be a whole number (e.g. a count)
  bool counts_keys = false;  //!< a number of keys of the row: a sweep refuses it above its n
  std::string doc;           //!< one line for `tvk models`
};

//! What a model is, for listing and validation.
struct ModelInfo {
  std::string name;  //!< the `model.type` value
  std::string doc;   //!< one line
  std::vector<ParamSpec> params;
};

//! Resolved parameter values by name (every ParamSpec present after defaults are applied).
using ParamValues = std::map<std::string, double>;

//! A law for the logits of one row. Implementations are immutable after construction and
//! shared between threads: sample() must only touch the stream it is given.
class ScoreModel {
 public:
  virtual ~ScoreModel() = default;

  virtual const ModelInfo& info() const = 0;
  //! The parameter values this instance was built with.
  virtual const ParamValues& params() const = 0;

  //! Fills `out` (one row of n = out.size() logits) from `stream`.
  virtual void sample(RandomStream& stream, std::span<double> out) const = 0;

  //! Whether E[e^s] is finite; without it there is no finite-rho asymptotic rule.
  virtual bool exp_mean_finite() const = 0;
  //! Why there is no asymptotic rule (empty when there is one), e.g.
  //! "no asymptotic rule: E[e^s] is infinite (student_t has polynomial tails)".
  virtual std::string no_rule_reason() const = 0;

  //! tau_inf(rho): limiting tail mass when the top fraction rho of keys is kept (THEORY §4).
  //! nullopt when E[e^s] is infinite.
  virtual std::optional<double> tail_mass_limit(double rho) const = 0;
  //! rho_eps solving tau_inf(rho) = eps; nullopt when E[e^s] is infinite.
  virtual std::optional<double> asymptotic_k_fraction(double eps) const = 0;
  //! Quantile F^{-1}(p) of one logit, where the model has one (i.i.d. models).
  virtual std::optional<double> quantile(double p) const = 0;

  //! Whether the logits of a row are i.i.d. draws of one law (false e.g. for sink keys at fixed
  //! positions). The generic conformance tests compare samples to quantile() only when true.
  virtual bool iid() const { return true; }
  //! Density f(s) of one logit, where the model has one (i.i.d. models); lets tests check
  //! tail_mass_limit() against brute-force integration of e^s f(s).
  virtual std::optional<double> density(double /*s*/) const { return std::nullopt; }
  //! For a row of n keys that is fixed keys plus an i.i.d. bulk, that decomposition; nullopt
  //! for every other model.
  virtual std::optional<FixedKeysAndBulk> fixed_keys_and_bulk(std::size_t /*n*/) const {
    return std::nullopt;
  }
};

}  // namespace tvk
