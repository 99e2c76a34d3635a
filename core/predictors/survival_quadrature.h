#pragma once
//! \file The outer integrals of the finite-n predictor: a kept probability P(q) integrated over
//! the survival probability q in t = logit q, and sums of non-increasing sequences (internal to
//! core/predictors/).

#include <cstddef>
#include <functional>
#include <vector>

namespace tvk::finite_n {

//! A kept probability P(q) computed to a given absolute tolerance.
using KeptFunction = std::function<double(double q, double tolerance)>;

//! int_0^1 P(q) dq for a non-increasing P with values in [0, 1], in the variable t = logit q:
//! q_c + int_{t < t_c} (P - 1) q(1-q) dt + int_{t > t_c} P q(1-q) dt, each side by
//! Gauss-Legendre panels of doubling width from a point t_c inside the transition, until a
//! monotonicity bound on the remainder is below tolerance * q_c / 10 (and at least
//! tolerance * floor / 10). Far left, where P is near 1 and the weight q small, P is computed
//! to a looser tolerance (tolerance * q_c / q, at most 1e-4). `breaks` are values of q where P
//! may jump (panel ends are put there).
double integrate_over_survival(const KeptFunction& kept, double q_guess, double tolerance,
                               double floor, const std::vector<double>& breaks);

//! Sum of G(i), i = 1..count, for G non-increasing with values in [0, 1].
double sum_non_increasing(const std::function<double(std::size_t)>& g, std::size_t count,
                          double tolerance);

}  // namespace tvk::finite_n
