#pragma once
//! \file B3: the multi-gap bound (THEORY §2). The tail ranks k+1..n are split into consecutive
//! groups starting at a_1 = k+1 < a_2 < ...; each group's mass is bounded by its size times
//! the weight of its first (largest) key: Ū = Σ_g |G_g| e^{s_(a_g)}.

#include "core/bounds/bound.h"

namespace tvk {

//! How the tail ranks are grouped.
enum class TailGrouping {
  kGeometric,  //!< sizes 1, 2, 4, ... (the last one truncated)
  kEqual,      //!< r groups of sizes as equal as possible (larger ones first)
};

//! What bounds the head.
enum class HeadForm {
  kExact,  //!< L exact
  kGap,    //!< L̲ = k e^{s_(k)}: tau_k <= S/(k+S), S = Σ_g |G_g| e^{−Δ_g}
};

//! B3. With singleton groups and the exact head it equals tau_k.
class MultiGapBound final : public TopkBound {
 public:
  //! `equal_groups` is r for TailGrouping::kEqual (ignored for geometric).
  MultiGapBound(TailGrouping grouping, HeadForm head, std::size_t equal_groups = 8);
  std::string name() const override;
  std::string description() const override;
  double value(const TailProfile& profile, std::size_t k) const override;
  std::vector<std::size_t> ranks_read(std::size_t n, std::size_t k) const override;
  //! Same results as TopkBound::certify; the gap form filters k without exps.
  void certify(const TailProfile& profile, std::span<const double> eps,
               std::span<const std::size_t> k_eps, std::span<Certificate> out,
               BoundScratch& scratch) const override;

 private:
  //! B_k; with `weight_ratios` the gap form uses w_a / w_k for e^{s_a - s_k} (a filter only).
  double evaluate(const TailProfile& profile, std::size_t k, bool weight_ratios) const;
  TailGrouping grouping_;
  HeadForm head_;
  std::size_t equal_groups_;
};

}  // namespace tvk
