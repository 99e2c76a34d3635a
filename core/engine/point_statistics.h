#pragma once
//! \file Accumulators of one grid point. Integer statistics (k sums, held counts, the k
//! histograms behind the quantiles) are exact and merge in any order; double sums are kept per
//! work item and merged in work-item order, so results are bit-identical at any thread count.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/rows/row_analysis.h"

namespace tvk {

//! Sizes that fix the layout of the accumulators.
struct StatisticsShape {
  std::size_t eps = 0;      //!< budgets
  std::size_t bounds = 0;   //!< certifying bounds
  std::size_t grid = 0;     //!< k/n grid points of the tau profile
  std::size_t max_n = 0;    //!< largest row length (histogram size - 1)
  bool store_rows = false;  //!< keep per-row values

  bool operator==(const StatisticsShape& other) const = default;
};

//! One stored row's values, by name: n, the logit mean and std (0 unless fitted), the masses on
//! the first key and on the last keys (0 unless computed), then k_eps
//! and the tail mass at k_eps per eps, then each certifying bound's kept count, bound value and
//! whether it held, per eps. PointStatistics::add writes this layout; nothing else knows its
//! offsets.
class StoredRow {
 public:
  StoredRow(const double* values, std::size_t eps_count) : v_(values), eps_(eps_count) {}
  //! Values per row for this many budgets and bounds.
  static constexpr std::size_t width(std::size_t eps_count, std::size_t bounds) {
    return kFixed + 2 * eps_count + 3 * bounds * eps_count;
  }
  double n() const { return v_[0]; }
  double logit_mean() const { return v_[1]; }
  double logit_std() const { return v_[2]; }  //!< the fitted sigma-hat (ddof 0)
  double first_key_mass() const { return v_[3]; }
  double last_keys_mass() const { return v_[4]; }
  double k_eps(std::size_t e) const { return v_[kFixed + 2 * e]; }
  double tau_at_k_eps(std::size_t e) const { return v_[kFixed + 1 + 2 * e]; }
  double bound_kept(std::size_t b, std::size_t e) const { return v_[bound_at(b, e)]; }
  double bound_value(std::size_t b, std::size_t e) const { return v_[bound_at(b, e) + 1]; }
  //! Whether the bound held for this row (its kept set's true tail mass <= the bound).
  bool bound_held(std::size_t b, std::size_t e) const { return v_[bound_at(b, e) + 2] != 0.0; }

 private:
  std::size_t bound_at(std::size_t b, std::size_t e) const {
    return kFixed + 2 * eps_ + 3 * (b * eps_ + e);
  }
  static constexpr std::size_t kFixed = 5;  // n, mean, std, first-key mass, last-keys mass
  const double* v_;
  std::size_t eps_;
};

//! Statistics of a set of rows of one point.
class PointStatistics {
 public:
  PointStatistics() = default;
  explicit PointStatistics(const StatisticsShape& shape);

  //! Adds one analysed row.
  void add(const RowAnalysis& row);
  //! this += other. Integer parts commute; call in work-item order for bit-identical doubles.
  void merge(const PointStatistics& other);
  //! Empties the statistics, keeping the shape (and the allocation).
  void clear();

  // The parts of merge(), for merging work items computed elsewhere (shards, MPI ranks):
  // integer parts in any order, double sums and row values in work-item order.
  //! Adds rows, integer sums and histograms of `other`.
  void add_integers(const PointStatistics& other);
  //! Adds double sums laid out as doubles() (one work item's, in work-item order).
  void add_doubles(const std::vector<double>& doubles);
  //! Appends one work item's stored rows.
  void append_row_values(const std::vector<double>& values);
  //! The double sums, in their internal layout.
  const std::vector<double>& doubles() const { return doubles_; }

  const StatisticsShape& shape() const { return shape_; }
  std::int64_t rows() const { return rows_; }

