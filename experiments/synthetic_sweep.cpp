#include "experiments/synthetic_sweep.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iostream>
#include <limits>
#include <map>

#include "core/engine/sweep_runner.h"
#include "core/engine/thread_count.h"
#include "core/hdf5/results_writer.h"
#include "core/models/model_registry.h"
#include "core/random/stream.h"
#include "core/results/atomic_file.h"
#include "core/results/csv_writer.h"
#include "experiments/analysis_plan.h"
#include "experiments/memory_budget.h"
#include "experiments/partial_file.h"
#include "experiments/point_work.h"
#include "experiments/provenance.h"
#include "experiments/unit_runner.h"

namespace tvk {
namespace fs = std::filesystem;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

//! Rows of a synthetic point: the model's sample from the stream of (seed, point, row).
class SyntheticRowSource final : public RowSource {
 public:
  SyntheticRowSource(const std::vector<SyntheticPoint>& points, std::uint64_t seed,
                     std::size_t rows)
      : points_(points), seed_(seed), rows_(rows) {}
  std::size_t point_count() const override { return points_.size(); }
  std::size_t row_count(std::size_t) const override { return rows_; }
  std::size_t row_length(std::size_t point) const override { return points_[point].n; }
  void fill(std::size_t point, std::size_t row, std::span<double> out) const override {
    RandomStream stream = make_stream(seed_, point, row, StreamPurpose::kLogits);
    points_[point].model->sample(stream, out);
  }

 private:
  const std::vector<SyntheticPoint>& points_;
  std::uint64_t seed_;
  std::size_t rows_;
};

std::string rho_label(double rho) {
  return format_shortest(rho);
}

}  // namespace

std::vector<SyntheticPoint> expand_points(const SweepConfig& config) {
  std::vector<SyntheticPoint> points;
  for (std::size_t m = 0; m < config.models.size(); ++m) {
    const ModelGrid& grid = config.models[m];
    for (std::size_t j = 0; j < grid.size(); ++j) {
      std::shared_ptr<const ScoreModel> model = make_model(grid.type, grid.point(j));
      for (std::int64_t n : config.n) {
        points.push_back(SyntheticPoint{m, model, static_cast<std::size_t>(n)});
      }
    }
  }
  return points;
}

