#include "core/certified/cells.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "core/certified/cell_kinds.h"
#include "core/certified/kmeans.h"
#include "core/certified/logits.h"
#include "core/kernels/kernel_set.h"

namespace tvk {
namespace {

constexpr double kUnitRoundoff = 0x1p-53;  // u: round-to-nearest relative error of one operation
constexpr double kInf = std::numeric_limits<double>::infinity();

// Relative margin for a bound computed from d-term dot products (see upper_bounds(); THEORY §10):
// rigorous 4 (d + 8) u, plus a 1e-12 relative floor kept as a safety belt.
double relative_margin(std::size_t d) {
  return 4.0 * (static_cast<double>(d) + 8.0) * kUnitRoundoff + 1e-12;
}

// Rounds an upper bound up rigorously: a computed norm has relative error below (d + 6) u, so
// multiplying by 1 + 2 (d + 8) u and stepping one ulp up gives a value >= the exact one.
double round_up_norm(double value, std::size_t d) {
  if (!std::isfinite(value)) return kInf;
  if (value == 0.0) return 0.0;  // a computed norm is 0 only when every difference is exactly 0
  const double inflated = value * (1.0 + 2.0 * (static_cast<double>(d) + 8.0) * kUnitRoundoff);
  return std::nextafter(inflated, kInf);
}

void check_finite(const Eigen::MatrixXd& m, const char* what) {
  if (!m.allFinite()) {
    throw std::invalid_argument(std::string("KeyCells: ") + what + " has a non-finite entry");
  }
}

// ‖a − b‖₂ (d entries) with the difference formed in a scratch buffer.
double distance(const double* a, const double* b, std::size_t d, std::vector<double>& scratch) {
  scratch.resize(d);
  for (std::size_t c = 0; c < d; ++c)
    scratch[c] = a[c] - b[c];
  return scaled_norm(scratch.data(), d);
}

// Per-cell min, max, centroid and rigorous radius of the rows `members` of a row-major matrix
// `data` (row i at data + i * width), appended to the output vectors.
void summarise(std::span<const std::uint32_t> members, const std::vector<double>& data,
               std::size_t width, std::vector<double>& lo, std::vector<double>& hi,
               std::vector<double>& centre, std::vector<double>& radius,
               std::vector<double>& scratch) {
  const std::size_t base = lo.size();
  lo.resize(base + width, kInf);
  hi.resize(base + width, -kInf);
  centre.resize(base + width, 0.0);
  for (std::uint32_t i : members) {
    const double* x = data.data() + static_cast<std::size_t>(i) * width;
    for (std::size_t c = 0; c < width; ++c) {
      lo[base + c] = std::min(lo[base + c], x[c]);
      hi[base + c] = std::max(hi[base + c], x[c]);
      centre[base + c] += x[c];
    }
  }
  const double count = static_cast<double>(members.size());
  for (std::size_t c = 0; c < width; ++c) {
    // The mean of values in [lo, hi] stays there; clamping keeps it so after rounding (and after
    // an overflowing sum). The radius below is measured from this exact stored vector.
    double mean = centre[base + c] / count;
    if (!std::isfinite(mean)) mean = 0.5 * lo[base + c] + 0.5 * hi[base + c];
    centre[base + c] = std::clamp(mean, lo[base + c], hi[base + c]);
  }
  double largest = 0.0;
  for (std::uint32_t i : members) {
    const double* x = data.data() + static_cast<std::size_t>(i) * width;
    largest = std::max(largest, distance(x, centre.data() + base, width, scratch));
  }
  radius.push_back(round_up_norm(largest, width));
}

}  // namespace

// The names live in the cell-kind registry (cell_kinds.cpp), with each kind's keys.
std::string cell_kind_name(CellKind kind) {
  return cell_kind_entry(kind).name;
}

CellKind parse_cell_kind(std::string_view name) {
  return cell_kind_entry(name).kind;
}

std::string upper_bound_kind_name(UpperBoundKind kind) {
  switch (kind) {
    case UpperBoundKind::kBox:
      return "box";
    case UpperBoundKind::kCentroidRadius:
      return "centroid_radius";
    case UpperBoundKind::kMin:
      return "min";
  }
  return "?";
}

UpperBoundKind parse_upper_bound_kind(std::string_view name) {
  if (name == "box") return UpperBoundKind::kBox;
  if (name == "centroid_radius") return UpperBoundKind::kCentroidRadius;
  if (name == "min") return UpperBoundKind::kMin;
  throw std::invalid_argument("unknown upper bound '" + std::string(name) +
                              "' (expected box, centroid_radius or min)");
}

double scaled_norm(const double* x, std::size_t d) {
  double largest = 0.0;
  for (std::size_t c = 0; c < d; ++c)
    largest = std::max(largest, std::abs(x[c]));
  if (largest == 0.0 || !std::isfinite(largest)) return largest;
  // Every scaled entry is in [−1, 1] and one is ±1: the sum is >= 1, so squares that underflow
  // are negligible (relative 2^-1074 each) and nothing overflows.
  double sum = 0.0;
  for (std::size_t c = 0; c < d; ++c) {
    const double t = x[c] / largest;
    sum += t * t;
  }
  return largest * std::sqrt(sum);
}

KeyCells::KeyCells(const Eigen::MatrixXd& keys, const Eigen::MatrixXd& values,
                   const CellOptions& options)
    : kind_(options.kind) {
  const auto n = static_cast<std::size_t>(keys.rows());
  d_ = static_cast<std::size_t>(keys.cols());
  if (n == 0 || d_ == 0) throw std::invalid_argument("KeyCells: the key set is empty");
  if (n > std::numeric_limits<std::uint32_t>::max()) {
    throw std::invalid_argument("KeyCells: too many keys");
  }
  check_finite(keys, "keys");
  if (values.size() > 0) {
    if (values.rows() != keys.rows()) {
      throw std::invalid_argument("KeyCells: values has " + std::to_string(values.rows()) +
                                  " rows for " + std::to_string(n) + " keys");
    }
    check_finite(values, "values");
    dv_ = static_cast<std::size_t>(values.cols());
  }

  // The partition: labels per key, then members grouped by label in ascending key order.
  std::vector<std::uint32_t> label(n);
  if (options.kind == CellKind::kBlocks) {
    if (options.block == 0) throw std::invalid_argument("KeyCells: block must be >= 1");
    for (std::size_t i = 0; i < n; ++i)
      label[i] = static_cast<std::uint32_t>(i / options.block);
  } else {
    if (options.clusters == 0) throw std::invalid_argument("KeyCells: clusters must be >= 1");
    label = kmeans_labels(keys, options.clusters, options.iterations, options.seed);
  }
  const std::size_t cells = *std::max_element(label.begin(), label.end()) + 1;
  offsets_.assign(cells + 1, 0);
  for (std::uint32_t l : label)
    ++offsets_[l + 1];
  for (std::size_t j = 0; j < cells; ++j)
    offsets_[j + 1] += offsets_[j];
  order_.resize(n);
  std::vector<std::size_t> fill(offsets_.begin(), offsets_.end() - 1);
  for (std::size_t i = 0; i < n; ++i)
    order_[fill[label[i]]++] = static_cast<std::uint32_t>(i);
  cell_of_ = std::move(label);

  // Keys in cell order, row-major: scoring a cell reads one contiguous block.
  const std::vector<double> key_rows = row_major_keys(keys);
  keys_.resize(n * d_);
  for (std::size_t p = 0; p < n; ++p)
    std::copy_n(key_rows.data() + static_cast<std::size_t>(order_[p]) * d_, d_,
                keys_.data() + p * d_);

  std::vector<double> scratch;
  const std::vector<double> value_rows = dv_ > 0 ? row_major_keys(values) : std::vector<double>();
  for (std::size_t j = 0; j < cells; ++j) {
    summarise(members(j), key_rows, d_, kmin_, kmax_, centroid_, radius_, scratch);
    if (dv_ > 0)
      summarise(members(j), value_rows, dv_, vmin_, vmax_, vcentroid_, vradius_, scratch);
  }
  absmax_.resize(kmin_.size());
  for (std::size_t e = 0; e < kmin_.size(); ++e)
    absmax_[e] = std::max(std::abs(kmin_[e]), std::abs(kmax_[e]));
  // Channel-major copies for the cell_sums kernel (lanes are cells): summary[e · cells + j].
  by_channel_.resize(4 * cells * d_);
  const std::vector<double>* summaries[] = {&kmin_, &kmax_, &absmax_, &centroid_};
  for (std::size_t s = 0; s < 4; ++s) {
    double* out = by_channel_.data() + s * cells * d_;
    for (std::size_t j = 0; j < cells; ++j)
      for (std::size_t e = 0; e < d_; ++e)
        out[e * cells + j] = (*summaries[s])[j * d_ + e];
  }
}

void KeyCells::check_query(const Eigen::VectorXd& query, double scale) const {
  if (static_cast<std::size_t>(query.size()) != d_) {
    throw std::invalid_argument("KeyCells: query has " + std::to_string(query.size()) +
                                " entries for keys of dimension " + std::to_string(d_));
  }
  if (!query.allFinite()) throw std::invalid_argument("KeyCells: query has a non-finite entry");
  if (!(scale > 0.0) || !std::isfinite(scale)) {
    throw std::invalid_argument("KeyCells: scale must be finite and > 0");
  }
}

void KeyCells::upper_bounds(const Eigen::VectorXd& query, double scale, UpperBoundKind kind,
                            std::span<double> out) const {
  check_query(query, scale);
  if (out.size() != cells()) throw std::invalid_argument("KeyCells::upper_bounds: out size");
  // Why the margin makes U_j an upper bound of the COMPUTED logits (u = 2^-53, γ_m = m u/(1−m u)).
  // For a key k of cell j let A_j = Σ_d |q_d| max(|kmin_jd|, |kmax_jd|) >= Σ_d |q_d k_d|.
  //  * A computed logit fl(scale · fl(q·k)), in any summation order and with the scale applied
  //    before or after the products, is within γ_{d+2} scale A_j + η of scale (q·k), where η
  //    <= (d + 2) 2^-1075 collects products that land in the subnormal range.
  //  * Box: exactly, q·k <= Σ_d max(q_d kmin_d, q_d kmax_d) = Box_j, whose terms are bounded by
  //    |q_d| absmax_jd, so the computed fl(scale · fl(Box_j)) is within γ_{d+2} scale A_j + η
  //    of scale Box_j.
  //  * Centroid–radius: exactly, q·k <= q·c + ‖q‖ ‖k − c‖ <= q·c + ‖q‖ r_j for the stored c and
  //    the rigorously rounded-up r_j. The computed value is within γ_{d+8} scale (B_j + N r_j)
  //    + η of the exact one, B_j = Σ_d |q_d c_d|, N = computed ‖q‖ (relative error < (d+4) u).
  //  So computed logit <= computed bound + 2 γ_{d+8} scale (A_j + B_j + N r_j) + 2 η. The margin
  //  adds relative_margin(d) = 4 (d+8) u + 1e-12 >= 2 γ_{d+8} (1 + (d+4) u) (the margin itself
  //  is computed with relative error < (d+4) u) times scale (A_j [+ B_j + N r_j]) and 1e-300 >=
  //  2 η for any d < 10^20; the final addition is rounded up by stepping one ulp toward +inf.
  const std::size_t cells = this->cells();
  const double* q = query.data();
  const double norm = scaled_norm(q, d_);
  const double rel = relative_margin(d_);
  constexpr double kAbsoluteMargin = 1e-300;
  // box_j = Σ_d (q_d ≥ 0 ? q_d kmax_d : q_d kmin_d), a_j = Σ_d |q_d| max(|kmin_d|, |kmax_d|),
  // qc_j = q·c_j, b_j = Σ_d |q_d c_d|, each summed over channels in order (a kernel).
  std::vector<double> sums(4 * cells);
  const std::size_t block = cells * d_;
  kernels::active_kernels().cell_sums(q, d_, by_channel_.data(), by_channel_.data() + block,
                                      by_channel_.data() + 2 * block,
                                      by_channel_.data() + 3 * block, cells, sums.data());
  for (std::size_t j = 0; j < cells; ++j) {
    const double box = sums[j], a = sums[cells + j], qc = sums[2 * cells + j],
                 b = sums[3 * cells + j];
    double bound = kInf;
    if (kind != UpperBoundKind::kCentroidRadius) {
      bound = std::nextafter(scale * box + (rel * scale * a + kAbsoluteMargin), kInf);
    }
    if (kind != UpperBoundKind::kBox) {
      const double spread = norm * radius_[j];
      // r_j = inf (an overflowing radius) or N r_j = 0 * inf: no centroid bound.
      if (std::isfinite(spread)) {
        const double centroid_bound = std::nextafter(
            scale * (qc + spread) + (rel * scale * (a + b + spread) + kAbsoluteMargin), kInf);
        bound = std::min(bound, centroid_bound);
      }
    }
    out[j] = std::isnan(bound) ? kInf : bound;
  }
}

void KeyCells::score_cell(const Eigen::VectorXd& query, double scale, std::size_t j,
                          std::span<double> out) const {
  check_query(query, scale);
  if (out.size() != cell_size(j)) throw std::invalid_argument("KeyCells::score_cell: out size");
  kernels::active_kernels().key_logits(query.data(), keys_.data() + offsets_[j] * d_, out.size(),
                                       d_, scale, out.data());
}

std::vector<double> KeyCells::logits(const Eigen::VectorXd& query, double scale) const {
  check_query(query, scale);
  std::vector<double> by_cell(n()), out(n());
  kernels::active_kernels().key_logits(query.data(), keys_.data(), order_.size(), d_, scale,
                                       by_cell.data());
  for (std::size_t p = 0; p < order_.size(); ++p)
    out[order_[p]] = by_cell[p];
  return out;
}

}  // namespace tvk
