#include "core/certified/output_certificate.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/numerics/elementary.h"
#include "core/numerics/vector_norms.h"
#include "core/rows/tail_profile.h"

namespace tvk {
namespace {

constexpr double kUnitRoundoff = 0x1p-53;
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

void check_selection(const SearchResult& selection, const Eigen::MatrixXd& values) {
  if (static_cast<std::size_t>(values.rows()) != selection.n) {
    throw std::invalid_argument("output certificate: values has " + std::to_string(values.rows()) +
                                " rows for a row of " + std::to_string(selection.n) + " keys");
  }
  if (selection.kept_keys.empty() || selection.kept_logits.size() != selection.kept_keys.size()) {
    throw std::invalid_argument("output certificate: the selection keeps no key");
  }
}

// ‖x − y‖₂ without overflow or underflow.
double distance(const double* x, const double* y, std::size_t d, std::vector<double>& scratch) {
  scratch.resize(d);
  for (std::size_t c = 0; c < d; ++c)
    scratch[c] = x[c] - y[c];
  return scaled_norm(scratch.data(), d);
}

double ratio(double bound, double exact) {
  return exact > 0.0 ? bound / exact : kNaN;
}

}  // namespace

Eigen::VectorXd kept_mean(const SearchResult& selection, const Eigen::MatrixXd& values) {
  check_selection(selection, values);
  const auto& logits = selection.kept_logits;
  const double top = *std::max_element(logits.begin(), logits.end());
  Eigen::VectorXd sum = Eigen::VectorXd::Zero(values.cols());
  double weight = 0.0;
  // kept_logits are in descending order: from the bottom, smallest terms first.
  for (std::size_t p = logits.size(); p-- > 0;) {
    const double w = elementary::exp(logits[p] - top);
    weight += w;
    sum += w * values.row(selection.kept_keys[p]).transpose();
  }
  return sum / weight;
}

namespace {

//! tail_radius_bound around an already computed kept mean (output_certificate needs both).
double tail_radius_bound_around(const SearchResult& selection, const Eigen::MatrixXd& values,
                                const KeyCells* cells, const Eigen::VectorXd& mean) {
  if (!selection.unvisited_cells.empty()) {
    if (cells == nullptr || !cells->has_values() || cells->n() != selection.n ||
        cells->dv() != static_cast<std::size_t>(values.cols())) {
      throw std::invalid_argument(
          "output certificate: unvisited cells need the search's cells with value summaries");
    }
  }
  const auto dv = static_cast<std::size_t>(values.cols());
  std::vector<double> scratch, row(dv), reach(dv);
  double largest = 0.0;
  for (std::uint32_t j : selection.dropped_keys) {  // scored, so their values are known
    for (std::size_t c = 0; c < dv; ++c)
      row[c] = values(j, static_cast<Eigen::Index>(c));
    largest = std::max(largest, distance(row.data(), mean.data(), dv, scratch));
  }
  for (std::uint32_t cell : selection.unvisited_cells) {
    // Centroid–radius: ‖v − μ‖ <= ‖c − μ‖ + r. Box: each coordinate of v − μ is at most
    // max(|vmin − μ|, |vmax − μ|) in size.
    const auto lo = cells->value_min(cell), hi = cells->value_max(cell);
    const double around = distance(cells->value_centroid(cell).data(), mean.data(), dv, scratch) +
                          cells->value_radius(cell);
    for (std::size_t c = 0; c < dv; ++c)
      reach[c] = std::max(std::abs(lo[c] - mean[static_cast<Eigen::Index>(c)]),
                          std::abs(hi[c] - mean[static_cast<Eigen::Index>(c)]));
    largest = std::max(largest, std::min(around, scaled_norm(reach.data(), dv)));
  }
  if (largest == 0.0 && selection.dropped_keys.empty() && selection.unvisited_cells.empty()) {
    return 0.0;  // K holds every key
  }
  // Rounding: each computed distance is within (dv + 6) u of the distance to the computed mean
  // (relative), and the computed mean is within 4 (|K| + 8) u sqrt(dv) max_{K,c} |v_ic| of the
  // exact μ_K (a weighted mean of |K| terms; the top weight is exactly 1, which bounds the exp
  // arguments' rounding: THEORY §13).
  double kept_max = 0.0;
  for (std::uint32_t i : selection.kept_keys)
    kept_max = std::max(kept_max, values.row(i).cwiseAbs().maxCoeff());
  const double shift = 4.0 * (static_cast<double>(selection.kept_keys.size()) + 8.0) *
                       kUnitRoundoff * std::sqrt(static_cast<double>(dv)) * kept_max;
  const double rel = 4.0 * (static_cast<double>(dv) + 8.0) * kUnitRoundoff;
  return std::nextafter(largest * (1.0 + rel) + shift, kInf);
}

//! τ̄ · D from the certified tail-mass bound and the radius bound.
double certificate_from_radius(const SearchResult& selection, double radius) {
  if (radius == 0.0 || selection.bound == 0.0) return 0.0;
  return std::nextafter(selection.bound * radius * (1.0 + 4.0 * kUnitRoundoff), kInf);
}

}  // namespace

double tail_radius_bound(const SearchResult& selection, const Eigen::MatrixXd& values,
                         const KeyCells* cells) {
  check_selection(selection, values);
  return tail_radius_bound_around(selection, values, cells, kept_mean(selection, values));
}

double certified_output_bound(const SearchResult& selection, const Eigen::MatrixXd& values,
                              const KeyCells* cells) {
  return certificate_from_radius(selection, tail_radius_bound(selection, values, cells));
}

OutputCertificate output_certificate(const SearchResult& selection, const Eigen::MatrixXd& values,
                                     const KeyCells* cells, std::span<const double> logits,
                                     bool with_diameter) {
  check_selection(selection, values);
  if (logits.size() != selection.n) {
    throw std::invalid_argument("output certificate: logits has " + std::to_string(logits.size()) +
                                " entries for a row of " + std::to_string(selection.n) + " keys");
  }
  OutputCertificate out;
  out.kept = selection.kept;
  out.tau_bound = selection.bound;
  const Eigen::VectorXd mean = kept_mean(selection, values);  // once: the costly part
  out.radius_bound = tail_radius_bound_around(selection, values, cells, mean);
  out.certificate = certificate_from_radius(selection, out.radius_bound);

  const TailProfile profile(logits);
  if (profile.n() != selection.n) {
    throw std::invalid_argument("output certificate: the row has masked logits");
  }
  const auto w = profile.weights();
  const auto pos = profile.positions();
  const double z = profile.total();
  const std::size_t n = profile.n();
  std::vector<char> kept(n, 0);
  for (std::uint32_t i : selection.kept_keys)
    kept.at(i) = 1;

  const Eigen::Index dv = values.cols();
  // Attn − μ_K = Σ_T P_j (v_j − μ_K): no cancellation between two near-equal means. Sums from the
  // bottom of the sorted order, like every tail quantity.
  Eigen::VectorXd tail_sum = Eigen::VectorXd::Zero(dv), attn = Eigen::VectorXd::Zero(dv);
  double tail_weight = 0.0, radius = 0.0, largest = 0.0;
  for (std::size_t r = n; r-- > 0;) {
    const auto v = values.row(pos[r]).transpose();
    attn += w[r] * v;
    largest = std::max(largest, euclidean_norm(v));
    if (kept[pos[r]]) continue;
    tail_weight += w[r];
    tail_sum += w[r] * (v - mean);
    radius = std::max(radius, euclidean_norm(v - mean));
  }
  attn /= z;
  out.tau = tail_weight / z;
  out.exact = euclidean_norm(tail_sum) / z;
  out.head_radius = out.tau * radius;
  out.generic = 2.0 * out.tau * largest;
  double variance = 0.0;
  for (std::size_t r = n; r-- > 0;)
    variance += w[r] / z * squared_norm(values.row(pos[r]).transpose() - attn);
  out.variance = out.tau < 1.0 ? std::sqrt(out.tau / (1.0 - out.tau) * variance) : kInf;
  if (with_diameter) {
    double diameter = 0.0;
    for (std::size_t j = 0; j < n; ++j) {
      if (kept[j]) continue;
      for (std::uint32_t i : selection.kept_keys)
        diameter = std::max(diameter, euclidean_norm(values.row(j) - values.row(i)));
    }
    out.diameter = out.tau * diameter;
  } else {
    out.diameter = kNaN;
  }
  out.certificate_ratio = ratio(out.certificate, out.exact);
  out.diameter_ratio = ratio(out.diameter, out.exact);
  out.head_radius_ratio = ratio(out.head_radius, out.exact);
  out.variance_ratio = ratio(out.variance, out.exact);
  out.generic_ratio = ratio(out.generic, out.exact);
  return out;
}

}  // namespace tvk
