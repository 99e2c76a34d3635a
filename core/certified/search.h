#pragma once
//! \file Certified selection (THEORY §6): searches that pick a kept set K of a row's keys and
//! certify TV(P, P_K) = P(K^c) <= eps.
//!  * MC-Search visits cells in decreasing U_j, scores every key of a visited cell and stops at
//!    the first visit whose certificate
//!      tau(K) <= (Σ_{S∖K} e^s + Σ_{j∈R} |C_j| e^{U_j}) / (Σ_S e^s + Σ_{j∈R} |C_j| e^{U_j})
//!    is <= eps (S scored keys, R unvisited cells). Only some keys are scored.
//!  * B5 (THEORY §2) is MC-Search over position blocks with K = S: b5_search().
//!  * Δk-Search scores every key and grows k from k0 by Δk until a Top-k bound B_k (B1–B3) is
//!    <= eps.
//! Every result carries the cost (scored keys, summaries read), the kept set, the certified
//! bound and, in an experiment, the true tail mass of the kept set.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>
#include "core/numerics/eigen.h"

#include "core/bounds/bound.h"
#include "core/certified/cells.h"
#include "core/rows/tail_profile.h"

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

//! How a search ended.
enum class SearchStop {
  kCertified,  //!< certified with keys left unscored (MC) or with k < n (Δk)
  //! Certification needed every key. MC: every cell was visited (the last visit always
  //! certifies, R = ∅): in kScored mode K = all keys with bound 0; in kTopk mode K is the top-k
  //! of the fully scored row with the smallest certified k (R = ∅ makes the certificate the
  //! exact tau_k up to rounding, so k = k_eps or within rounding of it). Δk: k reached n (all
  //! keys kept, bound 0).
  kDenseFallback,
};

//! "certified" or "dense_fallback".
std::string search_stop_name(SearchStop stop);

//! The cost model: a scored key costs 1, a summary read costs summary_cost.
struct CostModel {
  double summary_cost = 1.0;  //!< cost of reading one cell summary (computing one U_j)
};

//! The outcome of one search on one row. For a certified search the certificate always holds:
//! true_tau <= bound <= eps (`certified` true; `stop` says whether it needed every key). An
//! uncertified baseline (Quest, top-p, StreamingLLM) sets `certified` false and bound NaN: only
//! the true tail mass of what it kept, computed afterwards, says how far it is from eps.
struct SearchResult {
  SearchStop stop = SearchStop::kCertified;  //!< how the search ended
  bool certified = true;  //!< a certified search (true_tau <= bound <= eps); false: a baseline
  bool dense_fallback = false;         //!< stop == kDenseFallback
  std::size_t n = 0;                   //!< keys in the row
  std::size_t cells = 0;               //!< cells of the partition (0 for Δk-Search)
  std::size_t cells_visited = 0;       //!< MC: cells scored; Δk: values of k tried
  std::size_t scored = 0;              //!< |S|, keys whose logit was computed
  std::size_t summaries_read = 0;      //!< cell summaries read (U_j computed), each once
  std::size_t positions_examined = 0;  //!< Δk: distinct sorted ranks read; MC: 0
  std::size_t kept = 0;                //!< |K|
  double bound = 1.0;  //!< certified upper bound on tau(K) = P(K^c), <= eps (0 when K = all)
  double true_tau = std::numeric_limits<double>::quiet_NaN();  //!< P(K^c) from the full row,
                                                               //!< NaN when not computed
  double summary_cost = 1.0;                                   //!< the cost model's summary cost
  double cost = 0.0;  //!< scored + summary_cost · summaries_read
  //! Bytes read under the byte model (core/certified/byte_model.h): summaries + exact keys
  //! scored + values kept; NaN when the search does not say.
  double bytes = std::numeric_limits<double>::quiet_NaN();
  //! K: key indices (Δk: TailProfile positions, i.e. among unmasked keys) in descending logit
  //! order (ties by index), and their logits.
  std::vector<std::uint32_t> kept_keys;
  std::vector<double> kept_logits;
  //! S ∖ K: scored but dropped keys, descending logit order.
  std::vector<std::uint32_t> dropped_keys;
  //! R: cells never visited (MC only), in visiting order (decreasing U_j).
  std::vector<std::uint32_t> unvisited_cells;
};

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

//! B5 (THEORY §2): blockwise certification from key summaries. It is exactly MC-Search over
//! position blocks with K = S (kept blocks = visited blocks, each dropped block contributes
//! |B_j| e^{U_j} and costs one summary), so it runs mc_search with KeptMode::kScored. Throws
//! std::invalid_argument when `blocks` are not position blocks.
SearchResult b5_search(const KeyCells& blocks, const Eigen::VectorXd& query, double scale,
                       double eps, UpperBoundKind upper_bound = UpperBoundKind::kMin,
                       CostModel cost = {}, bool true_tau = true);

//! The MC-Search certificate of keeping the top `kept` of the scored keys, with the same
//! rounding slack as the search, so it is >= the true tail mass. Exposed for tests and figures:
//! `scored_descending` are the scored logits in descending order, kept <= their count,
//! `unvisited_bounds` / `unvisited_sizes` the U_j and |C_j| of the unvisited cells, n the row
//! length.
double mc_certificate(std::span<const double> scored_descending, std::size_t kept,
                      std::span<const double> unvisited_bounds,
                      std::span<const std::size_t> unvisited_sizes, std::size_t n);

//! The true tail mass P(K^c) of a kept set given the full row's logits (summed from the bottom
//! of the sorted order, like TailProfile::tau).
double kept_set_tau(std::span<const double> logits, std::span<const std::uint32_t> kept_keys);

//! Δk-Search with a Top-k bound (b1, b2, b3, b3_gap, b3_equal, b3_equal_gap) over a fully
//! scored row: k = k0, k0 + Δk, ... (then n) until B_k <= eps.
class DeltaKSearch {
 public:
  //! Throws std::invalid_argument for an unknown bound, a bound that is not a Top-k bound
  //! (b4), k0 = 0 or delta_k = 0.
  DeltaKSearch(std::string_view bound, const BoundOptions& options = {}, std::size_t k0 = 1,
               std::size_t delta_k = 1);
  ~DeltaKSearch();
  DeltaKSearch(DeltaKSearch&&) noexcept;
  DeltaKSearch& operator=(DeltaKSearch&&) noexcept;

  //! The search on one row (eps in (0, 1)). positions_examined counts the distinct sorted ranks
  //! read: ranks 1..k of the kept keys plus every rank the bound read at each k tried. The bound
  //! reported is B_k itself (0 at k = n); true_tau = tau_k. scored = n, no summaries.
  SearchResult run(const TailProfile& profile, double eps, CostModel cost = {}) const;
  //! The sorted ranks > k that B_k reads (1-based), for a row of n keys.
  std::vector<std::size_t> ranks_read(std::size_t n, std::size_t k) const;
  //! The bound's registry name.
  std::string bound_name() const;

 private:
  std::unique_ptr<CertifyingBound> bound_;
  const TopkBound* topk_ = nullptr;
  std::string name_;
  std::size_t k0_, delta_k_;
};

}  // namespace tvk
