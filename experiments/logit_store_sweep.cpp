#include "experiments/logit_store_sweep.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>

#include "core/engine/point_statistics.h"
#include "core/engine/thread_count.h"
#include "core/error.h"
#include "core/hdf5/logit_store.h"
#include "core/hdf5/results_writer.h"
#include "core/models/numerics.h"
#include "core/results/atomic_file.h"
#include "core/results/csv_writer.h"
#include "experiments/analysis_plan.h"
#include "experiments/point_work.h"
#include "experiments/provenance.h"
#include "experiments/store_selection.h"
#include "experiments/unit_runner.h"

namespace tvk {
namespace fs = std::filesystem;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

//! One grid point: a (layer, head) over the selected sequences; its rows are the selected
//! query rows of each sequence in turn (the same for every point).
struct StorePoint {
  std::size_t layer = 0, head = 0;
  std::vector<std::size_t> offsets;  //!< first row of each selected sequence, then the total
  std::size_t max_length = 0;
};

class StoreRowSource final : public RowSource {
 public:
  StoreRowSource(const LogitStore& store, std::vector<std::size_t> sequences,
                 std::vector<std::vector<std::size_t>> query_rows, std::vector<StorePoint> points)
      : store_(store),
        sequences_(std::move(sequences)),
        query_rows_(std::move(query_rows)),
        points_(std::move(points)) {}

  std::size_t point_count() const override { return points_.size(); }
  std::size_t row_count(std::size_t point) const override { return points_[point].offsets.back(); }
  std::size_t row_length(std::size_t point) const override { return points_[point].max_length; }
  std::size_t row_length(std::size_t /*point*/, std::size_t row) const override {
    const StoreSequence& seq = store_.info().sequences[sequences_[sequence_of(row)]];
    return store_.info().causal ? position_of(row) + 1 : seq.length;
  }
  //! Reads the point's head from every selected sequence (HDF5 is serial: one thread, here).
  void prepare(std::size_t point) const override {
    if (loaded_ == point) return;
    heads_.clear();
    for (std::size_t s : sequences_) {
      heads_.push_back(store_.read_head(s, points_[point].layer, points_[point].head));
    }
    loaded_ = point;
  }
  void fill(std::size_t /*point*/, std::size_t row, std::span<double> out) const override {
    const std::size_t s = sequence_of(row);
    head_logits(heads_[s], store_.info().scale, query_rows_[s][row - offsets()[s]], out);
  }
  //! Index into the selected sequences of the sequence holding `row`.
  std::size_t sequence_of(std::size_t row) const {
    const auto& o = offsets();
    return static_cast<std::size_t>(std::upper_bound(o.begin(), o.end(), row) - o.begin()) - 1;
  }
  //! The token position of `row`'s query in its sequence.
  std::size_t position_of(std::size_t row) const {
    const std::size_t s = sequence_of(row);
    const StoreSequence& seq = store_.info().sequences[sequences_[s]];
    return seq.query_positions[query_rows_[s][row - offsets()[s]]];
  }
  const std::vector<std::size_t>& offsets() const { return points_.front().offsets; }

 private:
  const LogitStore& store_;
  std::vector<std::size_t> sequences_;                // store indices of the selected sequences
  std::vector<std::vector<std::size_t>> query_rows_;  // per sequence: the stored query rows read
  std::vector<StorePoint> points_;
  mutable std::size_t loaded_ = static_cast<std::size_t>(-1);
  mutable std::vector<HeadVectors> heads_;
};

//! numpy's default ("linear") quantile of sorted values.
double linear_quantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return kNaN;
  const double h = static_cast<double>(sorted.size() - 1) * q;
  const auto lower = static_cast<std::size_t>(std::floor(h));
  const double high = lower + 1 < sorted.size() ? sorted[lower + 1] : sorted[lower];
  return sorted[lower] + (h - static_cast<double>(lower)) * (high - sorted[lower]);
}

