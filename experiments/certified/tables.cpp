#include "experiments/certified/tables.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace tvk::certified {

double median(std::vector<double>& values) {
  values.erase(std::remove_if(values.begin(), values.end(), [](double v) { return std::isnan(v); }),
               values.end());
  if (values.empty()) return kNaN;
  std::sort(values.begin(), values.end());
  const std::size_t m = values.size() / 2;
  return values.size() % 2 ? values[m] : 0.5 * (values[m - 1] + values[m]);
}

void summarize(const RunContext& ctx, const std::vector<ItemResult>& items,
               const std::vector<RowRef>& refs, std::size_t s, std::size_t e, TableBuilder& out) {
  const CertifiedConfig& config = *ctx.config;
  const std::size_t E = config.analysis.eps.size(), B = config.analysis.bounds.size();
  const double count = static_cast<double>(refs.size());
  double n_sum = 0, scored = 0, summaries = 0, kept = 0, kept_keys = 0, k = 0, k_keys = 0;
  double certified = 0, valid = 0, dense = 0, cost = 0, positions = 0, bound = 0, tau = 0;
  double price = 0, exact_error = 0, output_valid = 0, bytes = 0, violations = 0;
  std::vector<double> bound_k(B, 0.0);
  std::array<std::vector<double>, kRatioCount> ratios;
  for (const RowRef& ref : refs) {
    const ItemResult& item = items[ref.item];
    const double n = item.meta[ref.row].n;
    const SearchRecord& rec = item.records[(ref.row * ctx.searches.size() + s) * E + e];
    const std::uint32_t* exact = item.exact.data() + (ref.row * E + e) * (1 + B);
    n_sum += n;
    scored += rec.scored / n;
    summaries += rec.summaries / n;
    kept += rec.kept / n;
    kept_keys += rec.kept;
    k += exact[0] / n;
    k_keys += exact[0];
    price += static_cast<double>(rec.kept) / exact[0];
    certified += rec.certified && !rec.dense ? 1 : 0;
    bytes += rec.bytes_over_dense;
    violations += rec.true_tau > config.analysis.eps[e] ? 1 : 0;
    valid += rec.certified && rec.valid ? 1 : 0;
    dense += rec.dense;
    cost += rec.cost / n;
    positions += rec.positions / n;
    bound += rec.bound;
    tau += rec.true_tau;
    exact_error += rec.exact_error;
    output_valid += rec.certified ? rec.output_valid : 0;
    for (std::size_t b = 0; b < B; ++b)
      bound_k[b] += exact[1 + b] / n;
    for (std::size_t r = 0; r < kRatioCount; ++r)
      ratios[r].push_back(rec.ratios[r]);
  }
  std::size_t certified_rows = 0;
  for (const RowRef& ref : refs) {
    const ItemResult& item = items[ref.item];
    certified_rows += item.records[(ref.row * ctx.searches.size() + s) * E + e].certified;
  }
  out.put("eps", config.analysis.eps[e], "TV budget");
  out.put_int("rows", static_cast<std::int64_t>(refs.size()), "query rows");
  out.put("n_mean", n_sum / count, "mean keys per row");
  out.put("scored_over_n_mean", scored / count, "mean over rows of scored keys / n");
  out.put("summaries_over_n_mean", summaries / count, "mean of cell summaries read / n");
  out.put("kept_over_n_mean", kept / count, "mean of kept keys / n");
  out.put("kept_mean", kept_keys / count, "mean kept keys");
  out.put("k_over_n_mean", k / count, "mean exact k_eps / n of the full row");
  out.put("k_mean", k_keys / count, "mean exact k_eps");
  out.put("kept_over_k_mean", price / count, "mean of kept / k_eps (price of the search)");
  out.put("bytes_over_dense_mean", bytes / count,
          "mean of bytes read (summaries + exact keys scored + values kept) / dense 16-bit K+V "
          "bytes (NaN when the search has no byte model)");
  out.put("certified_fraction", certified / count,
          "fraction of rows certified before needing every key (no dense fallback; 0 for an "
          "uncertified baseline)");
  out.put("certificate_valid",
          certified_rows > 0 ? valid / static_cast<double>(certified_rows) : kNaN,
          "fraction of certified rows with true tau <= bound <= eps (must be 1)");
  out.put("dense_fraction", dense / count, "fraction of rows that needed every key");
  out.put("cost_over_n_mean", cost / count, "mean of (scored + summary_cost * summaries) / n");
  out.put("positions_over_n_mean", positions / count,
          "Δk-Search: mean sorted ranks examined / n (0 for MC-Search)");
  out.put("bound_mean", bound / count, "mean certified bound on tau of the kept set");
  out.put("true_tau_mean", tau / count, "mean true tau of the kept set");
  out.put("tau_mean", tau / count, "mean true tau of the kept set (as true_tau_mean)");
  out.put("violation_fraction", violations / count, "fraction of rows with true tau > eps");
  for (std::size_t b = 0; b < B; ++b) {
    out.put(config.analysis.bounds[b] + "_k_over_n_mean", bound_k[b] / count,
            "full-row bound's certified kept keys / n");
  }
  if (config.output_error) {
    out.put("exact_error_mean", exact_error / count, "mean of ||Attn - Attn_K||_2");
    out.put("output_certificate_valid",
            certified_rows > 0 ? output_valid / static_cast<double>(certified_rows) : kNaN,
            "fraction of certified rows with exact error <= output certificate (must be 1)");
    for (std::size_t r = 0; r < kRatioCount; ++r) {
      out.put(std::string(kRatioNames[r]) + "_ratio_median", median(ratios[r]),
              "median over rows with a nonzero error of bound / exact");
    }
  }
}

std::string format_param(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", value);
  return text;
}

}  // namespace tvk::certified