Table points_table(const SweepConfig& config, const std::vector<SyntheticPoint>& points,
                   const std::vector<PointStatistics>& statistics) {
  // Parameter columns: the union over models, in first-seen order; NaN where a model lacks one.
  std::vector<std::string> params;
  for (const ModelGrid& grid : config.models) {
    for (const ModelAxis& axis : grid.axes) {
      if (std::find(params.begin(), params.end(), axis.param) == params.end()) {
        params.push_back(axis.param);
      }
    }
  }
  std::vector<std::string> model_col, rule_note;
  std::map<std::string, std::vector<double>> param_cols;
  std::vector<std::int64_t> n_col, rows_col;
  std::vector<std::uint8_t> finite_col;
  std::map<std::string, std::vector<double>> d;  // double columns by name
  std::vector<std::string> order;                // double column order
  auto put = [&](const std::string& name, double value) {
    auto [it, inserted] = d.try_emplace(name);
    if (inserted) order.push_back(name);
    it->second.push_back(value);
  };

  for (std::size_t p = 0; p < points.size(); ++p) {
    const SyntheticPoint& point = points[p];
    const PointStatistics& s = statistics[p];
    const ScoreModel& model = *point.model;
    const double n = static_cast<double>(point.n);
    for (std::size_t e = 0; e < config.analysis.eps.size(); ++e) {
      model_col.push_back(model.info().name);
      for (const auto& param : params) {
        auto it = model.params().find(param);
        param_cols[param].push_back(it == model.params().end() ? kNaN : it->second);
      }
      n_col.push_back(static_cast<std::int64_t>(point.n));
      rows_col.push_back(s.rows());
      finite_col.push_back(model.exp_mean_finite() ? 1 : 0);
      const double eps = config.analysis.eps[e];
      put("eps", eps);
      KSummary k = summarize_k(s.k_sum(e), s.k_sq_sum(e), s.rows(), point.n);
      add_quantiles(k, s.k_histogram(e), s.rows(), point.n);
      const double rows = static_cast<double>(s.rows());
      put("k_over_n_mean", k.mean);
      put("k_over_n_std", k.std);
      put("k_over_n_sem", k.sem);
      put("k_over_n_q05", k.q05);
      put("k_over_n_q50", k.q50);
      put("k_over_n_q95", k.q95);
      put("tau_at_k_mean", s.tau_at_k_sum(e) / rows);
      put("key_reduction", 1.0 / k.mean);
      put("key_reduction_mean", s.reduction_sum(e) / rows);
      const std::optional<double> rule = model.asymptotic_k_fraction(eps);
      put("rule_k_over_n", rule ? *rule : kNaN);
      put("rule_rel_error", rule ? (*rule - k.mean) / k.mean : kNaN);
      rule_note.push_back(rule ? "" : model.no_rule_reason());
      for (std::size_t b = 0; b < config.analysis.bounds.size(); ++b) {
        const std::string& X = config.analysis.bounds[b];
        KSummary kb = summarize_k(s.bound_k_sum(b, e), s.bound_k_sq_sum(b, e), s.rows(), point.n);
        put(X + "_k_over_n_mean", kb.mean);
        put(X + "_k_over_n_sem", kb.sem);
        put(X + "_price_mean", s.bound_price_sum(b, e) / rows);
        put(X + "_held", static_cast<double>(s.bound_held(b, e)) / rows);
        put(X + "_key_reduction_mean", s.bound_reduction_sum(b, e) / rows);
      }
      for (std::size_t g = 0; g < config.analysis.k_grid.size(); ++g) {
        const double rho = config.analysis.k_grid[g];
        const double mean = s.tau_grid_sum(g) / rows;
        const double var =
            rows > 1 ? std::max(0.0, (s.tau_grid_sq_sum(g) - rows * mean * mean) / (rows - 1))
                     : 0.0;
        const std::size_t kg = grid_k(point.n, rho);
        const std::optional<double> limit = model.tail_mass_limit(static_cast<double>(kg) / n);
        put("tau_mean_at_" + rho_label(rho), mean);
        put("tau_sem_at_" + rho_label(rho), std::sqrt(var / rows));
        put("tau_inf_at_" + rho_label(rho), limit ? *limit : kNaN);
      }
    }
  }

  Table table;
  table.columns.push_back({"model", model_col, "score model (model.type)"});
  for (const auto& param : params) {
    table.columns.push_back({param, param_cols[param],
                             "model parameter (NaN: not a parameter "
                             "of this row's model)"});
  }
  table.columns.push_back({"n", n_col, "keys per row"});
  table.columns.push_back({"rows", rows_col, "rows sampled at this point"});
  table.columns.push_back(
      {"exp_mean_finite", finite_col, "1 when E[e^s] is finite (an asymptotic rule exists)"});
  for (const auto& name : order)
    table.columns.push_back({name, d[name], ""});
  table.columns.push_back({"rule_note", rule_note, "why there is no asymptotic rule, if none"});
  return table;
}

SweepOutcome write_synthetic_results(const SweepConfig& config,
                                     const std::vector<SyntheticPoint>& points,
                                     const std::vector<PointStatistics>& statistics,
                                     const std::filesystem::path& stem,
                                     const std::string& command_line, std::size_t threads) {
  SweepOutcome outcome;
  outcome.h5_path = with_suffix(stem, ".h5");
  outcome.csv_path = with_suffix(stem, ".csv");
  outcome.points = points_table(config, points, statistics);
  outcome.rows_total = points.size() * static_cast<std::size_t>(config.rows);

  RunIdentity identity{"synthetic",  config.resolved_text, config.source,
                       command_line, config.seed,          threads};
  std::vector<NamedTable> tables = {
      {"points", outcome.points, "one row per grid point and eps (THEORY §5)"}};
  if (config.store_rows) {
    Table rows;
    std::vector<std::int64_t> point_col, row_col, k_col;
    std::vector<double> eps_col, tau_col;
    std::vector<std::vector<std::int64_t>> bound_k(config.analysis.bounds.size());
    std::vector<std::vector<double>> bound_value(config.analysis.bounds.size());
    const std::size_t eps_count = config.analysis.eps.size();
    for (std::size_t p = 0; p < points.size(); ++p) {
      const std::vector<StoredRow> stored = statistics[p].stored_rows();
      for (std::size_t r = 0; r < stored.size(); ++r) {
        for (std::size_t e = 0; e < eps_count; ++e) {
          point_col.push_back(static_cast<std::int64_t>(p));
          row_col.push_back(static_cast<std::int64_t>(r));
          eps_col.push_back(config.analysis.eps[e]);
          k_col.push_back(static_cast<std::int64_t>(stored[r].k_eps(e)));
          tau_col.push_back(stored[r].tau_at_k_eps(e));
          for (std::size_t b = 0; b < config.analysis.bounds.size(); ++b) {
            bound_k[b].push_back(static_cast<std::int64_t>(stored[r].bound_kept(b, e)));
            bound_value[b].push_back(stored[r].bound_value(b, e));
          }
        }
      }
    }
    rows.columns.push_back({"point", point_col, "grid point index (row of points per eps)"});
    rows.columns.push_back({"row", row_col, "row index within the point (its stream id)"});
    rows.columns.push_back({"eps", eps_col, "TV budget"});
    rows.columns.push_back({"k_eps", k_col, "minimal certified k"});
    rows.columns.push_back({"tau", tau_col, "tail mass at k_eps"});
    for (std::size_t b = 0; b < config.analysis.bounds.size(); ++b) {
      rows.columns.push_back({config.analysis.bounds[b] + "_k", bound_k[b], "certified kept keys"});
      rows.columns.push_back(
          {config.analysis.bounds[b] + "_bound", bound_value[b], "certified bound"});
    }
    tables.push_back({"rows", std::move(rows), "per-row values (store_rows: true)"});
  }
  ResultFiles files;
  files.write(outcome.h5_path, [&](const fs::path& path) {
    write_results_h5(path, make_provenance(identity), tables);
  });
  files.write(outcome.csv_path, [&](const fs::path& path) { write_csv(path, outcome.points); });
  files.commit();
  return outcome;
}