void summarize(const std::vector<StoredRow>& rows, std::size_t e, double eps,
               const std::vector<std::string>& bounds,
               std::map<std::string, std::vector<double>>& columns,
               std::vector<std::string>& order) {
  auto put = [&](const std::string& name, double value) {
    auto [it, inserted] = columns.try_emplace(name);
    if (inserted) order.push_back(name);
    it->second.push_back(value);
  };
  const double count = static_cast<double>(rows.size());
  std::vector<double> ratio;
  double n_sum = 0, k_sum = 0, ratio_sum = 0, ratio_sq = 0, tau_sum = 0, reduction_sum = 0;
  double sigma_sum = 0, rule_sum = 0, rule_abs = 0, sink_sum = 0, local_sum = 0;
  for (const StoredRow& row : rows) {
    sink_sum += row.first_key_mass();
    local_sum += row.last_keys_mass();
    const double r = row.k_eps(e) / row.n();
    ratio.push_back(r);
    n_sum += row.n();
    k_sum += row.k_eps(e);
    ratio_sum += r;
    ratio_sq += r * r;
    tau_sum += row.tau_at_k_eps(e);
    reduction_sum += row.n() / row.k_eps(e);
    sigma_sum += row.logit_std();
    const double rule = numerics::gaussian_k_fraction(row.logit_std(), eps);
    rule_sum += rule;
    rule_abs += std::abs(rule - r);
  }
  std::sort(ratio.begin(), ratio.end());
  const double mean = ratio_sum / count;
  const double var = count > 1 ? std::max(0.0, (ratio_sq - count * mean * mean) / (count - 1)) : 0;
  put("eps", eps);
  put("n_mean", n_sum / count);
  put("k_over_n_mean", mean);
  put("k_over_n_std", std::sqrt(var));
  put("k_over_n_sem", std::sqrt(var / count));
  put("k_over_n_q05", linear_quantile(ratio, 0.05));
  put("k_over_n_q50", linear_quantile(ratio, 0.50));
  put("k_over_n_q95", linear_quantile(ratio, 0.95));
  put("tau_at_k_mean", tau_sum / count);
  put("key_reduction", n_sum / k_sum);
  put("key_reduction_mean", reduction_sum / count);
  put("sigma_hat_mean", sigma_sum / count);
  put("rule_k_over_n_mean", rule_sum / count);
  put("rule_rel_error", (rule_sum / count - mean) / mean);
  put("rule_abs_error_mean", rule_abs / count);
  put("sink_mass_mean", sink_sum / count);
  put("local_mass_mean", local_sum / count);
  for (std::size_t b = 0; b < bounds.size(); ++b) {
    double kb_sum = 0, kb_ratio = 0, kb_ratio_sq = 0, price = 0, reduction = 0, held = 0;
    for (const StoredRow& row : rows) {
      const double kb = row.bound_kept(b, e);
      held += row.bound_held(b, e) ? 1 : 0;
      kb_sum += kb;
      kb_ratio += kb / row.n();
      kb_ratio_sq += (kb / row.n()) * (kb / row.n());
      price += kb / row.k_eps(e);
      reduction += row.n() / kb;
    }
    const double kb_mean = kb_ratio / count;
    const double kb_var =
        count > 1 ? std::max(0.0, (kb_ratio_sq - count * kb_mean * kb_mean) / (count - 1)) : 0;
    const std::string& X = bounds[b];
    put(X + "_k_over_n_mean", kb_mean);
    put(X + "_k_over_n_sem", std::sqrt(kb_var / count));
    put(X + "_price_mean", price / count);
    put(X + "_held", held / count);
    put(X + "_key_reduction", n_sum / kb_sum);
    put(X + "_key_reduction_mean", reduction / count);
  }
}

void append_columns(Table& table, std::map<std::string, std::vector<double>>& columns,
                    const std::vector<std::string>& order) {
  for (const auto& name : order)
    table.columns.push_back({name, std::move(columns[name]), ""});
}

