#pragma once
//! \file The canonical computed logit s = scale · (q·k) of tvk's certified searches (THEORY §6,
//! §10): one fixed summation order, so a key's logit is the same number wherever the key is
//! stored, and the cell bounds U_j (cells.h) bound it and every other summation order.

#include <cstddef>
#include <vector>

#include "core/numerics/eigen.h"

namespace tvk {

//! s = scale · (q·k) in double: the canonical computed logit of one key. Four partial sums in a
//! fixed order, so the result is the same wherever a key is stored. U_j bounds this value and
//! every other summation order of the same product.
double key_logit(const double* query, const double* key, std::size_t d, double scale);

//! Canonical logits of every key (rows of `keys`), in key order.
std::vector<double> row_logits(const Eigen::MatrixXd& keys, const Eigen::VectorXd& query,
                               double scale);

//! The rows of `m` (one key per row) as one row-major array: the layout the logit kernels read.
std::vector<double> row_major_keys(const Eigen::MatrixXd& m);

}  // namespace tvk
