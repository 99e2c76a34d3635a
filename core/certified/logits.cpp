#include "core/certified/logits.h"

#include <stdexcept>
#include <string>

#include "core/kernels/kernel_set.h"

namespace tvk {

double key_logit(const double* query, const double* key, std::size_t d, double scale) {
  // Four independent partial sums (a fixed order, so the result depends on nothing but the
  // numbers), combined pairwise.
  double a = 0.0, b = 0.0, c = 0.0, e = 0.0;
  std::size_t i = 0;
  for (; i + 4 <= d; i += 4) {
    a += query[i] * key[i];
    b += query[i + 1] * key[i + 1];
    c += query[i + 2] * key[i + 2];
    e += query[i + 3] * key[i + 3];
  }
  for (; i < d; ++i)
    a += query[i] * key[i];
  return scale * ((a + b) + (c + e));
}

std::vector<double> row_logits(const Eigen::MatrixXd& keys, const Eigen::VectorXd& query,
                               double scale) {
  if (query.size() != keys.cols()) {
    throw std::invalid_argument("row_logits: query has " + std::to_string(query.size()) +
                                " entries for keys of dimension " + std::to_string(keys.cols()));
  }
  const auto d = static_cast<std::size_t>(keys.cols());
  const std::vector<double> data = row_major_keys(keys);
  std::vector<double> out(static_cast<std::size_t>(keys.rows()));
  kernels::active_kernels().key_logits(query.data(), data.data(), out.size(), d, scale, out.data());
  return out;
}

std::vector<double> row_major_keys(const Eigen::MatrixXd& m) {
  const auto rows = static_cast<std::size_t>(m.rows()), cols = static_cast<std::size_t>(m.cols());
  std::vector<double> out(rows * cols);
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c < cols; ++c)
      out[r * cols + c] = m(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(c));
  }
  return out;
}

}  // namespace tvk