  // Layout accessors (e = eps index, b = bound index, g = grid index).
  std::int64_t k_sum(std::size_t e) const { return ints_[e]; }
  std::int64_t k_sq_sum(std::size_t e) const { return ints_[shape_.eps + e]; }
  std::int64_t bound_k_sum(std::size_t b, std::size_t e) const { return ints_[bound_int(0, b, e)]; }
  std::int64_t bound_k_sq_sum(std::size_t b, std::size_t e) const {
    return ints_[bound_int(1, b, e)];
  }
  std::int64_t bound_held(std::size_t b, std::size_t e) const { return ints_[bound_int(2, b, e)]; }
  double tau_at_k_sum(std::size_t e) const { return doubles_[e]; }
  double reduction_sum(std::size_t e) const { return doubles_[shape_.eps + e]; }
  double bound_price_sum(std::size_t b, std::size_t e) const {
    return doubles_[bound_double(0, b, e)];
  }
  double bound_reduction_sum(std::size_t b, std::size_t e) const {
    return doubles_[bound_double(1, b, e)];
  }
  //! Σ k/n and Σ (k/n)² over rows: the mean of k/n when rows differ in length.
  double k_over_n_sum(std::size_t e) const { return doubles_[ratio_double(0, 0, e)]; }
  double k_over_n_sq_sum(std::size_t e) const { return doubles_[ratio_double(1, 0, e)]; }
  double bound_k_over_n_sum(std::size_t b, std::size_t e) const {
    return doubles_[ratio_double(0, b + 1, e)];
  }
  double bound_k_over_n_sq_sum(std::size_t b, std::size_t e) const {
    return doubles_[ratio_double(1, b + 1, e)];
  }
  double tau_grid_sum(std::size_t g) const { return doubles_[grid_double(0, g)]; }
  double tau_grid_sq_sum(std::size_t g) const { return doubles_[grid_double(1, g)]; }
  //! Number of rows whose k_eps (for budget e) equals k, k = 0..max_n.
  std::span<const std::int64_t> k_histogram(std::size_t e) const;

  //! Per-row values when shape.store_rows, in StoredRow's layout; read them through
  //! stored_rows().
  const std::vector<double>& row_values() const { return row_values_; }
  //! Every stored row, in row order, as typed views into row_values().
  std::vector<StoredRow> stored_rows() const;
  //! Number of values per stored row.
  std::size_t row_value_count() const;

  //! Exact serialisation for checkpoints (raw bits of every double).
  std::string serialize() const;
  //! Inverse of serialize(); throws std::runtime_error on a corrupt or mismatched record.
  static PointStatistics deserialize(const std::string& bytes, const StatisticsShape& shape);

  bool operator==(const PointStatistics& other) const = default;

 private:
  std::size_t bound_int(std::size_t field, std::size_t b, std::size_t e) const {
    return 2 * shape_.eps + (field * shape_.bounds + b) * shape_.eps + e;
  }
  std::size_t bound_double(std::size_t field, std::size_t b, std::size_t e) const {
    return 2 * shape_.eps + (field * shape_.bounds + b) * shape_.eps + e;
  }
  std::size_t grid_double(std::size_t field, std::size_t g) const {
    return 2 * shape_.eps + 2 * shape_.bounds * shape_.eps + field * shape_.grid + g;
  }
  // Sums of k/n: field 0 = Σ, 1 = Σ², slot 0 = exact k_eps, b + 1 = bound b.
  std::size_t ratio_double(std::size_t field, std::size_t slot, std::size_t e) const {
    return 2 * shape_.eps + 2 * shape_.bounds * shape_.eps + 2 * shape_.grid +
           (field * (shape_.bounds + 1) + slot) * shape_.eps + e;
  }

  StatisticsShape shape_;
  std::int64_t rows_ = 0;
  std::vector<std::int64_t> ints_;
  std::vector<double> doubles_;
  std::vector<std::int64_t> histogram_;  // eps × (max_n + 1)
  std::vector<double> row_values_;
};

//! Summary values derived from a point's statistics (the numbers written to results files).
struct KSummary {
  double mean = 0.0, std = 0.0, sem = 0.0;  //!< of k/n over rows
  double q05 = 0.0, q50 = 0.0, q95 = 0.0;   //!< quantiles of k/n (numpy's linear method)
};

//! Mean, std and sem of k/n from integer sums (exact variance numerator).
KSummary summarize_k(std::int64_t k_sum, std::int64_t k_sq_sum, std::int64_t rows, std::size_t n);
//! Adds the quantiles of k/n from the k histogram of a point whose rows all have length n.
void add_quantiles(KSummary& summary, std::span<const std::int64_t> histogram, std::int64_t rows,
                   std::size_t n);

}  // namespace tvk
