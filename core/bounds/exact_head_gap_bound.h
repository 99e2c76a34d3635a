#pragma once
//! \file B2: exact head, boundary gap (project's own): L exact, Ū = (n−k) e^{s_(k+1)}.

#include "core/bounds/bound.h"

namespace tvk {

//! B2.
class ExactHeadGapBound final : public TopkBound {
 public:
  std::string name() const override { return "b2"; }
  std::string description() const override {
    return "exact head, boundary gap: (n-k) e^s_(k+1) / (L + (n-k) e^s_(k+1))";
  }
  double value(const TailProfile& profile, std::size_t k) const override;
  std::vector<std::size_t> ranks_read(std::size_t n, std::size_t k) const override;
  //! The scan of TopkBound::certify with clear failures skipped in blocks (same results).
  void certify(const TailProfile& profile, std::span<const double> eps,
               std::span<const std::size_t> k_eps, std::span<Certificate> out,
               BoundScratch& scratch) const override;
};

}  // namespace tvk
