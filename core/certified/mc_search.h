#pragma once
//! \file MC-Search (THEORY §6): visits cells in decreasing U_j, scores every key of a visited
//! cell and stops at the first visit whose certificate
//!   tau(K) <= (Σ_{S∖K} e^s + Σ_{j∈R} |C_j| e^{U_j}) / (Σ_S e^s + Σ_{j∈R} |C_j| e^{U_j})
//! is <= eps (S scored keys, R unvisited cells). Only some keys are scored.

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "core/certified/cells.h"
#include "core/certified/search.h"
#include "core/numerics/eigen.h"

namespace tvk {

//! Which scored keys MC-Search keeps.
enum class KeptMode {
  kScored,  //!< K = S: every scored key (B5 when the cells are blocks)
  kTopk,    //!< K = the top-k of S, k the smallest that certifies at the stopping visit
};

//! "scored" or "topk".
std::string kept_mode_name(KeptMode mode);
//! Inverse of kept_mode_name(); throws std::invalid_argument for an unknown name.
KeptMode parse_kept_mode(std::string_view name);

//! Options of MC-Search.
struct McSearchOptions {
  double eps = 0.01;                                  //!< TV budget, in (0, 1)
  KeptMode kept = KeptMode::kTopk;                    //!< which scored keys are kept
  UpperBoundKind upper_bound = UpperBoundKind::kMin;  //!< which summary bound gives U_j
  CostModel cost = {};                                //!< summary cost
  bool true_tau = true;  //!< score the full row too (not counted) to report the true tau(K)
};

//! MC-Search on one query of a key set. Throws std::invalid_argument for eps outside (0, 1) or
//! a bad query (see KeyCells::upper_bounds()).
SearchResult mc_search(const KeyCells& cells, const Eigen::VectorXd& query, double scale,
                       const McSearchOptions& options);

//! The MC-Search certificate of keeping the top `kept` of the scored keys, with the same
//! rounding slack as the search, so it is >= the true tail mass. Exposed for tests and figures:
//! `scored_descending` are the scored logits in descending order, kept <= their count,
//! `unvisited_bounds` / `unvisited_sizes` the U_j and |C_j| of the unvisited cells, n the row
//! length.
double mc_certificate(std::span<const double> scored_descending, std::size_t kept,
                      std::span<const double> unvisited_bounds,
                      std::span<const std::size_t> unvisited_sizes, std::size_t n);

}  // namespace tvk
