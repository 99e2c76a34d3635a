#include "experiments/certified_sweep.h"

// Eigen before oneTBB: both bring in the intrinsic headers, and core/numerics/eigen.h must be
// first.
#include "core/numerics/eigen.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "core/certified/cells.h"
#include "core/certified/output_certificate.h"
#include "core/certified/qkv_models.h"
#include "core/certified/search.h"
#include "core/config/config_checks.h"
#include "core/engine/byte_codec.h"
#include "core/engine/checkpoint.h"
#include "core/engine/progress.h"
#include "core/engine/thread_count.h"
#include "core/error.h"
#include "core/hdf5/logit_store.h"
#include "core/hdf5/results_writer.h"
#include "core/kernels/kernel_set.h"
#include "core/numerics/vector_norms.h"
#include "core/random/stream.h"
#include "core/results/atomic_file.h"
#include "core/results/csv_writer.h"
#include "core/rows/row_analysis.h"
#include "core/rows/tail_profile.h"
#include "experiments/analysis_plan.h"
#include "experiments/certified/certified_work.h"
#include "experiments/certified/item_result.h"
#include "experiments/certified/key_set_runner.h"
#include "experiments/certified/search_plan.h"
#include "experiments/certified/tables.h"
#include "experiments/communicator.h"
#include "experiments/provenance.h"
#include "experiments/unit_runner.h"

namespace tvk {
namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;
using namespace certified;

}  // namespace

