#pragma once
//! \file The analysis of one row that a sweep repeats for every sampled or stored row: the tail
//! profile, k_eps for every budget, the tail mass at a grid of k/n, and every bound's
//! certificate. Pure mathematics, no I/O; one RowAnalyzer per worker thread.

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/bounds/bound.h"
#include "core/rows/tail_profile.h"

namespace tvk {

//! What to compute for each row.
struct RowAnalysisPlan {
  std::vector<double> eps;     //!< TV budgets, in (0, 1)
  std::vector<double> k_grid;  //!< k/n fractions for the tau profile
  std::vector<std::shared_ptr<const CertifyingBound>> bounds;  //!< certifying bounds
  bool fit_logit_moments = false;  //!< also compute the mean and std of each row's logits
  //! Also compute the mass on the first key (an attention sink) and on the last local_window
  //! keys (the recent window) of each row, in row order.
  bool position_masses = false;
  std::size_t local_window = 64;
};

//! One row's results.
struct RowAnalysis {
  std::size_t n = 0;
  double logit_mean = 0.0;           //!< mean of the unmasked logits (when the plan fits moments)
  double logit_std = 0.0;            //!< their standard deviation, ddof = 0 (the fitted sigma-hat)
  double first_key_mass = 0.0;       //!< probability of position 0 (when the plan asks for it)
  double last_keys_mass = 0.0;       //!< probability of the last local_window positions (idem)
  std::vector<std::size_t> k_eps;    //!< per eps
  std::vector<double> tau_at_k_eps;  //!< tau_{k_eps}, per eps
  std::vector<double> tau_grid;      //!< tau_k at k = grid_k(n, rho), per grid point
  std::vector<Certificate> certificates;  //!< [bound * eps.size() + eps index]
};

//! The k used for the grid fraction rho: round(rho·n) clamped to [1, n].
std::size_t grid_k(std::size_t n, double rho);

//! Analyses rows with reusable buffers (no allocation per row once warmed up).
class RowAnalyzer {
 public:
  explicit RowAnalyzer(std::shared_ptr<const RowAnalysisPlan> plan);
  //! Analyses `logits` into `out` (resized as needed).
  void analyze(std::span<const double> logits, RowAnalysis& out);
  //! The profile of the last analysed row.
  const TailProfile& profile() const { return profile_; }
  const RowAnalysisPlan& plan() const { return *plan_; }

 private:
  std::shared_ptr<const RowAnalysisPlan> plan_;
  TailProfile profile_;
  BoundScratch scratch_;
  std::vector<Certificate> certificates_;
};

}  // namespace tvk
