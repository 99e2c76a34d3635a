#pragma once
//! \file Deterministic upper bounds on the dropped tail mass (THEORY §2). Every bound is a
//! pair L̲ <= L, Ū >= U giving tau <= Ū / (L̲ + Ū); a bound certifies a kept set for a TV budget
//! eps once its value is <= eps. Adding a bound = one file in core/bounds/ (the class and its
//! `BoundEntry NAME_bound_entry()`) plus one line in core/bounds/bound_registry.cpp.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/rows/tail_profile.h"

namespace tvk {

//! What a bound certifies for one row and one eps.
struct Certificate {
  std::size_t kept = 0;  //!< kept keys (k_B for Top-k bounds, |S| for blockwise ones)
  double bound = 0.0;    //!< the certified bound on the tail mass, <= eps
  double tau = 0.0;      //!< the true tail mass of the kept set (<= bound)
};

//! Reusable buffers so bounds allocate nothing per row (one per worker thread).
struct BoundScratch {
  std::vector<double> values_a;
  std::vector<double> values_b;
  std::vector<double> values_c;
  std::vector<double> values_d;
  std::vector<double> values_e;
  std::vector<std::uint32_t> indices;
};

//! Options shared by the bound variants (config keys block, b3_grouping, b3_groups).
struct BoundOptions {
  std::size_t block = 16;        //!< B4 block size b
  std::size_t equal_groups = 8;  //!< r for the B3 equal grouping
};

//! Any bound that certifies a kept set of a row.
class CertifyingBound {
 public:
  virtual ~CertifyingBound() = default;
  //! Short name used in configs, CSV columns and JSON ("b1", "b3_gap", "b4", ...).
  virtual std::string name() const = 0;
  //! One line for listings.
  virtual std::string description() const = 0;
  //! Certificates for every budget eps[i]; k_eps[i] is the exact k_eps of the row for eps[i]
  //! (a bound's certified set is never smaller, which lets scans start there).
  virtual void certify(const TailProfile& profile, std::span<const double> eps,
                       std::span<const std::size_t> k_eps, std::span<Certificate> out,
                       BoundScratch& scratch) const = 0;
};

//! A bound on tau_k of the Top-k kept set, for every k = 1..n (B1–B3).
class TopkBound : public CertifyingBound {
 public:
  //! B_k >= tau_k, k = 1..n; B_n = 0.
  virtual double value(const TailProfile& profile, std::size_t k) const = 0;
  //! The sorted ranks beyond k (1-based, in (k, n]) whose logits value(profile, k) reads besides
  //! the top k: what a search that reads the sorted row lazily (Δk-Search) must score. Empty
  //! for k >= n.
  virtual std::vector<std::size_t> ranks_read(std::size_t n, std::size_t k) const = 0;
  //! k_B(eps) = min{k : B_k <= eps}, scanning upward from k_start.
  std::size_t certified_k(const TailProfile& profile, double eps, std::size_t k_start = 1) const;
  //! The certificate of the Top-k kept set (bound 0 at k = n).
  Certificate certificate(const TailProfile& profile, std::size_t k) const;
  //! Scans from k_eps: B_k >= tau_k > eps below it, so the first certified k is not earlier.
  void certify(const TailProfile& profile, std::span<const double> eps,
               std::span<const std::size_t> k_eps, std::span<Certificate> out,
               BoundScratch& scratch) const override;
};

}  // namespace tvk
