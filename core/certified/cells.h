#pragma once
//! \file Cell summaries of a row's keys for certified selection (THEORY §2 B5, §6). The keys of a
//! key set are partitioned once into cells (contiguous position blocks, or k-means clusters);
//! each cell keeps per-channel key bounds kmin/kmax, a centroid and a radius, and the same for
//! the values. From a query q and a cell's summary an upper bound U_j >= max_{i∈C_j} s_i on the
//! cell's logits s_i = scale·q·k_i follows without scoring the cell: the per-channel box
//! Σ_d max(q_d kmin_d, q_d kmax_d), the centroid–radius q·c + ‖q‖ r, or the smaller of the two.
//! The bounds hold for the logits as computed in double (any summation order), not only for the
//! exact real numbers: see upper_bounds().

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>
#include "core/numerics/eigen.h"

namespace tvk {

//! How the keys are partitioned into cells.
enum class CellKind {
  kBlocks,    //!< contiguous position blocks of b keys (the last one may be smaller)
  kClusters,  //!< deterministic k-means clusters (k-means++ init, fixed Lloyd iterations)
};

//! "blocks" or "clusters".
std::string cell_kind_name(CellKind kind);
//! Inverse of cell_kind_name(); throws std::invalid_argument for an unknown name.
CellKind parse_cell_kind(std::string_view name);

//! Which summary gives the upper bound U_j.
enum class UpperBoundKind {
  kBox,             //!< Σ_d max(q_d kmin_d, q_d kmax_d) (Quest's per-channel bound)
  kCentroidRadius,  //!< q·c + ‖q‖ r
  kMin,             //!< the smaller of the two (both are valid, so is their minimum)
};

//! "box", "centroid_radius" or "min".
std::string upper_bound_kind_name(UpperBoundKind kind);
//! Inverse of upper_bound_kind_name(); throws std::invalid_argument for an unknown name.
UpperBoundKind parse_upper_bound_kind(std::string_view name);

//! How to build the cells of a key set.
struct CellOptions {
  CellKind kind = CellKind::kBlocks;
  std::size_t block = 16;              //!< b, for kBlocks
  std::size_t clusters = 16;           //!< requested cluster count, for kClusters (<= n are made)
  std::size_t iterations = 10;         //!< Lloyd iterations after the k-means++ initialisation
  std::uint64_t seed = 0x5eedce11ULL;  //!< seed of the k-means++ stream (RandomStream)
};

//! ‖x‖₂ computed with scaling by max |x_d|, so it neither underflows nor overflows; relative
//! error at most (d + 4)·2^-53.
double scaled_norm(const double* x, std::size_t d);

//! The cells of one key set and their summaries, computed once and reused for every query.
class KeyCells {
 public:
  //! Cells of `keys` (n × d, one key per row) with value summaries of `values` (n × d_v; an
  //! empty matrix gives cells without value summaries). Throws std::invalid_argument for n = 0,
  //! d = 0, non-finite entries, a mismatched `values`, block = 0 or clusters = 0.
  KeyCells(const Eigen::MatrixXd& keys, const Eigen::MatrixXd& values, const CellOptions& options);
  //! Cells without value summaries.
  KeyCells(const Eigen::MatrixXd& keys, const CellOptions& options)
      : KeyCells(keys, Eigen::MatrixXd(), options) {}

  std::size_t n() const { return cell_of_.size(); }          //!< keys
  std::size_t d() const { return d_; }                       //!< key dimension
  std::size_t dv() const { return dv_; }                     //!< value dimension (0: no values)
  std::size_t cells() const { return offsets_.size() - 1; }  //!< number of (non-empty) cells
  CellKind kind() const { return kind_; }                    //!< how the cells were made
  bool has_values() const { return dv_ > 0; }                //!< whether value summaries exist

  //! Key indices of cell j, ascending.
  std::span<const std::uint32_t> members(std::size_t j) const {
    return {order_.data() + offsets_[j], offsets_[j + 1] - offsets_[j]};
  }
  //! |C_j|.
  std::size_t cell_size(std::size_t j) const { return offsets_[j + 1] - offsets_[j]; }
  //! The cell of key i.
  std::uint32_t cell_of(std::size_t i) const { return cell_of_[i]; }

  //! Per-channel key minimum of cell j (d entries).
  std::span<const double> key_min(std::size_t j) const { return row(kmin_, d_, j); }
  //! Per-channel key maximum of cell j.
  std::span<const double> key_max(std::size_t j) const { return row(kmax_, d_, j); }
  //! Key centroid c_j (the computed mean of the members).
  std::span<const double> centroid(std::size_t j) const { return row(centroid_, d_, j); }
  //! r_j >= max_{i∈C_j} ‖k_i − c_j‖₂ exactly (the computed maximum, rounded up rigorously).
  double radius(std::size_t j) const { return radius_[j]; }
  //! Per-channel value minimum of cell j (dv entries).
  std::span<const double> value_min(std::size_t j) const { return row(vmin_, dv_, j); }
  //! Per-channel value maximum of cell j.
  std::span<const double> value_max(std::size_t j) const { return row(vmax_, dv_, j); }
  //! Value centroid c^v_j.
  std::span<const double> value_centroid(std::size_t j) const { return row(vcentroid_, dv_, j); }
  //! r^v_j >= max_{i∈C_j} ‖v_i − c^v_j‖₂ exactly.
  double value_radius(std::size_t j) const { return vradius_[j]; }

  //! U_j for every cell (out has cells() entries): U_j >= every computed logit of cell j. Throws
  //! std::invalid_argument for a query of the wrong size, non-finite entries or scale <= 0.
  void upper_bounds(const Eigen::VectorXd& query, double scale, UpperBoundKind kind,
                    std::span<double> out) const;
  //! Canonical logits of the members of cell j, in members(j) order (out has cell_size(j)).
  void score_cell(const Eigen::VectorXd& query, double scale, std::size_t j,
                  std::span<double> out) const;
  //! Canonical logits of every key, in key order (the full row, known in an experiment).
  std::vector<double> logits(const Eigen::VectorXd& query, double scale) const;

 private:
  static std::span<const double> row(const std::vector<double>& m, std::size_t width,
                                     std::size_t j) {
    return {m.data() + j * width, width};
  }
  void check_query(const Eigen::VectorXd& query, double scale) const;

  CellKind kind_;
  std::size_t d_ = 0, dv_ = 0;
  std::vector<std::uint32_t> order_;    // key indices grouped by cell
  std::vector<std::size_t> offsets_;    // cell j = order_[offsets_[j], offsets_[j+1])
  std::vector<std::uint32_t> cell_of_;  // key index -> cell
  std::vector<double> keys_;            // n × d, row-major, in order_ order (for scoring)
  std::vector<double> kmin_, kmax_, absmax_, centroid_, radius_;  // cells × d (radius: cells)
  std::vector<double> by_channel_;  // kmin_, kmax_, absmax_, centroid_ channel-major, in turn
  std::vector<double> vmin_, vmax_, vcentroid_, vradius_;  // cells × dv
};

}  // namespace tvk
