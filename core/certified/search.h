#pragma once
//! \file Certified selection (THEORY §6): what every search returns. A search picks a kept set
//! K of a row's keys and certifies TV(P, P_K) = P(K^c) <= eps (an uncertified baseline only
//! reports K). Every result carries the cost (scored keys, summaries read), the kept set, the
//! certified bound and, in an experiment, the true tail mass of the kept set.
//! One convention for the search types: the algorithm of type T in T_search.{h,cpp}
//! (mc_search, b5_search, delta_k_search, quantized_search, quest_search, streaming_search,
//! top_p_search, oracle_topk_search), its registration (config keys, per-key-set state) in
//! T_search_type.cpp, one line in search_registry.cpp.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <vector>

namespace tvk {

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

//! The true tail mass P(K^c) of a kept set given the full row's logits (summed from the bottom
//! of the sorted order, like TailProfile::tau).
double kept_set_tau(std::span<const double> logits, std::span<const std::uint32_t> kept_keys);

//! Throws std::invalid_argument "<who>: eps must be in (0, 1), got <eps>" unless 0 < eps < 1.
void check_search_eps(double eps, const char* who);

}  // namespace tvk
