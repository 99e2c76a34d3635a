#include "core/rows/row_analysis.h"

#include <algorithm>
#include <cmath>

namespace tvk {

std::size_t grid_k(std::size_t n, double rho) {
  const double k = std::round(rho * static_cast<double>(n));
  return std::clamp<std::size_t>(static_cast<std::size_t>(std::max(k, 1.0)), 1, n);
}

RowAnalyzer::RowAnalyzer(std::shared_ptr<const RowAnalysisPlan> plan) : plan_(std::move(plan)) {}

void RowAnalyzer::analyze(std::span<const double> logits, RowAnalysis& out) {
  const RowAnalysisPlan& plan = *plan_;
  profile_.assign(logits);
  const std::size_t n = profile_.n();
  const std::size_t eps_count = plan.eps.size();
  out.n = n;
  if (plan.fit_logit_moments) {
    // Two passes over the sorted logits, smallest first: exact enough for any row.
    const auto s = profile_.sorted_logits();
    double sum = 0.0;
    for (std::size_t r = n; r-- > 0;)
      sum += s[r];
    const double mean = sum / static_cast<double>(n);
    double squares = 0.0;
    for (std::size_t r = n; r-- > 0;)
      squares += (s[r] - mean) * (s[r] - mean);
    out.logit_mean = mean;
    out.logit_std = std::sqrt(squares / static_cast<double>(n));
  }
  if (plan.position_masses) {
    // Summed smallest weight first (ranks from the bottom), like every tail mass.
    const auto positions = profile_.positions();
    const auto weights = profile_.weights();
    const std::size_t first_local = n > plan.local_window ? n - plan.local_window : 0;
    double first = 0.0, local = 0.0;
    for (std::size_t r = n; r-- > 0;) {
      if (positions[r] == 0) first = weights[r];
      if (positions[r] >= first_local) local += weights[r];
    }
    out.first_key_mass = first / profile_.total();
    out.last_keys_mass = local / profile_.total();
  }
  out.k_eps.resize(eps_count);
  out.tau_at_k_eps.resize(eps_count);
  for (std::size_t e = 0; e < eps_count; ++e) {
    out.k_eps[e] = profile_.k_eps(plan.eps[e]);
    out.tau_at_k_eps[e] = profile_.tau(out.k_eps[e]);
  }
  out.tau_grid.resize(plan.k_grid.size());
  for (std::size_t g = 0; g < plan.k_grid.size(); ++g) {
    out.tau_grid[g] = profile_.tau(grid_k(n, plan.k_grid[g]));
  }
  out.certificates.resize(plan.bounds.size() * eps_count);
  certificates_.resize(eps_count);
  for (std::size_t b = 0; b < plan.bounds.size(); ++b) {
    plan.bounds[b]->certify(profile_, plan.eps, out.k_eps, certificates_, scratch_);
    std::copy(certificates_.begin(), certificates_.end(),
              out.certificates.begin() + static_cast<std::ptrdiff_t>(b * eps_count));
  }
}

}  // namespace tvk
