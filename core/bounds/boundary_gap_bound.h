#pragma once
//! \file B1: the single boundary-gap bound tau_k <= 1 / (1 + (k/(n−k)) e^{Δ_k}) (THEORY §2).

#include "core/bounds/bound.h"

namespace tvk {

//! B1. Sharp when all head logits are equal and all tail logits are equal.
class BoundaryGapBound final : public TopkBound {
 public:
  std::string name() const override { return "b1"; }
  std::string description() const override {
    return "single boundary gap: 1/(1 + k/(n-k) e^(s_(k) - s_(k+1)))";
  }
  double value(const TailProfile& profile, std::size_t k) const override;
  std::vector<std::size_t> ranks_read(std::size_t n, std::size_t k) const override;
  //! Same results as TopkBound::certify, without an exp for every k it passes over.
  void certify(const TailProfile& profile, std::span<const double> eps,
               std::span<const std::size_t> k_eps, std::span<Certificate> out,
               BoundScratch& scratch) const override;
};

}  // namespace tvk
