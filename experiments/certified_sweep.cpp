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
#include "core/results/csv_writer.h"
#include "core/rows/row_analysis.h"
#include "core/rows/tail_profile.h"
#include "experiments/analysis_plan.h"
#include "experiments/certified/item_result.h"
#include "experiments/certified/key_set_runner.h"
#include "experiments/certified/search_plan.h"
#include "experiments/certified/tables.h"
#include "experiments/checkpointed_run.h"
#include "experiments/communicator.h"
#include "experiments/provenance.h"

namespace tvk {
namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;
using namespace certified;

//! One key set: a (layer, head, sequence) of a store or a sampled key set of a qkv point.
struct KeySetRef {
  std::size_t head = 0;  //!< store: index into the loaded heads
  std::int64_t layer = 0, head_index = 0, sequence = 0;
  std::size_t point = 0;      //!< qkv grid point (store: 0)
  std::size_t key_set = 0;    //!< qkv: key set index within its point
  std::size_t first_row = 0;  //!< qkv: the point's row index of the first query
  std::size_t queries = 0;    //!< query rows of this key set
  std::size_t n = 0;
};

//! A work item: rows [first, first + count) of one key set.
struct WorkItem {
  std::size_t key_set = 0, first = 0, count = 0;
};

}  // namespace