//! A logit-store run as the engine sees it: the store, its selected (layer, head) points and
//! the run's identity.
struct StoreRun {
  LogitStore store;
  std::vector<std::size_t> layers, heads, sequences;
  std::vector<StorePoint> points;
  std::unique_ptr<StoreRowSource> source;
  std::shared_ptr<const RowAnalysisPlan> plan;
  std::unique_ptr<PointWork> work;
  RunSpec spec;

  StoreRun(const StoreSweepConfig& config, std::size_t threads)
      : store(LogitStore::open(config.store)) {
    const LogitStoreInfo& info = store.info();
    const StoreSelectionKeys keys = store_selection_keys(config);
    const KeyWhere where = prefix_where(config.source + ": ");
    StoreSelection selection = select_from_store(info, keys, where);
    const std::vector<std::vector<std::size_t>> query_rows =
        selected_query_rows(info, selection, keys, where);
    layers = std::move(selection.layers);
    heads = std::move(selection.heads);
    sequences = std::move(selection.sequences);
    StorePoint shape;
    shape.offsets.push_back(0);
    for (std::size_t i = 0; i < sequences.size(); ++i) {
      shape.offsets.push_back(shape.offsets.back() + query_rows[i].size());
      shape.max_length = std::max(shape.max_length, info.sequences[sequences[i]].length);
    }
    for (std::size_t layer : layers) {
      for (std::size_t head : heads) {
        StorePoint point = shape;
        point.layer = layer;
        point.head = head;
        points.push_back(point);
      }
    }
    source = std::make_unique<StoreRowSource>(store, sequences, query_rows, points);
    auto analysis_plan = std::make_shared<RowAnalysisPlan>(*make_plan(config.analysis, true));
    analysis_plan->position_masses = true;
    analysis_plan->local_window = static_cast<std::size_t>(config.local_window);
    plan = analysis_plan;
    work = std::make_unique<PointWork>(*source, plan,
                                       static_cast<std::size_t>(config.analysis.chunk_rows),
                                       /*store_rows=*/true, threads);
    spec.kind = "logit_store";
    spec.name = config.name;
    // What changes the data: the resolved config and which store (its identity attributes).
    spec.fingerprint_text = config.resolved_text + "\nformat " + std::to_string(kFormatMajor) +
                            "\nchunk_rows " + std::to_string(config.analysis.chunk_rows);
    spec.fingerprint_text += store_identity_text(info, config.store) + "\n";
    spec.config_text = config.resolved_text;
    spec.config_file = config.source;
  }
};

