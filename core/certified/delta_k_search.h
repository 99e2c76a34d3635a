#pragma once
//! \file Δk-Search (THEORY §6): scores every key and grows k from k0 by Δk until a Top-k bound
//! B_k (B1–B3) is <= eps.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/bounds/bound.h"
#include "core/certified/search.h"
#include "core/rows/tail_profile.h"

namespace tvk {

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
