#pragma once
//! \file The distribution function of a sum of n - 1 i.i.d. terms from its Laplace transform:
//! the Bromwich integral along Re lambda = gamma by the trapezoidal rule (internal to
//! core/predictors/).

#include <cstddef>

#include "core/predictors/finite_n_numerics.h"
#include "core/predictors/logit_law.h"

namespace tvk::finite_n {

//! The i.i.d. "other keys" of a kept-probability question.
struct Others {
  const LogitLaw* law = nullptr;
  std::size_t count = 0;
  double eps = 0.0;
};

//! P(sum of others.count i.i.d. terms w(s) < x), w(s) = (eps 1{s > y} - (1-eps) 1{s < y})
//! e^{s - y}, where q = P(s > y), to absolute accuracy about `tolerance`.
double probability_below(const Others& others, double q, double y, double x, double tolerance,
                         Stats& stats);

}  // namespace tvk::finite_n