namespace {

//! The tables and files of a certified run from every item's slot: `<stem>.h5`, `<stem>.csv`,
//! `<stem>_speed.csv` and, for a store, `<stem>_points.csv`.
CertifiedOutcome write_certified_results(const CertifiedConfig& config, const RunContext& ctx,
                                         const CertifiedWork& work,
                                         const std::vector<ItemResult>& slots, const fs::path& stem,
                                         const std::string& command_line, std::size_t threads) {
  CertifiedOutcome outcome;
  outcome.threads = threads;
  const bool store_source = work.store_source();
  const std::vector<KeySetRef>& key_sets = work.key_sets();
  const std::vector<WorkItem>& items = work.items();
  const std::vector<CertifiedQkvPoint>& points = work.points();
  // Causal (decoder) rows have every length: they are grouped by n_bucket = 2^floor(log2 n).
  const bool causal = store_source && work.store().info().causal;
  auto group_n = [&](std::uint32_t n) -> std::uint32_t {
    if (!causal) return n;
    std::uint32_t bucket = 1;
    while (bucket <= n / 2)
      bucket *= 2;
    return bucket;
  };
  const char* n_name = causal ? "n_bucket" : "n";
  const char* n_doc =
      causal ? "rows with n in [n_bucket, 2 n_bucket)" : "keys per row (the sequence length)";
  for (const WorkItem& item : items)
    outcome.rows_total += item.count;
  outcome.searches_total = outcome.rows_total * config.searches.size() * config.analysis.eps.size();

  // Groups of rows, in a fixed order: store points by (layer position, n), pooled by n; qkv
  // points by grid point.
  std::map<std::pair<std::int64_t, std::uint32_t>, std::vector<RowRef>> by_layer;
  std::map<std::uint32_t, std::vector<RowRef>> by_n;
  std::vector<std::vector<RowRef>> by_point(points.size());
  // Speed: (group, search) → seconds; dense seconds and rows per group.
  std::map<std::int64_t, std::pair<std::vector<double>, std::pair<double, std::size_t>>> timing;
  std::map<std::int64_t, std::size_t> layer_position;
  for (std::size_t i = 0; i < slots.size(); ++i) {
    const ItemResult& item = slots[i];
    const KeySetRef& ks = key_sets[items[i].key_set];
    for (std::size_t r = 0; r < item.meta.size(); ++r) {
      if (store_source) {
        layer_position.try_emplace(ks.layer, layer_position.size());
        const std::uint32_t n = group_n(item.meta[r].n);
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
  std::vector<std::int64_t> layer_of_position(layer_position.size());
  for (const auto& [layer, position] : layer_position)
    layer_of_position[position] = layer;

  const std::size_t S = ctx.searches.size(), E = config.analysis.eps.size();
  if (store_source) {
    TableBuilder points_table, pooled_table;
    for (const auto& [key, refs] : by_layer) {
      for (std::size_t s = 0; s < S; ++s) {
        for (std::size_t e = 0; e < E; ++e) {
          points_table.put_int(
              "layer",
              work.store().info().layer_ids[static_cast<std::size_t>(layer_of_position[key.first])],
              "model layer (the store's layer_ids; v1 stores: 0-based index)");
          points_table.put_int(n_name, key.second, n_doc);
          points_table.put_string("search", config.searches[s].name, "search name");
          summarize(ctx, slots, refs, s, e, points_table);
        }
      }
    }
    for (const auto& [n, refs] : by_n) {
      for (std::size_t s = 0; s < S; ++s) {
        for (std::size_t e = 0; e < E; ++e) {
          pooled_table.put_int(n_name, n, n_doc);
          pooled_table.put_string("search", config.searches[s].name, "search name");
          summarize(ctx, slots, refs, s, e, pooled_table);
        }
      }
    }
    outcome.points = points_table.take();
    outcome.pooled = pooled_table.take();
  } else {
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
          summarize(ctx, slots, by_point[p], s, e, points_table);
        }
      }
    }
    outcome.points = points_table.take();
  }
  // Speed (not reproducible: wall-clock timings).
  {
    TableBuilder speed;
    for (const auto& [group, t] : timing) {
      const double rows = static_cast<double>(t.second.second);
      const double dense_rate = rows * static_cast<double>(E) / t.second.first;
      for (std::size_t s = 0; s < S; ++s) {
        if (store_source) {
          speed.put_int("n", group, "keys per row");
        } else {
          speed.put_int("point", group, "grid point index");
          speed.put_string(
              "family", qkv_family_name(points[static_cast<std::size_t>(group)].parameters.family),
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
    outcome.speed = speed.take();
  }
  // Rows: one per (query row, search, eps).
  if (config.store_rows) {
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
      outcome.rows.columns.push_back({names[c], std::move(id[c]), docs[c]});
    outcome.rows.columns.push_back({"search", std::move(search), ""});
    outcome.rows.columns.push_back({"eps", std::move(eps), ""});
    outcome.rows.columns.push_back({"n", std::move(n), "keys in the row"});
    outcome.rows.columns.push_back({"scored", std::move(scored), "keys scored"});
    outcome.rows.columns.push_back({"summaries", std::move(summaries), "cell summaries read"});
    outcome.rows.columns.push_back({"kept", std::move(kept), "kept keys |K|"});
    outcome.rows.columns.push_back({"k_eps", std::move(k), "exact k_eps of the full row"});
    outcome.rows.columns.push_back({"bound", std::move(bound), "certified bound on tau(K)"});
    outcome.rows.columns.push_back({"true_tau", std::move(tau), "P(K^c) from the full row"});
    outcome.rows.columns.push_back({"dense_fallback", std::move(dense), "needed every key"});
    outcome.rows.columns.push_back({"valid", std::move(valid), "true_tau <= bound <= eps"});
    outcome.rows.columns.push_back(
        {"exact_error", std::move(error), "||Attn - Attn_K||_2 (NaN without output_error)"});
    outcome.rows.columns.push_back(
        {"certificate", std::move(certificate), "output certificate bound * D"});
  }

  // Files.
  if (!stem.parent_path().empty()) fs::create_directories(stem.parent_path());
  outcome.h5_path = with_suffix(stem, ".h5");
  outcome.csv_path = with_suffix(stem, ".csv");
  outcome.speed_csv_path = with_suffix(stem, "_speed.csv");
  RunIdentity identity{"certified",
                       config.resolved_text,
                       config.source,
                       command_line,
                       store_source || config.qkv.empty() ? 0 : config.qkv.front().seed,
                       threads};
  Provenance provenance = make_provenance(identity);
  std::vector<NamedTable> tables;
  if (store_source) {
    provenance.set("store", config.store.store);
    for (const auto& [key, value] : work.store().info().attributes.attributes)
      provenance.set("store_" + key, value);
    tables.push_back({"points", outcome.points, "one row per (layer, n, search, eps)"});
    tables.push_back({"pooled", outcome.pooled, "one row per (n, search, eps), layers pooled"});
    tables.push_back({"speed", outcome.speed, "per (n, search): wall-clock speed (varies)"});
  } else {
    tables.push_back({"points", outcome.points, "one row per (grid point, search, eps)"});
    tables.push_back({"speed", outcome.speed, "per (point, search): wall-clock speed (varies)"});
  }
  if (config.store_rows) {
    tables.push_back({"rows", outcome.rows, "one row per (query row, search, eps)"});
  }
  ResultFiles files;
  files.write(outcome.h5_path,
              [&](const fs::path& path) { write_results_h5(path, provenance, tables); });
  if (causal) {
    // Decoder stores: the main CSV per (layer, n_bucket, search, eps), layers pooled beside it.
    outcome.points_csv_path = with_suffix(stem, "_pooled.csv");
    files.write(outcome.csv_path, [&](const fs::path& path) { write_csv(path, outcome.points); });
    files.write(outcome.points_csv_path,
                [&](const fs::path& path) { write_csv(path, outcome.pooled); });
  } else if (store_source) {
    outcome.points_csv_path = with_suffix(stem, "_points.csv");
    files.write(outcome.csv_path, [&](const fs::path& path) { write_csv(path, outcome.pooled); });
    files.write(outcome.points_csv_path,
                [&](const fs::path& path) { write_csv(path, outcome.points); });
  } else {
    files.write(outcome.csv_path, [&](const fs::path& path) { write_csv(path, outcome.points); });
  }
  files.write(outcome.speed_csv_path,
              [&](const fs::path& path) { write_csv(path, outcome.speed); });
  files.commit();
  return outcome;
}

RunSpec certified_spec(const CertifiedConfig& config, const CertifiedWork& work) {
  RunSpec spec;
  spec.kind = "certified";
  spec.name = config.name;
  spec.fingerprint_text = config.resolved_text + "\n" + work.fingerprint_text();
  spec.config_text = config.resolved_text;
  spec.config_file = config.source;
  spec.seed = work.store_source() || config.qkv.empty() ? 0 : config.qkv.front().seed;
  spec.unit_noun = work.store_source() ? "(layer, head)" : "grid point";
  return spec;
}

}  // namespace

CertifiedOutcome run_certified_sweep(const CertifiedConfig& config, const RunOptions& options) {
  const auto start = Clock::now();
  const RunContext ctx = make_context(config);
  const std::size_t threads = resolve_thread_count(options.threads);
  const CertifiedWork work(config, ctx, threads);
  const RunSpec spec = certified_spec(config, work);
  const UnitRun run = run_units(work, spec, options);
  CertifiedOutcome outcome;
  if (run.wrote_partial()) {
    outcome.partial_path = run.partial_path;
    outcome.wrote_results = false;
  } else if (run.is_root) {
    outcome = write_certified_results(config, ctx, work, work.slots(run.results),
                                      results_stem(options.out_dir, config.name),
                                      options.command_line, threads);
    finish_checkpoint(config.name, options);
  } else {
    outcome.wrote_results = false;
  }
  outcome.threads = threads;
  outcome.rows_total = 0;
  for (const WorkItem& item : work.items())
    outcome.rows_total += item.count;
  outcome.searches_total = outcome.rows_total * config.searches.size() * config.analysis.eps.size();
  outcome.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return outcome;
}

CertifiedOutcome merge_certified_partials(const CertifiedConfig& config,
                                          const std::vector<Partial>& partials,
                                          const fs::path& stem, const std::string& command_line) {
  const RunContext ctx = make_context(config);
  const CertifiedWork work(config, ctx, 1);
  const std::vector<std::string> results =
      merge_partials(work, certified_spec(config, work), partials);
  return write_certified_results(config, ctx, work, work.slots(results), stem, command_line, 0);
}

std::string certified_summary(const CertifiedConfig& config, const CertifiedOutcome& outcome,
                              std::size_t max_lines) {
  const bool store_source = config.source_type == "logit_store";
  const Table& table = store_source ? outcome.pooled : outcome.points;
  auto dbl = [&](const char* name) -> const std::vector<double>& {
    return std::get<std::vector<double>>(table.find(name)->values);
  };
  auto ints = [&](const char* name) -> const std::vector<std::int64_t>& {
    return std::get<std::vector<std::int64_t>>(table.find(name)->values);
  };
  const auto& search = std::get<std::vector<std::string>>(table.find("search")->values);
  std::string text;
  char line[256];
  if (store_source) {
    std::snprintf(line, sizeof line, "%-14s %5s %6s %6s %9s %8s %8s %9s %9s %6s\n", "search", "n",
                  "eps", "rows", "scored/n", "kept", "kept/n", "exact k/n", "certified", "valid");
  } else {
    std::snprintf(line, sizeof line, "%-11s %-26s %-14s %6s %9s %8s %9s %9s %6s\n", "family",
                  "params", "search", "eps", "scored/n", "kept/n", "exact k/n", "certified",
                  "valid");
  }
  text += line;
  const std::size_t rows = table.rows();
  for (std::size_t r = 0; r < rows && r < max_lines; ++r) {
    if (store_source) {
      std::snprintf(
          line, sizeof line, "%-14s %5lld %6g %6lld %9.4f %8.1f %8.4f %9.4f %9.4f %6.4f\n",
          search[r].c_str(), static_cast<long long>(ints(table.find("n") ? "n" : "n_bucket")[r]),
          dbl("eps")[r], static_cast<long long>(ints("rows")[r]), dbl("scored_over_n_mean")[r],
          dbl("kept_mean")[r], dbl("kept_over_n_mean")[r], dbl("k_over_n_mean")[r],
          dbl("certified_fraction")[r], dbl("certificate_valid")[r]);
    } else {
      std::string params =
          "n=" + std::to_string(ints("n")[r]) + " d=" + std::to_string(ints("d")[r]);
      if (!std::isnan(dbl("clusters")[r])) params += " c=" + format_param(dbl("clusters")[r]);
      params += " s=" + format_param(dbl("strength")[r]);
      const auto& family = std::get<std::vector<std::string>>(table.find("family")->values);
      std::snprintf(line, sizeof line, "%-11s %-26s %-14s %6g %9.4f %8.4f %9.4f %9.4f %6.4f\n",
                    family[r].c_str(), params.c_str(), search[r].c_str(), dbl("eps")[r],
                    dbl("scored_over_n_mean")[r], dbl("kept_over_n_mean")[r],
                    dbl("k_over_n_mean")[r], dbl("certified_fraction")[r],
                    dbl("certificate_valid")[r]);
    }
    text += line;
  }
  if (rows > max_lines) {
    std::snprintf(line, sizeof line, "... %zu more rows in the CSV\n", rows - max_lines);
    text += line;
  }
  return text;
}

}  // namespace tvk
