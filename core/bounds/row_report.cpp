#include "core/bounds/row_report.h"

#include "core/bounds/bound_registry.h"
#include "core/rows/divergence.h"

namespace tvk {

std::vector<std::unique_ptr<CertifyingBound>> make_all_bounds(const BoundOptions& options) {
  std::vector<std::unique_ptr<CertifyingBound>> bounds;
  for (const auto& name : bound_names())
    bounds.push_back(make_bound(name, options));
  return bounds;
}

void report_row(const TailProfile& profile, std::span<const double> eps,
                std::span<const std::unique_ptr<CertifyingBound>> bounds,
                std::vector<RowEpsReport>& out, BoundScratch& scratch,
                std::vector<Certificate>& certificates) {
  const std::vector<std::size_t> k_exact = k_eps(profile, eps);
  out.resize(eps.size());
  certificates.resize(eps.size());
  for (std::size_t e = 0; e < eps.size(); ++e) {
    RowEpsReport& r = out[e];
    r.eps = eps[e];
    r.k_eps = k_exact[e];
    r.tau = profile.tau(r.k_eps);
    r.tv_direct = tv_half_l1_direct(profile, r.k_eps);
    r.kl_identity = kl_truncated_to_full(r.tau);
    r.kl_direct = kl_truncated_to_full_direct(profile, r.k_eps);
    r.kl_reverse = kl_full_to_truncated_direct(profile, r.k_eps);
    r.certificates.clear();
  }
  // A full scan from k = 1 (not from k_eps): the row tool shows exactly min{k : B_k <= eps}.
  const std::vector<std::size_t> start(eps.size(), 1);
  for (const auto& bound : bounds) {
    bound->certify(profile, eps, start, certificates, scratch);
    for (std::size_t e = 0; e < eps.size(); ++e)
      out[e].certificates.push_back(certificates[e]);
  }
}

}  // namespace tvk
