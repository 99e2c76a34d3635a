#pragma once
//! \file Output-level certificate of a certified selection (THEORY §3, project's own). For a
//! kept set K with tail T = K^c, Attn − Attn_K = Σ_{j∈T} P_j (v_j − μ_K) = tau (μ_T − μ_K), so
//! ‖Attn − Attn_K‖₂ <= tau · max_{j∈T} ‖v_j − μ_K‖₂. The certificate replaces tau by the search's
//! certified bound and the maximum by D, computed without any unscored value: exact distances
//! for scored-but-dropped keys, and min(‖μ_K − c^v_j‖ + r^v_j, box distance) for every unvisited
//! cell from its value summary. The oracle bounds O2–O5 (which need every value and the true
//! tau) are reported beside it for comparison, with each bound's ratio to the exact error.

#include <cstddef>
#include <span>
#include "core/numerics/eigen.h"

#include "core/certified/cells.h"
#include "core/certified/search.h"

namespace tvk {

//! The exact output error of a kept set, its certificate and the oracle bounds O2–O5.
struct OutputCertificate {
  std::size_t kept = 0;    //!< |K|
  double tau_bound = 0.0;  //!< the search's certified bound on tau(K)
  double tau = 0.0;        //!< true tau(K) = P(K^c) from the full row
  double radius_bound = 0.0;  //!< D >= max_{j∈T} ‖v_j − μ_K‖₂, from scored values and summaries
  double certificate = 0.0;  //!< tau_bound · D (rounded up): >= exact, needs no unscored value
  double exact = 0.0;  //!< ‖Attn − Attn_K‖₂, evaluated as ‖Σ_T P_j (v_j − μ_K)‖₂ (O1)
  double diameter = 0.0;  //!< O2: tau max_{i∈K, j∈T} ‖v_i − v_j‖₂ (NaN when not computed)
  double head_radius = 0.0;  //!< O3: tau max_{j∈T} ‖v_j − μ_K‖₂
  double variance = 0.0;     //!< O4: sqrt(tau/(1 − tau) Var_P(V)) (+inf when tau = 1)
  double generic = 0.0;      //!< O5: 2 tau max_i ‖v_i‖₂
  //! bound / exact for each bound, NaN when the exact error is 0.
  double certificate_ratio = 0.0, diameter_ratio = 0.0, head_radius_ratio = 0.0,
         variance_ratio = 0.0, generic_ratio = 0.0;
};

//! μ_K = Σ_K P_i v_i / P(K), from the kept keys' logits and values only.
Eigen::VectorXd kept_mean(const SearchResult& selection, const Eigen::MatrixXd& values);

//! D >= max_{j∉K} ‖v_j − μ_K‖₂ (exactly, for the true μ_K: rounding is covered), reading only
//! the values of kept and scored-but-dropped keys and the value summaries of `cells` for the
//! unvisited cells. `cells` may be null when no cell is unvisited (Δk-Search); otherwise it must
//! be the partition the search ran on, with value summaries (std::invalid_argument if not).
double tail_radius_bound(const SearchResult& selection, const Eigen::MatrixXd& values,
                         const KeyCells* cells);

//! The certificate tau_bound · D alone (what a deployed search can compute).
double certified_output_bound(const SearchResult& selection, const Eigen::MatrixXd& values,
                              const KeyCells* cells);

//! Everything, given the full row's logits (known in an experiment). `values` has one row per
//! key (n × d_v). O2 costs |K| |T| d_v: `with_diameter = false` skips it (NaN).
OutputCertificate output_certificate(const SearchResult& selection, const Eigen::MatrixXd& values,
                                     const KeyCells* cells, std::span<const double> logits,
                                     bool with_diameter = true);

}  // namespace tvk
