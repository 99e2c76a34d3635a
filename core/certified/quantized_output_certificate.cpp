#include "core/certified/quantized_output_certificate.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/certified/cells.h"
#include "core/certified/output_certificate.h"
#include "core/numerics/elementary.h"

namespace tvk {

namespace {
constexpr double kUnitRoundoff = 0x1p-53;
constexpr double kInf = std::numeric_limits<double>::infinity();
}  // namespace

double quantized_output_bound(const SearchResult& selection, const Eigen::MatrixXd& values,
                              const QuantizedKeys& value_codes, std::span<const double> upper) {
  const std::size_t n = selection.n;
  const auto dv = static_cast<std::size_t>(values.cols());
  if (static_cast<std::size_t>(values.rows()) != n || upper.size() != n || value_codes.size() < n ||
      value_codes.dim() != dv) {
    throw std::invalid_argument("quantized output certificate: sizes do not match the row");
  }
  if (selection.kept_keys.empty()) {
    throw std::invalid_argument("quantized output certificate: the selection keeps no key");
  }
  if (selection.kept >= n) return 0.0;  // K holds every key
  const Eigen::VectorXd mean = kept_mean(selection, values);
  std::vector<char> kept(n, 0);
  for (std::uint32_t i : selection.kept_keys)
    kept[i] = 1;
  // Exponentials shifted by the largest logit bound over the row.
  double top = *std::max_element(selection.kept_logits.begin(), selection.kept_logits.end());
  for (std::size_t j = 0; j < n; ++j) {
    if (!kept[j]) top = std::max(top, upper[j]);
  }
  double kept_mass = 0.0;
  for (std::size_t p = selection.kept_logits.size(); p-- > 0;)
    kept_mass += elementary::exp(selection.kept_logits[p] - top);
  // The computed mean is within `shift` of the exact μ_K (as in output_certificate.cpp).
  double kept_max = 0.0;
  for (std::uint32_t i : selection.kept_keys)
    kept_max = std::max(kept_max, values.row(i).cwiseAbs().maxCoeff());
  const double shift = 4.0 * (static_cast<double>(selection.kept_keys.size()) + 8.0) *
                       kUnitRoundoff * std::sqrt(static_cast<double>(dv)) * kept_max;
  const std::size_t groups = value_codes.groups();
  const std::size_t group_size = (dv + groups - 1) / groups;
  std::vector<double> diff(dv);
  double weighted = 0.0, largest = 0.0;
  std::vector<std::pair<double, double>> terms;  // (weight, D_j), summed from the smallest
  for (std::size_t j = 0; j < n; ++j) {
    if (kept[j]) continue;
    const std::vector<double> approx = value_codes.dequantized(j);
    for (std::size_t c = 0; c < dv; ++c)
      diff[c] = approx[c] - mean[static_cast<Eigen::Index>(c)];
    double rho2 = 0.0;  // ‖v − ṽ‖² <= Σ_g |g| r_g²
    for (std::size_t g = 0; g < groups; ++g) {
      const double r = value_codes.radius(j, g);
      const std::size_t size = std::min(group_size, dv - std::min(dv, g * group_size));
      rho2 += static_cast<double>(size) * r * r;
    }
    const double reach = scaled_norm(diff.data(), dv) + std::sqrt(rho2) + shift;
    largest = std::max(largest, reach);
    terms.emplace_back(elementary::exp(upper[j] - top), reach);
  }
  std::sort(terms.begin(), terms.end(),
            [](const auto& a, const auto& b) { return a.first * a.second < b.first * b.second; });
  for (const auto& [w, reach] : terms)
    weighted += w * reach;
  weighted /= kept_mass;
  // Relative slack for the exponentials (elementary::exp is within a few ulps), the norms and
  // the sums (n + dv + 16 rounding steps at most, each relative u).
  const double rel =
      8.0 * (static_cast<double>(n) + static_cast<double>(dv) + 16.0) * kUnitRoundoff;
  double bound = weighted * (1.0 + rel);
  if (std::isfinite(selection.bound)) {
    bound = std::min(bound, selection.bound * largest * (1.0 + rel));
  }
  return std::nextafter(bound, kInf);
}

}  // namespace tvk
