#include "experiments/certified/tables.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <map>
#include <utility>
#include <vector>

#include "core/certified/qkv_models.h"
#include "experiments/certified/certified_work.h"
#include "experiments/store_selection.h"

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

namespace {

//! The query rows of a run in groups, in a fixed order (a store's points by (layer position, n),
//! pooled by n; a qkv source's points by grid point), and the timings per group.
struct RowGroups {
  std::map<std::pair<std::int64_t, std::uint32_t>, std::vector<RowRef>> by_layer;
  std::map<std::uint32_t, std::vector<RowRef>> by_n;
  std::vector<std::vector<RowRef>> by_point;
  //! Speed: group (store: n, qkv: grid point) → seconds per search, dense seconds and rows.
  std::map<std::int64_t, std::pair<std::vector<double>, std::pair<double, std::size_t>>> timing;
  std::vector<std::int64_t> layer_of_position;  //!< model layer of each layer position
};

//! Every query row of `slots` in its groups. Causal (decoder) rows have every length: they are
//! grouped by n_bucket = 2^floor(log2 n).
RowGroups group_rows(const RunContext& ctx, const CertifiedWork& work,
                     const std::vector<ItemResult>& slots) {
  const bool store_source = work.store_source();
  const bool causal = store_source && work.store().info().causal;
  const std::vector<KeySetRef>& key_sets = work.key_sets();
  const std::vector<WorkItem>& items = work.items();
  RowGroups groups;
  auto& [by_layer, by_n, by_point, timing, layer_of_position] = groups;
  by_point.resize(work.points().size());
  std::map<std::int64_t, std::size_t> layer_position;
  for (std::size_t i = 0; i < slots.size(); ++i) {
    const ItemResult& item = slots[i];
    const KeySetRef& ks = key_sets[items[i].key_set];
    for (std::size_t r = 0; r < item.meta.size(); ++r) {
      if (store_source) {
        layer_position.try_emplace(ks.layer, layer_position.size());
        const std::uint32_t n =
            causal ? static_cast<std::uint32_t>(n_bucket(item.meta[r].n)) : item.meta[r].n;
        by_layer[{static_cast<std::int64_t>(layer_position[ks.layer]), n}].push_back({i, r});
        by_n[n].push_back({i, r});
      } else {
        by_point[ks.point].push_back({i, r});
      }
    }
    const std::int64_t group =
        store_source ? static_cast<std::int64_t>(ks.n) : static_cast<std::int64_t>(ks.point);
    auto& t = timing[group];
    t.first.resize(ctx.searches.size(), 0.0);
    for (std::size_t s = 0; s < ctx.searches.size(); ++s)
      t.first[s] += item.search_seconds[s];
    t.second.first += item.dense_seconds;
    t.second.second += item.meta.size();
  }
  layer_of_position.resize(layer_position.size());
  for (const auto& [layer, position] : layer_position)
    layer_of_position[position] = layer;
  return groups;
}

//! A store's points (per layer, n, search, eps) and pooled (per n, search, eps) tables.
void store_points_tables(const CertifiedConfig& config, const RunContext& ctx,
                         const CertifiedWork& work, const std::vector<ItemResult>& slots,
                         const RowGroups& groups, CertifiedTables& tables) {
  const bool causal = work.store().info().causal;
  const char* n_name = causal ? "n_bucket" : "n";
  const char* n_doc =
      causal ? "rows with n in [n_bucket, 2 n_bucket)" : "keys per row (the sequence length)";
  const std::size_t S = ctx.searches.size(), E = config.analysis.eps.size();
  TableBuilder points_table, pooled_table;
  for (const auto& [key, refs] : groups.by_layer) {
    for (std::size_t s = 0; s < S; ++s) {
      for (std::size_t e = 0; e < E; ++e) {
        points_table.put_int("layer",
                             work.store().info().layer_ids[static_cast<std::size_t>(
                                 groups.layer_of_position[key.first])],
                             "model layer (the store's layer_ids; v1 stores: 0-based index)");
        points_table.put_int(n_name, key.second, n_doc);
        points_table.put_string("search", config.searches[s].name, "search name");
        summarize(ctx, slots, refs, s, e, points_table);
      }
    }
  }
  for (const auto& [n, refs] : groups.by_n) {
    for (std::size_t s = 0; s < S; ++s) {
      for (std::size_t e = 0; e < E; ++e) {
        pooled_table.put_int(n_name, n, n_doc);
        pooled_table.put_string("search", config.searches[s].name, "search name");
        summarize(ctx, slots, refs, s, e, pooled_table);
      }
    }
  }
  tables.points = points_table.take();
  tables.pooled = pooled_table.take();
}

//! A qkv source's points table (per grid point, search, eps).
Table qkv_points_table(const CertifiedConfig& config, const RunContext& ctx,
                       const CertifiedWork& work, const std::vector<ItemResult>& slots,
                       const RowGroups& groups) {
  const std::vector<CertifiedQkvPoint>& points = work.points();
  const std::size_t S = ctx.searches.size(), E = config.analysis.eps.size();
  TableBuilder points_table;
  for (std::size_t p = 0; p < points.size(); ++p) {
    const CertifiedQkvPoint& point = points[p];
    for (std::size_t s = 0; s < S; ++s) {
      for (std::size_t e = 0; e < E; ++e) {
        points_table.put_int("point", static_cast<std::int64_t>(p), "grid point index");
        points_table.put_string("family", qkv_family_name(point.parameters.family), "");
        points_table.put_int("n", static_cast<std::int64_t>(point.parameters.n), "keys per row");
        points_table.put_int("d", static_cast<std::int64_t>(point.parameters.d), "key dimension");
        points_table.put("clusters", point.clusters > 0 ? point.clusters : kNaN,
                         "clustered: centres (NaN for other families)");
        points_table.put("strength", point.parameters.strength, "scale * |q|");
        points_table.put("spread", point.spread, "key noise radius (NaN when unused)");
        points_table.put("correlation_length", point.correlation_length,
                         "positional: L (NaN when unused)");
        points_table.put_string("search", config.searches[s].name, "search name");
        summarize(ctx, slots, groups.by_point[p], s, e, points_table);
      }
    }
  }
  return points_table.take();
}

//! The speed table (not reproducible: wall-clock timings), per (group, search).
Table speed_table(const CertifiedConfig& config, const RunContext& ctx, const CertifiedWork& work,
                  const RowGroups& groups) {
  const bool store_source = work.store_source();
  const std::vector<CertifiedQkvPoint>& points = work.points();
  const std::size_t S = ctx.searches.size(), E = config.analysis.eps.size();
  TableBuilder speed;
  for (const auto& [group, t] : groups.timing) {
    const double rows = static_cast<double>(t.second.second);
    const double dense_rate = rows * static_cast<double>(E) / t.second.first;
    for (std::size_t s = 0; s < S; ++s) {
      if (store_source) {
        speed.put_int("n", group, "keys per row");
      } else {
        speed.put_int("point", group, "grid point index");
        speed.put_string("family",
                         qkv_family_name(points[static_cast<std::size_t>(group)].parameters.family),
                         "");
        speed.put_int(
            "n", static_cast<std::int64_t>(points[static_cast<std::size_t>(group)].parameters.n),
            "");
        speed.put_int(
            "d", static_cast<std::int64_t>(points[static_cast<std::size_t>(group)].parameters.d),
            "");
      }
      speed.put_string("search", config.searches[s].name, "search name");
      speed.put_int("rows", static_cast<std::int64_t>(rows), "query rows");
      speed.put_int("searches", static_cast<std::int64_t>(rows * E), "searches run (rows x eps)");
      speed.put("search_seconds", t.first[s], "time in the search, every eps");
      speed.put("dense_seconds", t.second.first,
                "time scoring every key, sorting and finding k_eps, every eps");
      const double search_rate = rows * static_cast<double>(E) / t.first[s];
      speed.put("search_rows_per_s", search_rate, "searches (one row at one eps) per second");
      speed.put("dense_rows_per_s", dense_rate, "dense searches (one row at one eps) per second");
      speed.put("speedup", search_rate / dense_rate, "search_rows_per_s / dense_rows_per_s");
    }
  }
  return speed.take();
}

//! The rows table: one row per (query row, search, eps).
Table rows_table(const CertifiedConfig& config, const RunContext& ctx, const CertifiedWork& work,
                 const std::vector<ItemResult>& slots) {
  const bool store_source = work.store_source();
  const std::size_t S = ctx.searches.size(), E = config.analysis.eps.size();
  Table table;
  std::array<std::vector<std::int64_t>, 4> id;
  std::vector<std::string> search;
  std::vector<double> eps, bound, tau, error, certificate;
  std::vector<std::int64_t> n, scored, summaries, kept, k;
  std::vector<std::uint8_t> dense, valid;
  const std::size_t B = config.analysis.bounds.size();
  for (const ItemResult& item : slots) {
    for (std::size_t r = 0; r < item.meta.size(); ++r) {
      for (std::size_t s = 0; s < S; ++s) {
        for (std::size_t e = 0; e < E; ++e) {
          const SearchRecord& rec = item.records[(r * S + s) * E + e];
          for (std::size_t c = 0; c < 4; ++c)
            id[c].push_back(item.meta[r].id[c]);
          search.push_back(config.searches[s].name);
          eps.push_back(config.analysis.eps[e]);
          n.push_back(item.meta[r].n);
          scored.push_back(rec.scored);
          summaries.push_back(rec.summaries);
          kept.push_back(rec.kept);
          k.push_back(item.exact[(r * E + e) * (1 + B)]);
          bound.push_back(rec.bound);
          tau.push_back(rec.true_tau);
          dense.push_back(rec.dense);
          valid.push_back(rec.valid);
          error.push_back(rec.exact_error);
          certificate.push_back(rec.certificate);
        }
      }
    }
  }
  const std::array<const char*, 4> names =
      store_source ? std::array<const char*, 4>{"layer", "head", "sequence", "query"}
                   : std::array<const char*, 4>{"point", "key_set", "row", "target"};
  const std::array<const char*, 4> docs =
      store_source
          ? std::array<const char*, 4>{"", "", "sequence index in the store", "query token index"}
          : std::array<const char*, 4>{"grid point index", "key set index within the point",
                                       "row index within the point",
                                       "aligned centre / matched position (gaussian: 0)"};
  for (std::size_t c = 0; c < 4; ++c)
    table.columns.push_back({names[c], std::move(id[c]), docs[c]});
  table.columns.push_back({"search", std::move(search), ""});
  table.columns.push_back({"eps", std::move(eps), ""});
  table.columns.push_back({"n", std::move(n), "keys in the row"});
  table.columns.push_back({"scored", std::move(scored), "keys scored"});
  table.columns.push_back({"summaries", std::move(summaries), "cell summaries read"});
  table.columns.push_back({"kept", std::move(kept), "kept keys |K|"});
  table.columns.push_back({"k_eps", std::move(k), "exact k_eps of the full row"});
  table.columns.push_back({"bound", std::move(bound), "certified bound on tau(K)"});
  table.columns.push_back({"true_tau", std::move(tau), "P(K^c) from the full row"});
  table.columns.push_back({"dense_fallback", std::move(dense), "needed every key"});
  table.columns.push_back({"valid", std::move(valid), "true_tau <= bound <= eps"});
  table.columns.push_back(
      {"exact_error", std::move(error), "||Attn - Attn_K||_2 (NaN without output_error)"});
  table.columns.push_back({"certificate", std::move(certificate), "output certificate bound * D"});
  return table;
}

}  // namespace

CertifiedTables certified_tables(const CertifiedConfig& config, const RunContext& ctx,
                                 const CertifiedWork& work, const std::vector<ItemResult>& slots) {
  const RowGroups groups = group_rows(ctx, work, slots);
  CertifiedTables tables;
  if (work.store_source()) {
    store_points_tables(config, ctx, work, slots, groups, tables);
  } else {
    tables.points = qkv_points_table(config, ctx, work, slots, groups);
  }
  tables.speed = speed_table(config, ctx, work, groups);
  if (config.store_rows) tables.rows = rows_table(config, ctx, work, slots);
  return tables;
}

}  // namespace tvk::certified
