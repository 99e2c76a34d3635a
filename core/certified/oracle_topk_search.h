#pragma once
//! \file The oracle top-k (THEORY §1/§8): the exact k_eps of a fully scored row (the smallest k
//! whose true tail mass is <= eps), which needs every score. Certified: the bound is the exact
//! tau_k, rounded up (as MC-Search rounds its certificate, THEORY §11) so that it also covers the
//! tail mass another routine recomputes, and capped at eps (tau_k <= eps by the choice of k).

#include <cstdint>
#include <span>
#include <vector>

#include "core/certified/search.h"
#include "core/rows/tail_profile.h"

namespace tvk {

//! Reusable buffers of oracle_topk_search.
struct OracleTopkScratch {
  TailProfile profile;
  std::vector<std::uint32_t> unmasked;
};

//! The oracle top-k of a row's logits (key order; −inf marks a masked key): kept and dropped keys
//! as key indices, bound, stop and scored = n. Cost, summary cost and bytes are the caller's.
//! Throws std::invalid_argument unless 0 < eps < 1.
SearchResult oracle_topk_search(std::span<const double> logits, double eps,
                                OracleTopkScratch& scratch);

}  // namespace tvk