CertifiedOutcome run_certified_sweep(const CertifiedConfig& config, const RunOptions& options) {
  const auto start = Clock::now();
  if (options.shard_count > 1) {
    throw InputError("--shard: certified runs are not sharded; run them whole");
  }
  CertifiedOutcome outcome;
  // Certified runs are not split across MPI ranks: rank 0 runs everything.
  if (!Communicator::world().is_root()) {
    outcome.wrote_results = false;
    return outcome;
  }
  const RunContext ctx = make_context(config);
  const bool store_source = config.source_type == "logit_store";

  // Key sets and, for a store, every head read up front (serial HDF5).
  std::vector<KeySetRef> key_sets;
  std::vector<HeadVectors> heads;
  std::optional<LogitStore> store;
  std::vector<CertifiedQkvPoint> points;
  double store_scale = 1.0;
  if (store_source) {
    store.emplace(LogitStore::open(config.store.store));
    const LogitStoreInfo& info = store->info();
    store_scale = info.scale;
    const auto layers = resolve_index_selection(
        config.store.layers, info.layers, config.source + ": source.layers", config.store.store);
    const auto head_ids = resolve_index_selection(
        config.store.heads, info.heads, config.source + ": source.heads", config.store.store);
    std::vector<std::size_t> sequences;
    for (std::size_t s :
         resolve_index_selection(config.store.sequences, info.sequences.size(),
                                 config.source + ": source.sequences", config.store.store)) {
      if (info.sequences[s].length >= static_cast<std::size_t>(config.store.min_length)) {
        sequences.push_back(s);
      }
    }
    if (sequences.empty()) {
      throw InputError(config.source + ": source.min_length: no selected sequence of " +
                       config.store.store + " has at least " +
                       std::to_string(config.store.min_length) + " tokens");
    }
    for (std::size_t layer : layers) {
      for (std::size_t head : head_ids) {
        for (std::size_t s : sequences) {
          KeySetRef ref;
          ref.head = heads.size();
          ref.layer = static_cast<std::int64_t>(layer);
          ref.head_index = static_cast<std::int64_t>(head);
          ref.sequence = static_cast<std::int64_t>(s);
          ref.queries = ref.n = info.sequences[s].length;
          heads.push_back(store->read_head(s, layer, head));
          key_sets.push_back(ref);
        }
      }
    }
  } else {
    points = certified_qkv_points(config);
    for (std::size_t p = 0; p < points.size(); ++p) {
      const CertifiedQkvSource& source = config.qkv[points[p].source];
      const auto rows = static_cast<std::size_t>(source.rows);
      const auto per_set = static_cast<std::size_t>(source.queries_per_key_set);
      for (std::size_t first = 0, k = 0; first < rows; first += per_set, ++k) {
        KeySetRef ref;
        ref.point = p;
        ref.key_set = k;
        ref.first_row = first;
        ref.queries = std::min(per_set, rows - first);
        ref.n = points[p].parameters.n;
        key_sets.push_back(ref);
      }
    }
  }
  std::vector<WorkItem> items;
  const auto chunk = static_cast<std::size_t>(config.chunk_rows);
  for (std::size_t k = 0; k < key_sets.size(); ++k) {
    for (std::size_t first = 0; first < key_sets[k].queries; first += chunk)
      items.push_back({k, first, std::min(chunk, key_sets[k].queries - first)});
  }
  for (const WorkItem& item : items)
    outcome.rows_total += item.count;
  outcome.searches_total = outcome.rows_total * config.searches.size() * config.eps.size();

  // Every item fills its own slot; nothing depends on which thread runs it.
  std::vector<ItemResult> slots(items.size());
  outcome.threads = resolve_thread_count(options.threads);

  // Checkpoints: one file per work item as it completes, so a kill loses only the items in
  // flight and --resume reloads the rest (their timings too: the speed table then mixes runs).
  fs::create_directories(options.out_dir);
  const CheckpointStore checkpoint(
      checkpoint_dir(config.name, options),
      fingerprint_of(config.resolved_text + "\ncertified work items 1\nchunk_rows " +
                     std::to_string(config.chunk_rows)),
      options.resume);
  const std::size_t exact_per_row = config.eps.size() * (1 + config.bounds.size());
  const std::size_t records_per_row = ctx.searches.size() * config.eps.size();
  std::vector<char> done(items.size(), 0);
  if (options.resume) {
    done = checkpoint.restore_saved(
        items.size(),
        [&](std::size_t i, const std::string& bytes) {
          slots[i] = deserialize_item(bytes, items[i].count, exact_per_row, records_per_row,
                                      ctx.searches.size());
        },
        "work item", std::cerr);
  }
  std::size_t remaining_rows = 0;
  for (std::size_t i = 0; i < items.size(); ++i)
    remaining_rows += done[i] ? 0 : items[i].count;

  ProgressReporter progress(config.name, remaining_rows, options.progress, std::cerr);
  auto run_item = [&](std::size_t i) {
    if (done[i]) return;
    const WorkItem& item = items[i];
    const KeySetRef& ks = key_sets[item.key_set];
    ItemResult& out = slots[i];
    out.search_seconds.assign(ctx.searches.size(), 0.0);
    if (store_source) {
      const HeadVectors& head = heads[ks.head];
      KeySetRunner runner(ctx, head.k, head.v, store_scale);
      std::vector<Eigen::VectorXd> queries;
      std::vector<RowMeta> meta;
      for (std::size_t r = item.first; r < item.first + item.count; ++r) {
        queries.push_back(head.q.row(static_cast<Eigen::Index>(r)).transpose());
        meta.push_back({{ks.layer, ks.head_index, ks.sequence, static_cast<std::int64_t>(r)},
                        static_cast<std::uint32_t>(runner.n())});
      }
      runner.run(queries, meta, out);
    } else {
      const CertifiedQkvPoint& point = points[ks.point];
      const std::uint64_t seed = config.qkv[point.source].seed;
      RandomStream key_rng = make_stream(seed, ks.point, ks.key_set, StreamPurpose::kKeys);
      const QkvKeySet set = sample_key_set(point.parameters, key_rng);
      KeySetRunner runner(ctx, set.keys, set.values, qkv_scale(point.parameters));
      std::vector<Eigen::VectorXd> queries;
      std::vector<RowMeta> meta;
      for (std::size_t r = item.first; r < item.first + item.count; ++r) {
        const std::size_t row = ks.first_row + r;
        RandomStream query_rng = make_stream(seed, ks.point, row, StreamPurpose::kQuery);
        std::size_t target = 0;
        queries.push_back(sample_query(point.parameters, set, query_rng, &target));
        meta.push_back({{static_cast<std::int64_t>(ks.point), static_cast<std::int64_t>(ks.key_set),
                         static_cast<std::int64_t>(row), static_cast<std::int64_t>(target)},
                        static_cast<std::uint32_t>(runner.n())});
      }
      runner.run(queries, meta, out);
    }
    checkpoint.save(i, serialize_item(out));
    progress.advance(item.count);
  };
  tbb::task_arena arena(static_cast<int>(outcome.threads));
  arena.execute([&] {
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, items.size(), 1),
                      [&](const tbb::blocked_range<std::size_t>& range) {
                        for (std::size_t i = range.begin(); i != range.end(); ++i)
                          run_item(i);
                      });
  });
  progress.finish();
  heads.clear();

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
        by_layer[{static_cast<std::int64_t>(layer_position[ks.layer]), item.meta[r].n}].push_back(
            {i, r});
        by_n[item.meta[r].n].push_back({i, r});
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

  const std::size_t S = ctx.searches.size(), E = config.eps.size();
  if (store_source) {
    TableBuilder points_table, pooled_table;
    for (const auto& [key, refs] : by_layer) {
      for (std::size_t s = 0; s < S; ++s) {
        for (std::size_t e = 0; e < E; ++e) {
          points_table.put_int("layer", layer_of_position[key.first], "layer index (0-based)");
          points_table.put_int("n", key.second, "keys per row (the sequence length)");
          points_table.put_string("search", config.searches[s].name, "search name");
          summarize(ctx, slots, refs, s, e, points_table);
        }
      }
    }
    for (const auto& [n, refs] : by_n) {
      for (std::size_t s = 0; s < S; ++s) {
        for (std::size_t e = 0; e < E; ++e) {
          pooled_table.put_int("n", n, "keys per row (the sequence length)");
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
    const std::size_t B = config.bounds.size();
    for (const ItemResult& item : slots) {
      for (std::size_t r = 0; r < item.meta.size(); ++r) {
        for (std::size_t s = 0; s < S; ++s) {
          for (std::size_t e = 0; e < E; ++e) {
            const SearchRecord& rec = item.records[(r * S + s) * E + e];
            for (std::size_t c = 0; c < 4; ++c)
              id[c].push_back(item.meta[r].id[c]);
            search.push_back(config.searches[s].name);
            eps.push_back(config.eps[e]);
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
  fs::create_directories(options.out_dir);
  outcome.h5_path = options.out_dir / (config.name + ".h5");
  outcome.csv_path = options.out_dir / (config.name + ".csv");
  outcome.speed_csv_path = options.out_dir / (config.name + "_speed.csv");
  RunIdentity identity{"certified",
                       config.resolved_text,
                       config.source,
                       options.command_line,
                       store_source || config.qkv.empty() ? 0 : config.qkv.front().seed,
                       outcome.threads};
  Provenance provenance = make_provenance(identity);
  std::vector<NamedTable> tables;
  if (store_source) {
    provenance.set("store", config.store.store);
    for (const auto& [key, value] : store->info().attributes.attributes)
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
  write_results_h5(outcome.h5_path, provenance, tables);
  if (store_source) {
    outcome.points_csv_path = options.out_dir / (config.name + "_points.csv");
    write_csv(outcome.csv_path, outcome.pooled);
    write_csv(outcome.points_csv_path, outcome.points);
  } else {
    write_csv(outcome.csv_path, outcome.points);
  }
  write_csv(outcome.speed_csv_path, outcome.speed);
  finish_checkpoint(config.name, options);
  outcome.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return outcome;
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
      std::snprintf(line, sizeof line,
                    "%-14s %5lld %6g %6lld %9.4f %8.1f %8.4f %9.4f %9.4f %6.4f\n",
                    search[r].c_str(), static_cast<long long>(ints("n")[r]), dbl("eps")[r],
                    static_cast<long long>(ints("rows")[r]), dbl("scored_over_n_mean")[r],
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