//! Writes `<stem>.h5` (points, layers, rows tables), `<stem>.csv` (points) and
//! `<stem>_layers.csv` from every point's statistics.
StoreSweepOutcome write_store_results(const StoreSweepConfig& config, const StoreRun& run_data,
                                      const std::vector<PointStatistics>& statistics,
                                      const fs::path& stem, const std::string& command_line,
                                      std::size_t threads) {
  const LogitStoreInfo& info = run_data.store.info();
  const std::vector<StorePoint>& points = run_data.points;
  const std::vector<std::size_t>& layers = run_data.layers;
  const std::vector<std::size_t>& sequences = run_data.sequences;
  const StoreRowSource& source = *run_data.source;
  const AnalysisSettings& analysis = config.analysis;
  StoreSweepOutcome outcome;
  outcome.h5_path = with_suffix(stem, ".h5");
  outcome.csv_path = with_suffix(stem, ".csv");
  outcome.layers_csv_path = with_suffix(stem, "_layers.csv");
  const std::size_t eps_count = analysis.eps.size();
  const std::size_t bound_count = analysis.bounds.size();

  // Rows of a point (or of a layer's points) by n bucket, ascending; one group without buckets.
  auto by_bucket = [&](const std::vector<StoredRow>& rows) {
    std::map<std::int64_t, std::vector<StoredRow>> groups;
    for (const StoredRow& row : rows)
      groups[config.n_buckets
                 ? static_cast<std::int64_t>(n_bucket(static_cast<std::uint64_t>(row.n())))
                 : 0]
          .push_back(row);
    return groups;
  };
  const auto& layer_ids = info.layer_ids;
  // Points: one row per (layer, head, [n_bucket,] eps).
  {
    std::vector<std::int64_t> layer_col, head_col, kv_col, bucket_col, rows_col;
    std::map<std::string, std::vector<double>> columns;
    std::vector<std::string> order;
    for (std::size_t p = 0; p < points.size(); ++p) {
      for (const auto& [bucket, rows] : by_bucket(statistics[p].stored_rows())) {
        for (std::size_t e = 0; e < eps_count; ++e) {
          layer_col.push_back(layer_ids[points[p].layer]);
          head_col.push_back(static_cast<std::int64_t>(points[p].head));
          kv_col.push_back(static_cast<std::int64_t>(info.kv_head_of[points[p].head]));
          bucket_col.push_back(bucket);
          rows_col.push_back(static_cast<std::int64_t>(rows.size()));
          summarize(rows, e, analysis.eps[e], analysis.bounds, columns, order);
        }
      }
    }
    outcome.points.columns = {{"layer", layer_col, "model layer index (0-based)"},
                              {"head", head_col, "query head index (0-based)"},
                              {"kv_head", kv_col, "the KV head this query head reads"}};
    if (config.n_buckets) {
      outcome.points.columns.push_back(
          {"n_bucket", bucket_col, "power of two at or below the rows' n"});
    }
    outcome.points.columns.push_back({"rows", rows_col, "attention rows (query tokens)"});
    append_columns(outcome.points, columns, order);
  }
  // Layers: rows of every selected head of a layer pooled (per n bucket).
  {
    std::vector<std::int64_t> layer_col, heads_col, bucket_col, rows_col;
    std::map<std::string, std::vector<double>> columns;
    std::vector<std::string> order;
    for (std::size_t layer : layers) {
      std::vector<StoredRow> pooled;
      std::size_t members = 0;
      for (std::size_t p = 0; p < points.size(); ++p) {
        if (points[p].layer != layer) continue;
        ++members;
        const auto more = statistics[p].stored_rows();
        pooled.insert(pooled.end(), more.begin(), more.end());
      }
      for (const auto& [bucket, rows] : by_bucket(pooled)) {
        for (std::size_t e = 0; e < eps_count; ++e) {
          layer_col.push_back(layer_ids[layer]);
          heads_col.push_back(static_cast<std::int64_t>(members));
          bucket_col.push_back(bucket);
          rows_col.push_back(static_cast<std::int64_t>(rows.size()));
          summarize(rows, e, analysis.eps[e], analysis.bounds, columns, order);
        }
      }
    }
    outcome.layers.columns = {{"layer", layer_col, "model layer index (0-based)"},
                              {"heads", heads_col, "heads pooled"}};
    if (config.n_buckets) {
      outcome.layers.columns.push_back(
          {"n_bucket", bucket_col, "power of two at or below the rows' n"});
    }
    outcome.layers.columns.push_back({"rows", rows_col, "attention rows pooled"});
    append_columns(outcome.layers, columns, order);
  }
  // Rows: one row per (attention row, eps).
  Table rows_table;
  {
    std::vector<std::int64_t> layer_col, head_col, seq_col, query_col, n_col, k_col;
    std::vector<double> sigma_col, eps_col, ratio_col, tau_col, rule_col;
    std::vector<std::vector<std::int64_t>> bound_cols(bound_count);
    for (std::size_t p = 0; p < points.size(); ++p) {
      const auto rows = statistics[p].stored_rows();
      for (std::size_t r = 0; r < rows.size(); ++r) {
        const std::size_t s = source.sequence_of(r);
        for (std::size_t e = 0; e < eps_count; ++e) {
          layer_col.push_back(layer_ids[points[p].layer]);
          head_col.push_back(static_cast<std::int64_t>(points[p].head));
          seq_col.push_back(static_cast<std::int64_t>(sequences[s]));
          query_col.push_back(static_cast<std::int64_t>(source.position_of(r)));
          n_col.push_back(static_cast<std::int64_t>(rows[r].n()));
          sigma_col.push_back(rows[r].logit_std());
          eps_col.push_back(analysis.eps[e]);
          k_col.push_back(static_cast<std::int64_t>(rows[r].k_eps(e)));
          ratio_col.push_back(rows[r].k_eps(e) / rows[r].n());
          tau_col.push_back(rows[r].tau_at_k_eps(e));
          rule_col.push_back(numerics::gaussian_k_fraction(rows[r].logit_std(), analysis.eps[e]));
          for (std::size_t b = 0; b < bound_count; ++b) {
            bound_cols[b].push_back(static_cast<std::int64_t>(rows[r].bound_kept(b, e)));
          }
        }
      }
    }
    rows_table.columns = {{"layer", layer_col, ""},
                          {"head", head_col, ""},
                          {"sequence", seq_col, "sequence index in the store"},
                          {"query", query_col, "query token position within the sequence"},
                          {"n", n_col, "keys in the row (valid tokens)"},
                          {"sigma_hat", sigma_col, "std of the row's logits (ddof 0)"},
                          {"eps", eps_col, "TV budget"},
                          {"k_eps", k_col, "minimal certified k"},
                          {"k_over_n", ratio_col, ""},
                          {"tau", tau_col, "tail mass at k_eps"},
                          {"rule_k_over_n", rule_col, "Gaussian rule with the fitted sigma_hat"}};
    for (std::size_t b = 0; b < bound_count; ++b) {
      rows_table.columns.push_back(
          {analysis.bounds[b] + "_k", std::move(bound_cols[b]), "certified kept keys"});
    }
    outcome.rows_total = layer_col.size() / std::max<std::size_t>(eps_count, 1);
  }

  RunIdentity identity{"logit_store", config.resolved_text, config.source, command_line, 0,
                       threads};
  Provenance provenance = make_provenance(identity);
  provenance.set("store", config.store);
  for (const auto& [key, value] : info.attributes.attributes) {
    provenance.set("store_" + key, value);
  }
  ResultFiles files;
  files.write(outcome.h5_path, [&](const fs::path& path) {
    write_results_h5(
        path, provenance,
        {{"points", outcome.points, "one row per (layer, head, [n_bucket,] eps)"},
         {"layers", outcome.layers, "one row per (layer, [n_bucket,] eps), heads pooled"},
         {"rows", std::move(rows_table), "one row per (attention row, eps)"}});
  });
  files.write(outcome.csv_path, [&](const fs::path& path) { write_csv(path, outcome.points); });
  files.write(outcome.layers_csv_path,
              [&](const fs::path& path) { write_csv(path, outcome.layers); });
  files.commit();
  return outcome;
}

}  // namespace

