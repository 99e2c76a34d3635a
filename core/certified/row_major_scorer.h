#pragma once
//! \file Exact scoring of row-major keys (n × d doubles) with the kernel tvk's scorer uses: the
//! KeyScorer that tests and benchmarks hand to the quantized search over a plain key matrix.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/certified/quantized_search.h"
#include "core/kernels/kernel_set.h"
#include "core/numerics/eigen.h"

namespace tvk {

//! The entries of m, row by row.
inline std::vector<double> row_major(const Eigen::MatrixXd& m) {
  std::vector<double> out(static_cast<std::size_t>(m.size()));
  const auto cols = static_cast<std::size_t>(m.cols());
  for (Eigen::Index i = 0; i < m.rows(); ++i)
    for (Eigen::Index c = 0; c < m.cols(); ++c)
      out[static_cast<std::size_t>(i) * cols + static_cast<std::size_t>(c)] = m(i, c);
  return out;
}

//! Scores keys of a row-major matrix (held by reference) exactly; records the keys it scored.
class RowMajorScorer final : public KeyScorer {
 public:
  RowMajorScorer(const std::vector<double>& keys, std::size_t d, double scale)
      : keys_(keys), d_(d), scale_(scale) {}
  void score(const double* query, std::span<const std::uint32_t> keys, double* out) const override {
    for (std::size_t i = 0; i < keys.size(); ++i) {
      kernels::active_kernels().key_logits(query, keys_.data() + keys[i] * d_, 1, d_, scale_,
                                           out + i);
      scored_.push_back(keys[i]);
    }
  }
  //! The logits of the first n keys.
  std::vector<double> all(const double* query, std::size_t n) const {
    std::vector<double> out(n);
    kernels::active_kernels().key_logits(query, keys_.data(), n, d_, scale_, out.data());
    return out;
  }
  //! Every key score() was asked for, in order (cleared by the caller).
  mutable std::vector<std::uint32_t> scored_;

 private:
  const std::vector<double>& keys_;
  std::size_t d_;
  double scale_;
};

}  // namespace tvk
