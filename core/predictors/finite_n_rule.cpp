#include "core/predictors/finite_n_rule.h"

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

#include "core/predictors/finite_n_numerics.h"
#include "core/predictors/laplace_inversion.h"
#include "core/predictors/logit_law.h"
#include "core/predictors/survival_quadrature.h"
#include "core/rows/tail_profile.h"

// The method (docs/finite_n.md has the derivation and the error table). By exchangeability,
//   E[k_eps]/n = P(key 1 is kept) = int_0^1 P(q) dq,
// where P(q) is the probability that a key whose logit y has survival probability q is among
// the top k_eps. The key of rank r is kept iff tau_{r-1} > eps, i.e. iff
//   W := eps * C - (1 - eps) * A < (1 - eps) e^y,
// with C (A) the sum of e^s over the other keys above (below) y. W is a sum of n - 1 i.i.d.
// terms w(s) = eps e^s 1{s > y} - (1 - eps) e^s 1{s < y}, whose Laplace transform
// E[e^{-lambda W}] = phi(lambda)^{n-1} is finite for Re lambda >= 0 even when E[e^s] is
// infinite (the heavy part enters with a minus sign). P(W < x) follows from the Bromwich
// integral along Re lambda = gamma, discretised by the trapezoidal rule (aliasing controlled by
// a Chernoff bound). phi is a one-dimensional integral over the law of one logit, done with
// Gauss-Legendre panels in probability coordinates (only quantile() and density() are needed).
// The numerics are in this folder: the logit law (logit_law.h), the Laplace transform of one
// term (term_law.h), its inversion (laplace_inversion.h) and the outer integrals
// (survival_quadrature.h).

