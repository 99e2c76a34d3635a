#include "core/engine/point_statistics.h"

#include "core/engine/byte_codec.h"

#include <cmath>
#include <cstring>
#include <stdexcept>

namespace tvk {

namespace {

//! Relative slack of the "held" check. Where a bound is exact for the kept set (B2 and B3 with
//! one dropped key, B4 when the dropped blocks are exactly the tail) it equals tau
//! mathematically, but the two are summed in different orders, so a strict tau <= bound fails
//! on rounding (seen: 1e-15 relative, Gaussian sigma 0.5, eps 0.01). 1e-9 is far above the
//! rounding of sums of up to ~10^6 positive terms and far below any real violation.
constexpr double kHeldRelativeSlack = 1e-9;

bool held(const Certificate& c) {
  return c.tau <= c.bound + kHeldRelativeSlack * c.tau;
}

}  // namespace

PointStatistics::PointStatistics(const StatisticsShape& shape) : shape_(shape) {
  ints_.assign(2 * shape.eps + 3 * shape.bounds * shape.eps, 0);
  doubles_.assign(2 * shape.eps + 2 * shape.bounds * shape.eps + 2 * shape.grid +
                      2 * (shape.bounds + 1) * shape.eps,
                  0.0);
  histogram_.assign(shape.eps * (shape.max_n + 1), 0);
}

std::size_t PointStatistics::row_value_count() const {
  return StoredRow::width(shape_.eps, shape_.bounds);
}

std::vector<StoredRow> PointStatistics::stored_rows() const {
  std::vector<StoredRow> rows;
  const std::size_t width = row_value_count();
  for (std::size_t at = 0; at + width <= row_values_.size(); at += width)
    rows.emplace_back(row_values_.data() + at, shape_.eps);
  return rows;
}

void PointStatistics::add(const RowAnalysis& row) {
  const std::size_t eps_count = shape_.eps;
  const double n = static_cast<double>(row.n);
  ++rows_;
  for (std::size_t e = 0; e < eps_count; ++e) {
    const auto k = static_cast<std::int64_t>(row.k_eps[e]);
    ints_[e] += k;
    ints_[eps_count + e] += k * k;
    histogram_[e * (shape_.max_n + 1) + row.k_eps[e]] += 1;
    doubles_[e] += row.tau_at_k_eps[e];
    doubles_[eps_count + e] += n / static_cast<double>(k);
    const double ratio = static_cast<double>(k) / n;
    doubles_[ratio_double(0, 0, e)] += ratio;
    doubles_[ratio_double(1, 0, e)] += ratio * ratio;
  }
  for (std::size_t b = 0; b < shape_.bounds; ++b) {
    for (std::size_t e = 0; e < eps_count; ++e) {
      const Certificate& c = row.certificates[b * eps_count + e];
      const auto kept = static_cast<std::int64_t>(c.kept);
      ints_[bound_int(0, b, e)] += kept;
      ints_[bound_int(1, b, e)] += kept * kept;
      // Held: the certified bound really bounds the kept set's tail mass (up to rounding).
      ints_[bound_int(2, b, e)] += held(c) ? 1 : 0;
      doubles_[bound_double(0, b, e)] +=
          static_cast<double>(c.kept) / static_cast<double>(row.k_eps[e]);
      doubles_[bound_double(1, b, e)] += n / static_cast<double>(c.kept);
      const double ratio = static_cast<double>(c.kept) / n;
      doubles_[ratio_double(0, b + 1, e)] += ratio;
      doubles_[ratio_double(1, b + 1, e)] += ratio * ratio;
    }
  }
  for (std::size_t g = 0; g < shape_.grid; ++g) {
    doubles_[grid_double(0, g)] += row.tau_grid[g];
    doubles_[grid_double(1, g)] += row.tau_grid[g] * row.tau_grid[g];
  }
  if (shape_.store_rows) {
    row_values_.push_back(n);
    row_values_.push_back(row.logit_mean);
    row_values_.push_back(row.logit_std);
    row_values_.push_back(row.first_key_mass);
    row_values_.push_back(row.last_keys_mass);
    for (std::size_t e = 0; e < eps_count; ++e) {
      row_values_.push_back(static_cast<double>(row.k_eps[e]));
      row_values_.push_back(row.tau_at_k_eps[e]);
    }
    for (std::size_t b = 0; b < shape_.bounds; ++b) {
      for (std::size_t e = 0; e < eps_count; ++e) {
        const Certificate& c = row.certificates[b * eps_count + e];
        row_values_.push_back(static_cast<double>(c.kept));
        row_values_.push_back(c.bound);
        row_values_.push_back(held(c) ? 1.0 : 0.0);
      }
    }
  }
}

void PointStatistics::merge(const PointStatistics& other) {
  add_integers(other);
  add_doubles(other.doubles_);
  append_row_values(other.row_values_);
}

void PointStatistics::add_integers(const PointStatistics& other) {
  rows_ += other.rows_;
  for (std::size_t i = 0; i < ints_.size(); ++i)
    ints_[i] += other.ints_[i];
  for (std::size_t i = 0; i < histogram_.size(); ++i)
    histogram_[i] += other.histogram_[i];
}

void PointStatistics::add_doubles(const std::vector<double>& doubles) {
  if (doubles.size() != doubles_.size()) {
    throw std::invalid_argument("PointStatistics::add_doubles: layout mismatch");
  }
  for (std::size_t i = 0; i < doubles_.size(); ++i)
    doubles_[i] += doubles[i];
}

void PointStatistics::append_row_values(const std::vector<double>& values) {
  row_values_.insert(row_values_.end(), values.begin(), values.end());
}

void PointStatistics::clear() {
  rows_ = 0;
  std::fill(ints_.begin(), ints_.end(), 0);
  std::fill(doubles_.begin(), doubles_.end(), 0.0);
  std::fill(histogram_.begin(), histogram_.end(), 0);
  row_values_.clear();
}

std::span<const std::int64_t> PointStatistics::k_histogram(std::size_t e) const {
  return std::span<const std::int64_t>(histogram_)
      .subspan(e * (shape_.max_n + 1), shape_.max_n + 1);
}

namespace {

constexpr std::uint64_t kMagic = 0x31764b5654534b50ULL;  // "PKSTVKv1"

}  // namespace

std::string PointStatistics::serialize() const {
  ByteWriter out;
  out.put(kMagic);
  out.put(rows_);
  out.put_vector(ints_);
  out.put_vector(doubles_);
  out.put_vector(histogram_);
  out.put_vector(row_values_);
  return out.take();
}

PointStatistics PointStatistics::deserialize(const std::string& bytes,
                                             const StatisticsShape& shape) {
  PointStatistics stats(shape);
  ByteReader in(bytes, "statistics record");
  if (in.get<std::uint64_t>() != kMagic) throw std::runtime_error("not a tvk statistics record");
  stats.rows_ = in.get<decltype(stats.rows_)>();
  const std::size_t ints = stats.ints_.size(), doubles = stats.doubles_.size(),
                    histogram = stats.histogram_.size();
  in.get_vector(stats.ints_);
  in.get_vector(stats.doubles_);
  in.get_vector(stats.histogram_);
  in.get_vector(stats.row_values_);
  if (stats.ints_.size() != ints || stats.doubles_.size() != doubles ||
      stats.histogram_.size() != histogram || !in.done()) {
    throw std::runtime_error("statistics record does not match the configuration");
  }
  // Internal consistency: every eps histogram counts each row once, and per-row values are
  // present exactly when the shape keeps them (a flipped bit or another store_rows setting).
  const auto rows = stats.rows_;
  bool consistent = rows >= 0;
  for (std::size_t e = 0; consistent && e < shape.eps; ++e) {
    std::int64_t counted = 0;
    for (const std::int64_t count : stats.k_histogram(e)) {
      // counted <= rows throughout, so rows - counted cannot overflow (the sum could).
      if (count < 0 || count > rows - counted) {
        consistent = false;
        break;
      }
      counted += count;
    }
    consistent = consistent && counted == rows;
  }
  const std::size_t expected_values =
      shape.store_rows && rows >= 0 ? static_cast<std::size_t>(rows) * stats.row_value_count() : 0;
  if (!consistent || stats.row_values_.size() != expected_values) {
    throw std::runtime_error("statistics record is corrupt or does not match the configuration");
  }
  return stats;
}

KSummary summarize_k(std::int64_t k_sum, std::int64_t k_sq_sum, std::int64_t rows, std::size_t n) {
  KSummary s;
  if (rows <= 0) return s;
  const double scale = static_cast<double>(n);
  s.mean = static_cast<double>(k_sum) / static_cast<double>(rows) / scale;
  if (rows > 1) {
    // rows·Σk² − (Σk)² is computed exactly in 128 bits: no cancellation in the variance.
    const __int128 numerator =
        static_cast<__int128>(rows) * k_sq_sum - static_cast<__int128>(k_sum) * k_sum;
    const double variance = static_cast<double>(numerator) /
                            (static_cast<double>(rows) * static_cast<double>(rows - 1));
    s.std = std::sqrt(variance) / scale;
    s.sem = s.std / std::sqrt(static_cast<double>(rows));
  }
  return s;
}

void add_quantiles(KSummary& summary, std::span<const std::int64_t> histogram, std::int64_t rows,
                   std::size_t n) {
  if (rows <= 0) return;
  // The i-th smallest k (0-based) from cumulative counts.
  auto order_statistic = [&](std::int64_t i) {
    std::int64_t seen = 0;
    for (std::size_t k = 0; k < histogram.size(); ++k) {
      seen += histogram[k];
      if (seen > i) return static_cast<double>(k);
    }
    return static_cast<double>(histogram.size() - 1);
  };
  auto quantile = [&](double q) {
    const double h = static_cast<double>(rows - 1) * q;  // numpy's default ("linear")
    const auto lower = static_cast<std::int64_t>(std::floor(h));
    const double low = order_statistic(lower);
    const double high = lower + 1 < rows ? order_statistic(lower + 1) : low;
    return (low + (h - static_cast<double>(lower)) * (high - low)) / static_cast<double>(n);
  };
  summary.q05 = quantile(0.05);
  summary.q50 = quantile(0.50);
  summary.q95 = quantile(0.95);
}

}  // namespace tvk
