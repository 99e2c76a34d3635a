#pragma once
//! \file Squared and Euclidean norms of Eigen vectors (or vector expressions) summed in index
//! order. Eigen's own reductions split the sum over as many lanes as the instruction set has
//! (2 with SSE2, 4 with AVX, 8 with AVX-512), so their last bit depends on the compile flags;
//! these do not, so data stay identical whatever -march the rest of tvk is built with.

#include <cmath>
#include "core/numerics/eigen.h"

namespace tvk {

//! Σ_i v_i², i = 0..size−1 in order.
template <class Vector>
double squared_norm(const Vector& v) {
  double sum = 0.0;
  for (Eigen::Index i = 0; i < v.size(); ++i) {
    const double x = v(i);
    sum += x * x;
  }
  return sum;
}

//! sqrt(squared_norm(v)), like Eigen's norm() (no rescaling).
template <class Vector>
double euclidean_norm(const Vector& v) {
  return std::sqrt(squared_norm(v));
}

}  // namespace tvk
