#pragma once
//! \file The tail profile of one attention row (THEORY §0–§1): logits sorted in descending
//! order (ties by key index), max-subtracted weights, and tail masses tau_k for every k summed
//! from the bottom of the sorted order, so tiny tails keep full relative accuracy.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/rows/descending_order.h"

namespace tvk {

//! Tail profile of one row. Reusable: assign() refills it without reallocating when the row
//! length does not grow, so a worker thread keeps one per thread and allocates nothing per row.
class TailProfile {
 public:
  TailProfile() = default;
  //! Same as assign(logits).
  explicit TailProfile(std::span<const double> logits) { assign(logits); }

  //! Builds the profile. `-inf` logits are masked keys and are removed from the row; NaN and
  //! `+inf` throw std::domain_error naming the position. A row with no unmasked key throws too.
  void assign(std::span<const double> logits);

  //! Number of unmasked keys n.
  std::size_t n() const { return sorted_.size(); }
  //! Logits in descending order: sorted_logits()[r] = s_(r+1).
  std::span<const double> sorted_logits() const { return sorted_; }
  //! s_(rank), rank = 1..n.
  double logit(std::size_t rank) const { return sorted_[rank - 1]; }
  //! Position (0-based, among unmasked keys in row order) of the key at 0-based rank r.
  std::span<const std::uint32_t> positions() const { return position_; }
  //! Max-subtracted weights exp(s_(r+1) - s_(1)), descending; weights()[0] == 1.
  std::span<const double> weights() const { return weight_; }
  //! Z / e^{s_(1)} = sum of all weights.
  double total() const { return tail_[0]; }
  //! Sum of the weights of ranks > k (k = 0..n), summed from the bottom.
  double tail_weight(std::size_t k) const { return tail_[k]; }
  //! Sum of the weights of ranks <= k (k = 0..n), the exact head L / e^{s_(1)}.
  double head_weight(std::size_t k) const { return head_[k]; }
  //! head_weight(k) for k = 0..n.
  std::span<const double> head_weights() const { return head_; }
  //! Tail mass tau_k = P(T_k), k = 0..n; tau_0 = 1, tau_n = 0. Non-increasing in k.
  double tau(std::size_t k) const { return tail_[k] / tail_[0]; }
  //! Probability of the key at 0-based rank r.
  double probability(std::size_t r) const { return weight_[r] / tail_[0]; }

  //! k_eps = min{k >= 1 : tau_k <= eps}: the smallest certified Top-k for TV budget eps.
  std::size_t k_eps(double eps) const;

 private:
  std::vector<double> sorted_;
  std::vector<std::uint32_t> position_;
  std::vector<double> weight_;
  std::vector<double> tail_;     // size n+1
  std::vector<double> head_;     // size n+1
  std::vector<double> scratch_;  // the unmasked logits in row order
  SortScratch sort_scratch_;
};

//! k_eps for several budgets at once (same order as `eps`).
std::vector<std::size_t> k_eps(const TailProfile& profile, std::span<const double> eps);

}  // namespace tvk
