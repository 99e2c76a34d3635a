#pragma once
//! \file The full analysis of one row as `tvk row` reports it (and tvk.analyze from Python):
//! k_eps and the tail mass per budget, every bound's certificate found by a full scan from
//! k = 1, and the divergence identities at k_eps. Pure mathematics, no I/O.

#include <cstddef>
#include <memory>
#include <span>
#include <vector>

#include "core/bounds/bound.h"
#include "core/rows/tail_profile.h"

namespace tvk {

//! What `tvk row` reports for one budget.
struct RowEpsReport {
  double eps = 0.0;
  std::size_t k_eps = 0;
  double tau = 0.0;                       //!< tau at k_eps
  std::vector<Certificate> certificates;  //!< one per bound, in the bounds' order
  double tv_direct = 0.0, kl_identity = 0.0, kl_direct = 0.0, kl_reverse = 0.0;
};

//! Every registered bound (bound_names() order) built with `options`.
std::vector<std::unique_ptr<CertifyingBound>> make_all_bounds(const BoundOptions& options);

//! The report of the row whose profile is `profile` for every budget of `eps` (each in (0, 1)):
//! `out` is resized to eps.size(). Each bound scans from k = 1 (not from k_eps), so its k is
//! exactly min{k : B_k <= eps}. `scratch` and `certificates` are reused buffers.
void report_row(const TailProfile& profile, std::span<const double> eps,
                std::span<const std::unique_ptr<CertifyingBound>> bounds,
                std::vector<RowEpsReport>& out, BoundScratch& scratch,
                std::vector<Certificate>& certificates);

}  // namespace tvk