namespace tvk {
namespace {

using namespace finite_n;

void check_arguments(std::size_t n, double eps) {
  if (n < 1) throw std::invalid_argument("finite_n: n must be >= 1");
  if (!(eps > 0.0 && eps < 1.0)) throw std::invalid_argument("finite_n: eps must be in (0, 1)");
}

//! A starting point for the transition: the asymptotic rule where it exists, else 1/sqrt(n).
double transition_guess(const ScoreModel& model, std::size_t n, double eps) {
  const std::optional<double> rule = model.asymptotic_k_fraction(eps);
  if (rule && *rule > 1.0 / static_cast<double>(n)) return *rule;
  return 1.0 / std::sqrt(static_cast<double>(n));
}

FiniteNPrediction predict_iid(const ScoreModel& model, std::size_t n, double eps,
                              const FiniteNOptions& options) {
  Stats stats;
  const LogitLaw law(model);
  const Others others{&law, n - 1, eps};
  auto kept = [&](double q, double tolerance) {
    return probability_below(others, q, law.quantile(1.0 - q, q), 1.0 - eps, tolerance, stats);
  };
  const double floor = 1.0 / static_cast<double>(n);
  const double integral =
      integrate_over_survival(kept, transition_guess(model, n, eps), options.tolerance, floor, {});
  return {std::clamp(integral, floor, 1.0), stats.evaluations, stats.terms, stats.truncated};
}

// Fixed keys plus a bulk (sinks): m_s deterministic keys at logit v, n - m_s i.i.d. bulk keys.
FiniteNPrediction predict_fixed_plus_bulk(const FixedKeysAndBulk& row, std::size_t n, double eps,
                                          const FiniteNOptions& options) {
  const ScoreModel& bulk = *row.bulk;
  const std::size_t sinks = row.fixed_count;
  const std::size_t bulk_count = n - sinks;
  const double v = row.fixed_logit;
  const double q_v = row.bulk_survival_at_fixed;
  const double floor = 1.0 / static_cast<double>(n);
  const double sink_count = static_cast<double>(sinks);
  const LogitLaw law(bulk);
  Stats stats;
  double kept_keys = 0.0;
  if (bulk_count >= 1) {
    const Others others{&law, bulk_count - 1, eps};
    auto kept = [&](double q, double tolerance) {
      const double y = law.quantile(1.0 - q, q);
      // The sinks are deterministic terms of W: shift the threshold by their sum.
      double x = 1.0 - eps;
      if (sinks > 0) {
        if (v > y) {
          if (v - y > 700.0) return 0.0;
          x -= sink_count * eps * std::exp(v - y);
        } else {
          x += sink_count * (1.0 - eps) * std::exp(v - y);
        }
      }
      return probability_below(others, q, y, x, tolerance, stats);
    };
    const double integral = integrate_over_survival(kept, transition_guess(bulk, bulk_count, eps),
                                                    options.tolerance, floor, {q_v});
    kept_keys += static_cast<double>(bulk_count) * integral;
  }
  if (sinks >= 1) {
    // Sink i (ties among sinks go by position) is kept iff W < (m_s - i + 1 - eps m_s) e^v,
    // with W over all bulk keys.
    const Others others{&law, bulk_count, eps};
    auto kept = [&](std::size_t i) {
      const double x = sink_count - static_cast<double>(i) + 1.0 - eps * sink_count;
      return probability_below(others, q_v, v, x, options.tolerance, stats);
    };
    kept_keys += sum_non_increasing(kept, sinks, options.tolerance);
  }
  return {std::clamp(kept_keys / static_cast<double>(n), floor, 1.0), stats.evaluations,
          stats.terms, stats.truncated};
}

}  // namespace

std::string finite_n_unsupported_reason(const ScoreModel& model) {
  if (model.fixed_keys_and_bulk(1)) return {};
  const std::string& name = model.info().name;
  if (!model.iid()) {
    return "no finite-n prediction: " + name + " is not i.i.d. and has no explicit handling";
  }
  const std::optional<double> median = model.quantile(0.5);
  if (!median || !model.density(*median)) {
    return "no finite-n prediction: " + name + " has no quantile or density function";
  }
  return {};
}

std::optional<FiniteNPrediction> finite_n_prediction(const ScoreModel& model, std::size_t n,
                                                     double eps, const FiniteNOptions& options) {
  check_arguments(n, eps);
  if (!finite_n_unsupported_reason(model).empty()) return std::nullopt;
  if (n == 1) return FiniteNPrediction{1.0, 0, 0, 0};
  if (const std::optional<FixedKeysAndBulk> row = model.fixed_keys_and_bulk(n)) {
    return predict_fixed_plus_bulk(*row, n, eps, options);
  }
  return predict_iid(model, n, eps, options);
}

std::optional<double> finite_n_k_fraction(const ScoreModel& model, std::size_t n, double eps,
                                          const FiniteNOptions& options) {
  const std::optional<FiniteNPrediction> prediction = finite_n_prediction(model, n, eps, options);
  if (!prediction) return std::nullopt;
  return prediction->k_fraction;
}

std::optional<double> kept_probability(const ScoreModel& model, std::size_t n, double eps, double q,
                                       const FiniteNOptions& options) {
  check_arguments(n, eps);
  if (model.fixed_keys_and_bulk(n) || !finite_n_unsupported_reason(model).empty()) {
    return std::nullopt;
  }
  if (!(q >= kQMin && q < 1.0)) throw std::invalid_argument("kept_probability: q out of range");
  Stats stats;
  const LogitLaw law(model);
  const Others others{&law, n - 1, eps};
  return probability_below(others, q, law.quantile(1.0 - q, q), 1.0 - eps, options.tolerance,
                           stats);
}

std::optional<double> blom_k_fraction(const ScoreModel& model, std::size_t n, double eps) {
  check_arguments(n, eps);
  if (n > kMaxBlomKeys) return std::nullopt;
  std::vector<double> row;
  auto append_blom = [&row](const ScoreModel& law, std::size_t count) {
    const double denominator = static_cast<double>(count) + 0.25;
    for (std::size_t i = 1; i <= count; ++i) {
      row.push_back(*law.quantile(1.0 - (static_cast<double>(i) - 0.375) / denominator));
    }
  };
  if (const std::optional<FixedKeysAndBulk> fixed = model.fixed_keys_and_bulk(n)) {
    row.assign(fixed->fixed_count, fixed->fixed_logit);
    append_blom(*fixed->bulk, n - fixed->fixed_count);
  } else {
    if (!model.iid() || !model.quantile(0.5)) return std::nullopt;
    append_blom(model, n);
  }
  const TailProfile profile(row);
  return static_cast<double>(profile.k_eps(eps)) / static_cast<double>(n);
}

}  // namespace tvk