StoreSweepOutcome run_logit_store_sweep(const StoreSweepConfig& config, const RunOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  const StoreRun store_run(config, resolve_thread_count(options.threads));
  const UnitRun run = run_units(*store_run.work, store_run.spec, options);
  StoreSweepOutcome outcome;
  if (run.wrote_partial()) {
    outcome.partial_path = run.partial_path;
    outcome.wrote_results = false;
  } else if (run.is_root) {
    outcome = write_store_results(config, store_run, store_run.work->statistics(run.results),
                                  results_stem(options.out_dir, config.name), options.command_line,
                                  run.threads);
    finish_checkpoint(config.name, options);
  } else {
    outcome.wrote_results = false;
  }
  outcome.rows_total = 0;
  for (const StorePoint& point : store_run.points)
    outcome.rows_total += point.offsets.back();
  outcome.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return outcome;
}

StoreSweepOutcome merge_logit_store_partials(const StoreSweepConfig& config,
                                             const std::vector<Partial>& partials,
                                             const fs::path& stem,
                                             const std::string& command_line) {
  const StoreRun store_run(config, 1);
  const std::vector<std::string> results =
      merge_partials(*store_run.work, store_run.spec, partials);
  return write_store_results(config, store_run, store_run.work->statistics(results), stem,
                             command_line, 0);
}

}  // namespace tvk
