#pragma once
//! \file B4: blockwise certification (THEORY §2). Keys are split by position into blocks of b;
//! the top-m blocks by block maximum M_j are kept; Ū = Σ_{dropped j} |B_j| e^{M_j}, L exact on
//! the kept set S. Certifies TV(P, P_S) = P(S^c) <= eps with |S| kept keys. Registered as
//! "b4" in block_bound.cpp; a header because its steps() serve profiles, figures and tests.

#include "core/bounds/bound.h"

namespace tvk {

//! The certificate of keeping the top m blocks, m = 1..number of blocks.
struct BlockStep {
  std::size_t kept = 0;  //!< |S_m|
  double bound = 0.0;    //!< Ū / (L + Ū)
  double tau = 0.0;      //!< P(S_m^c)
};

//! B4.
class BlockBound final : public CertifyingBound {
 public:
  explicit BlockBound(std::size_t block);
  std::string name() const override { return "b4"; }
  std::string description() const override;
  void certify(const TailProfile& profile, std::span<const double> eps,
               std::span<const std::size_t> k_eps, std::span<Certificate> out,
               BoundScratch& scratch) const override;
  //! Every step m = 1..blocks (for profiles, figures and tests).
  std::vector<BlockStep> steps(const TailProfile& profile) const;
  std::size_t block() const { return block_; }

 private:
  //! Fills scratch: indices = block order; values_a = kept-head weight L_m (prefix, m = 1..),
  //! values_d = Ū_m, values_e = dropped weight; values_c = kept keys. Returns the block count.
  std::size_t build(const TailProfile& profile, BoundScratch& scratch) const;
  std::size_t block_;
};

}  // namespace tvk
