#pragma once
//! \file A finite-n predictor of E[k_eps]/n for a score model (THEORY §4 "Finite n"; the method
//! and its measured accuracy are in docs/finite_n.md). Deterministic, no Monte Carlo: an exact
//! identity turns E[k_eps]/n into a one-dimensional integral of "kept" probabilities, each the
//! distribution function of a sum of n - 1 i.i.d. terms, which is inverted numerically from its
//! Laplace transform. Pure mathematics: no I/O.

#include <cstddef>
#include <optional>
#include <string>

#include "core/models/score_model.h"

namespace tvk {

//! Numerical settings of the predictor. The defaults give about 1e-5 relative accuracy (the
//! method itself has no modelling error; see docs/finite_n.md).
struct FiniteNOptions {
  //! Target absolute error of each kept probability and, scaled by the result, of the outer
  //! integral. Smaller is slower; 1e-6 is far below any Monte Carlo noise one can afford.
  double tolerance = 1e-6;
};

//! The prediction with its cost, for reports and tests.
struct FiniteNPrediction {
  double k_fraction = 0.0;                       //!< predicted E[k_eps] / n, in [1/n, 1]
  std::size_t kept_probability_evaluations = 0;  //!< points of the outer integral
  std::size_t transform_terms = 0;               //!< Laplace-transform evaluations, all points
  std::size_t truncated_inversions = 0;          //!< inversions that hit the term cap (want 0)
};

//! Why the predictor cannot handle `model` (empty when it can): it needs an i.i.d. model with
//! quantile() and density(), or the `sinks` model (handled explicitly).
std::string finite_n_unsupported_reason(const ScoreModel& model);

//! Predicted E[k_eps]/n for rows of n keys drawn from `model` and TV budget eps, with its cost.
//! nullopt when the model is not supported (finite_n_unsupported_reason says why). Throws
//! std::invalid_argument for n = 0 or eps outside (0, 1).
std::optional<FiniteNPrediction> finite_n_prediction(const ScoreModel& model, std::size_t n,
                                                     double eps,
                                                     const FiniteNOptions& options = {});

//! Predicted E[k_eps]/n (the k_fraction of finite_n_prediction()).
std::optional<double> finite_n_k_fraction(const ScoreModel& model, std::size_t n, double eps,
                                          const FiniteNOptions& options = {});

//! P(a key is kept | its logit has survival probability q), i.e. P(rank <= k_eps) given
//! s = F^{-1}(1 - q), for an i.i.d. model (nullopt otherwise). E[k_eps]/n is its integral over
//! q in (0, 1). Exposed for tests: it must lie in [0, 1] and fall as q grows. q in [1e-12, 1).
std::optional<double> kept_probability(const ScoreModel& model, std::size_t n, double eps, double q,
                                       const FiniteNOptions& options = {});

//! k_eps/n of the deterministic "Blom" row of expected order statistics
//! F^{-1}(1 - (i - 0.375)/(n + 0.25)), i = 1..n (for `sinks`: the m sink logits plus the Blom
//! row of the Gaussian bulk). The comparison baseline of THEORY §4; nullopt where the model has
//! no quantile function, or for n > kMaxBlomKeys (the row is n doubles and its profile ~50
//! bytes per key: 10^7 keys take ~0.5 GB).
inline constexpr std::size_t kMaxBlomKeys = 10'000'000;
std::optional<double> blom_k_fraction(const ScoreModel& model, std::size_t n, double eps);

}  // namespace tvk