namespace {

//! A synthetic run as the engine sees it: the points, their rows and the run's identity.
struct SyntheticRun {
  std::vector<SyntheticPoint> points;
  std::shared_ptr<const RowAnalysisPlan> plan;
  SyntheticRowSource source;
  PointWork work;
  RunSpec spec;

  SyntheticRun(const SweepConfig& config, std::size_t threads)
      : points(expand_points(config)),
        plan(make_plan(config.analysis)),
        source(points, config.seed, static_cast<std::size_t>(config.rows)),
        work(source, plan, static_cast<std::size_t>(config.analysis.chunk_rows), config.store_rows,
             threads) {
    spec.kind = "synthetic";
    spec.name = config.name;
    // The resolved config covers everything that changes the data, and nothing that does not.
    spec.fingerprint_text = config.resolved_text + "\nformat " + std::to_string(kFormatMajor) +
                            "\nchunk_rows " + std::to_string(config.analysis.chunk_rows);
    spec.config_text = config.resolved_text;
    spec.config_file = config.source;
    spec.seed = config.seed;
  }
};

}  // namespace

SweepOutcome run_synthetic_sweep(const SweepConfig& config, const RunOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  const std::size_t threads = resolve_thread_count(options.threads);
  // Per key and row in flight: the row, its sorted profile, weights, tail and head sums and
  // the bounds' scratch (~80 bytes), and each statistics slot's k histogram (8 bytes per eps).
  check_row_memory(config.source + ": n",
                   static_cast<std::size_t>(*std::max_element(config.n.begin(), config.n.end())),
                   80 + 8 * config.analysis.eps.size(), threads + 2);
  const SyntheticRun synthetic(config, threads);
  const UnitRun run = run_units(synthetic.work, synthetic.spec, options);
  SweepOutcome outcome;
  if (run.wrote_partial()) {
    outcome.partial_path = run.partial_path;
    outcome.wrote_results = false;
  } else if (run.is_root) {
    outcome = write_synthetic_results(
        config, synthetic.points, synthetic.work.statistics(run.results),
        results_stem(options.out_dir, config.name), options.command_line, run.threads);
    finish_checkpoint(config.name, options);
  } else {
    outcome.wrote_results = false;
  }
  outcome.resumed_points = run.resumed_units;
  outcome.gather_seconds = run.gather_seconds;
  outcome.rows_total = synthetic.points.size() * static_cast<std::size_t>(config.rows);
  outcome.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return outcome;
}

SweepOutcome merge_synthetic_partials(const SweepConfig& config,
                                      const std::vector<Partial>& partials,
                                      const std::filesystem::path& stem,
                                      const std::string& command_line) {
  const SyntheticRun synthetic(config, 1);
  const std::vector<std::string> results = merge_partials(synthetic.work, synthetic.spec, partials);
  return write_synthetic_results(config, synthetic.points, synthetic.work.statistics(results), stem,
                                 command_line, 0);
}

}  // namespace tvk
