#include "experiments/certified_sweep.h"

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "core/engine/thread_count.h"
#include "core/hdf5/results_writer.h"
#include "core/results/atomic_file.h"
#include "core/results/csv_writer.h"
#include "experiments/certified/certified_work.h"
#include "experiments/certified/item_result.h"
#include "experiments/certified/search_plan.h"
#include "experiments/certified/tables.h"
#include "experiments/provenance.h"
#include "experiments/unit_runner.h"

namespace tvk {
namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;
using namespace certified;

//! The tables (certified_tables) and files of a certified run from every item's slot:
//! `<stem>.h5`, `<stem>.csv`, `<stem>_speed.csv` and, for a store, `<stem>_points.csv`.
CertifiedOutcome write_certified_results(const CertifiedConfig& config, const RunContext& ctx,
                                         const CertifiedWork& work,
                                         const std::vector<ItemResult>& slots, const fs::path& stem,
                                         const std::string& command_line, std::size_t threads) {
  CertifiedOutcome outcome;
  outcome.threads = threads;
  const bool store_source = work.store_source();
  const bool causal = store_source && work.store().info().causal;
  for (const WorkItem& item : work.items())
    outcome.rows_total += item.count;
  outcome.searches_total = outcome.rows_total * config.searches.size() * config.analysis.eps.size();
  CertifiedTables built = certified_tables(config, ctx, work, slots);
  outcome.points = std::move(built.points);
  outcome.pooled = std::move(built.pooled);
  outcome.speed = std::move(built.speed);
  outcome.rows = std::move(built.rows);

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
