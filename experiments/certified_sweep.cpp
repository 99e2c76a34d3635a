#include "experiments/certified_sweep.h"

// Eigen before oneTBB: both bring in the intrinsic headers, and core/eigen.h must be first.
#include "core/eigen.h"

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

#include "core/certified_cells.h"
#include "core/certified_search.h"
#include "core/engine/byte_codec.h"
#include "core/engine/checkpoint.h"
#include "core/engine/progress.h"
#include "core/engine/thread_count.h"
#include "core/error.h"
#include "core/io/config_checks.h"
#include "core/io/logit_store.h"
#include "core/io/results_writer.h"
#include "core/kernels/kernel_set.h"
#include "core/output_certificate.h"
#include "core/qkv_models.h"
#include "core/random/stream.h"
#include "core/row_analysis.h"
#include "core/tail_profile.h"
#include "core/vector_norms.h"
#include "experiments/analysis_plan.h"
#include "experiments/checkpointed_run.h"
#include "experiments/communicator.h"
#include "experiments/provenance.h"

namespace tvk {
namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

//! The output-level ratios reported per row, bound / exact.
constexpr std::size_t kRatioCount = 5;  // certificate, O2, O3, O4, O5
const std::array<const char*, kRatioCount> kRatioNames = {"certificate", "o2", "o3", "o4", "o5"};

enum class SearchType { kMc, kB5, kDeltaK };

//! A search ready to run.
struct SearchPlan {
  SearchType type = SearchType::kMc;
  std::size_t cells = 0;  //!< index into RunContext::cell_options (MC and B5)
  KeptMode kept = KeptMode::kTopk;
  UpperBoundKind upper = UpperBoundKind::kMin;
  std::string delta_bound;
  std::size_t k0 = 1, delta_k = 1;
};

//! What every work item shares (read-only).
struct RunContext {
  const CertifiedConfig* config = nullptr;
  std::vector<CellOptions> cell_options;  //!< distinct cell partitions the searches use
  std::vector<SearchPlan> searches;
  std::shared_ptr<const RowAnalysisPlan> plan;  //!< exact k_eps and the full-row bounds
  BoundOptions bound_options;                   //!< for Δk-Search's bound
  CostModel cost;
};

RunContext make_context(const CertifiedConfig& config) {
  RunContext ctx;
  ctx.config = &config;
  ctx.cost.summary_cost = config.summary_cost;
  ctx.bound_options.block = static_cast<std::size_t>(config.block);
  ctx.bound_options.equal_groups = static_cast<std::size_t>(config.b3_groups);
  AnalysisSettings settings;
  settings.eps = config.eps;
  settings.bounds = config.bounds;
  settings.block = config.block;
  settings.b3_grouping = config.b3_grouping;
  settings.b3_groups = config.b3_groups;
  settings.k_grid = {};
  ctx.plan = make_plan(settings);
  for (const CertifiedSearchSpec& spec : config.searches) {
    SearchPlan plan;
    if (spec.type == "delta_k") {
      plan.type = SearchType::kDeltaK;
      plan.delta_bound = spec.delta_bound;
      plan.k0 = static_cast<std::size_t>(spec.k0);
      plan.delta_k = static_cast<std::size_t>(spec.delta_k);
      ctx.searches.push_back(plan);
      continue;
    }
    plan.type = spec.type == "b5" ? SearchType::kB5 : SearchType::kMc;
    plan.kept = parse_kept_mode(spec.kept);
    plan.upper = parse_upper_bound_kind(spec.bound);
    CellOptions cells;
    cells.kind = parse_cell_kind(spec.cells);
    if (cells.kind == CellKind::kBlocks) {
      cells.block = static_cast<std::size_t>(spec.block);
    } else {
      cells.clusters = static_cast<std::size_t>(spec.clusters);
      cells.iterations = static_cast<std::size_t>(spec.iterations);
    }
    // Searches over the same partition share its cells (built once per key set).
    auto same = [&cells](const CellOptions& o) {
      return o.kind == cells.kind &&
             (cells.kind == CellKind::kBlocks
                  ? o.block == cells.block
                  : o.clusters == cells.clusters && o.iterations == cells.iterations);
    };
    const auto found = std::find_if(ctx.cell_options.begin(), ctx.cell_options.end(), same);
    plan.cells = static_cast<std::size_t>(found - ctx.cell_options.begin());
    if (found == ctx.cell_options.end()) ctx.cell_options.push_back(cells);
    ctx.searches.push_back(plan);
  }
  return ctx;
}

//! One search on one row at one eps.
struct SearchRecord {
  std::uint32_t scored = 0, summaries = 0, kept = 0, positions = 0;
  std::uint8_t dense = 0;         //!< needed every key (dense fallback)
  std::uint8_t certified = 0;     //!< the search reported a certificate (always, by design)
  std::uint8_t valid = 0;         //!< true tau <= bound <= eps
  std::uint8_t output_valid = 0;  //!< exact output error <= output certificate
  double bound = 0.0, true_tau = 0.0, cost = 0.0;
  double exact_error = kNaN, certificate = kNaN;
  std::array<double, kRatioCount> ratios = {kNaN, kNaN, kNaN, kNaN, kNaN};
};

//! Identity of one query row: store (layer, head, sequence, query) or qkv (point, key set,
//! row, target).
struct RowMeta {
  std::array<std::int64_t, 4> id = {};
  std::uint32_t n = 0;
};

//! The slot of one work item.
struct ItemResult {
  std::vector<RowMeta> meta;
  std::vector<std::uint32_t> exact;    //!< per row: eps × (k_eps, then each bound's kept keys)
  std::vector<SearchRecord> records;   //!< per row: searches × eps
  std::vector<double> search_seconds;  //!< per search, over the item's rows and every eps
  double dense_seconds = 0.0;          //!< the dense baseline over the item's rows, every eps
};

// A work item's slot as checkpoint bytes, field by field (no padding bytes in the file).
constexpr std::uint64_t kItemMagic = 0x3174696b43545654ULL;  // "TVTCkit1"

std::string serialize_item(const ItemResult& item) {
  ByteWriter out;
  out.put(kItemMagic);
  out.put<std::uint64_t>(item.meta.size());
  for (const RowMeta& meta : item.meta) {
    out.put(meta.id);
    out.put(meta.n);
  }
  out.put_vector(item.exact);
  out.put<std::uint64_t>(item.records.size());
  for (const SearchRecord& r : item.records) {
    for (std::uint32_t v : {r.scored, r.summaries, r.kept, r.positions})
      out.put(v);
    for (std::uint8_t v : {r.dense, r.certified, r.valid, r.output_valid})
      out.put(v);
    for (double v : {r.bound, r.true_tau, r.cost, r.exact_error, r.certificate})
      out.put(v);
    out.put(r.ratios);
  }
  out.put_vector(item.search_seconds);
  out.put(item.dense_seconds);
  return out.take();
}

// The slot back; `rows` and the per-row sizes must be those of this config's item.
ItemResult deserialize_item(const std::string& bytes, std::size_t rows, std::size_t exact_per_row,
                            std::size_t records_per_row, std::size_t searches) {
  ByteReader in(bytes, "certified work item");
  if (in.get<std::uint64_t>() != kItemMagic) throw std::runtime_error("not a certified work item");
  ItemResult item;
  item.meta.resize(in.get<std::uint64_t>() == rows ? rows : 0);
  for (RowMeta& meta : item.meta) {
    meta.id = in.get<decltype(meta.id)>();
    meta.n = in.get<std::uint32_t>();
  }
  in.get_vector(item.exact);
  item.records.resize(in.get<std::uint64_t>());
  if (item.meta.size() != rows || item.exact.size() != rows * exact_per_row ||
      item.records.size() != rows * records_per_row) {
    throw std::runtime_error("certified work item does not match the configuration");
  }
  for (SearchRecord& r : item.records) {
    for (std::uint32_t* v : {&r.scored, &r.summaries, &r.kept, &r.positions})
      *v = in.get<std::uint32_t>();
    for (std::uint8_t* v : {&r.dense, &r.certified, &r.valid, &r.output_valid})
      *v = in.get<std::uint8_t>();
    for (double* v : {&r.bound, &r.true_tau, &r.cost, &r.exact_error, &r.certificate})
      *v = in.get<double>();
    r.ratios = in.get<decltype(r.ratios)>();
  }
  in.get_vector(item.search_seconds);
  item.dense_seconds = in.get<double>();
  if (item.search_seconds.size() != searches || !in.done()) {
    throw std::runtime_error("certified work item does not match the configuration");
  }
  return item;
}

//! Runs every search on the query rows of one key set: its cells are built once.
class KeySetRunner {
 public:
  KeySetRunner(const RunContext& ctx, const Eigen::MatrixXd& keys, const Eigen::MatrixXd& values,
               double scale)
      : ctx_(ctx),
        values_(values),
        scale_(scale),
        n_(static_cast<std::size_t>(keys.rows())),
        d_(static_cast<std::size_t>(keys.cols())),
        analyzer_(ctx.plan) {
    keys_.resize(n_ * d_);
    for (std::size_t i = 0; i < n_; ++i) {
      for (std::size_t c = 0; c < d_; ++c)
        keys_[i * d_ + c] = keys(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(c));
    }
    cells_.reserve(ctx.cell_options.size());
    for (const CellOptions& options : ctx.cell_options)
      cells_.emplace_back(keys, values, options);
    for (const SearchPlan& plan : ctx.searches) {
      if (plan.type == SearchType::kDeltaK) {
        delta_.emplace_back(std::make_unique<DeltaKSearch>(plan.delta_bound, ctx.bound_options,
                                                           plan.k0, plan.delta_k));
      } else {
        delta_.emplace_back();
      }
    }
    if (ctx.config->output_error) build_distances();
    logits_.resize(n_);
    scratch_logits_.resize(n_);
    kept_mask_.resize(n_);
    tail_mask_.resize(static_cast<Eigen::Index>(n_));
  }

  std::size_t n() const { return n_; }

  //! Runs the dense baseline and every search at every eps on the queries (rows of an item),
  //! then the exact analysis of each row and the checks of every result.
  void run(const std::vector<Eigen::VectorXd>& queries, const std::vector<RowMeta>& meta,
           ItemResult& out) {
    const CertifiedConfig& config = *ctx_.config;
    const auto& eps = config.eps;
    const std::size_t rows = queries.size(), S = ctx_.searches.size(), E = eps.size();
    // Timed in blocks (one search at one eps over every query of the item), as a kernel serving
    // many queries against one key set would run: the dense baseline scores every key, sorts the
    // row and finds k_eps, once per eps like every search.
    for (double e : eps) {
      const double start = thread_seconds();
      for (const Eigen::VectorXd& query : queries) {
        score_all(query, logits_);
        dense_profile_.assign(logits_);
        sink_ += dense_profile_.k_eps(e);  // keeps the look-up from being optimised away
      }
      out.dense_seconds += thread_seconds() - start;
    }
    results_.resize(rows * S * E);  // [row][search][eps]
    for (std::size_t s = 0; s < S; ++s) {
      for (std::size_t e = 0; e < E; ++e) {
        const double start = thread_seconds();
        for (std::size_t r = 0; r < rows; ++r)
          results_[(r * S + s) * E + e] = search(ctx_.searches[s], s, queries[r], eps[e]);
        out.search_seconds[s] += thread_seconds() - start;
      }
    }
    // Untimed: the full row's exact analysis, and each result checked against it.
    const std::size_t bounds = config.bounds.size();
    for (std::size_t r = 0; r < rows; ++r) {
      score_all(queries[r], logits_);
      analyzer_.analyze(logits_, analysis_);
      out.meta.push_back(meta[r]);
      for (std::size_t e = 0; e < E; ++e) {
        out.exact.push_back(static_cast<std::uint32_t>(analysis_.k_eps[e]));
        for (std::size_t b = 0; b < bounds; ++b) {
          out.exact.push_back(static_cast<std::uint32_t>(analysis_.certificates[b * E + e].kept));
        }
      }
      for (std::size_t s = 0; s < S; ++s) {
        for (std::size_t e = 0; e < E; ++e) {
          out.records.push_back(record(ctx_.searches[s], results_[(r * S + s) * E + e], eps[e]));
        }
      }
    }
  }

 private:
  //! CPU time of the calling thread: unlike wall-clock time it does not count the time the
  //! thread waits while other processes run, so the speed table means something on a shared
  //! machine.
  static double thread_seconds() {
    timespec now{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return static_cast<double>(now.tv_sec) + 1e-9 * static_cast<double>(now.tv_nsec);
  }

  void score_all(const Eigen::VectorXd& query, std::vector<double>& out) const {
    kernels::active_kernels().key_logits(query.data(), keys_.data(), n_, d_, scale_, out.data());
  }

  //! The search alone, as deployed: no true tau (computed afterwards, untimed). Δk-Search needs
  //! the whole row scored and sorted, so that is part of its time.
  SearchResult search(const SearchPlan& plan, std::size_t s, const Eigen::VectorXd& query,
                      double eps) {
    switch (plan.type) {
      case SearchType::kMc: {
        McSearchOptions options;
        options.eps = eps;
        options.kept = plan.kept;
        options.upper_bound = plan.upper;
        options.cost = ctx_.cost;
        options.true_tau = false;
        return mc_search(cells_[plan.cells], query, scale_, options);
      }
      case SearchType::kB5:
        return b5_search(cells_[plan.cells], query, scale_, eps, plan.upper, ctx_.cost, false);
      case SearchType::kDeltaK:
        score_all(query, scratch_logits_);
        delta_profile_.assign(scratch_logits_);
        return delta_[s]->run(delta_profile_, eps, ctx_.cost);
    }
    throw std::logic_error("certified sweep: unknown search type");
  }

  //! P(K^c) from the full row, summed from the bottom of the sorted order (as kept_set_tau).
  double true_tau(const SearchResult& result) {
    std::fill(kept_mask_.begin(), kept_mask_.end(), 0);
    for (std::uint32_t i : result.kept_keys)
      kept_mask_[i] = 1;
    const TailProfile& profile = analyzer_.profile();
    const auto w = profile.weights();
    const auto pos = profile.positions();
    double outside = 0.0;
    for (std::size_t r = n_; r-- > 0;) {
      if (!kept_mask_[pos[r]]) outside += w[r];
    }
    return outside / profile.total();
  }

  SearchRecord record(const SearchPlan& plan, const SearchResult& result, double eps) {
    SearchRecord rec;
    rec.scored = static_cast<std::uint32_t>(result.scored);
    rec.summaries = static_cast<std::uint32_t>(result.summaries_read);
    rec.kept = static_cast<std::uint32_t>(result.kept);
    rec.positions = static_cast<std::uint32_t>(result.positions_examined);
    rec.dense = result.dense_fallback ? 1 : 0;
    rec.certified = result.certified ? 1 : 0;
    rec.bound = result.bound;
    rec.true_tau = true_tau(result);  // also fills kept_mask_
    rec.cost = result.cost;
    rec.valid = rec.true_tau <= rec.bound && rec.bound <= eps ? 1 : 0;
    if (!ctx_.config->output_error) return rec;
    const KeyCells* cells = plan.type == SearchType::kDeltaK ? nullptr : &cells_[plan.cells];
    const OutputCertificate oc =
        output_certificate(result, values_, cells, logits_, /*with_diameter=*/false);
    rec.exact_error = oc.exact;
    rec.certificate = oc.certificate;
    rec.output_valid = oc.exact <= oc.certificate ? 1 : 0;
    rec.ratios = {oc.certificate_ratio, kNaN, oc.head_radius_ratio, oc.variance_ratio,
                  oc.generic_ratio};
    // O2 = tau · max_{i∈K, j∈T} ‖v_i − v_j‖₂ from the key set's distance matrix (the
    // library's direct loop costs |K| |T| d_v per search).
    double far = 0.0;
    if (result.kept < n_) {
      for (std::size_t j = 0; j < n_; ++j)
        tail_mask_[static_cast<Eigen::Index>(j)] = kept_mask_[j] ? 0.0 : 1.0;
      for (std::uint32_t i : result.kept_keys) {
        const Eigen::Map<const Eigen::ArrayXd> row(distances_.data() + std::size_t{i} * n_,
                                                   static_cast<Eigen::Index>(n_));
        far = std::max(far, (row * tail_mask_).maxCoeff());
      }
    }
    rec.ratios[1] = oc.exact > 0.0 ? oc.tau * far / oc.exact : kNaN;
    return rec;
  }

  //! ‖v_i − v_j‖₂ for every pair (row-major n × n).
  void build_distances() {
    const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> v = values_;
    distances_.assign(n_ * n_, 0.0);
    for (std::size_t i = 0; i < n_; ++i) {
      for (std::size_t j = i + 1; j < n_; ++j) {
        const double dist = euclidean_norm(v.row(static_cast<Eigen::Index>(i)) -
                                           v.row(static_cast<Eigen::Index>(j)));
        distances_[i * n_ + j] = dist;
        distances_[j * n_ + i] = dist;
      }
    }
  }

  const RunContext& ctx_;
  const Eigen::MatrixXd& values_;
  double scale_;
  std::size_t n_, d_;
  std::vector<double> keys_;  // n × d row-major, for the dense scoring
  std::vector<KeyCells> cells_;
  std::vector<std::unique_ptr<DeltaKSearch>> delta_;  // per search (null unless Δk)
  std::vector<double> distances_;
  RowAnalyzer analyzer_;
  RowAnalysis analysis_;
  TailProfile dense_profile_, delta_profile_;
  std::vector<double> logits_, scratch_logits_;
  std::vector<char> kept_mask_;
  Eigen::ArrayXd tail_mask_;
  std::vector<SearchResult> results_;
  std::size_t sink_ = 0;
};

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

//! Median of the non-NaN values (NaN when there is none).
double median(std::vector<double>& values) {
  values.erase(std::remove_if(values.begin(), values.end(), [](double v) { return std::isnan(v); }),
               values.end());
  if (values.empty()) return kNaN;
  std::sort(values.begin(), values.end());
  const std::size_t m = values.size() / 2;
  return values.size() % 2 ? values[m] : 0.5 * (values[m - 1] + values[m]);
}

//! Builds a table row by row: the first row fixes the columns and their order.
class TableBuilder {
 public:
  void put(const std::string& name, double value, const std::string& doc = "") {
    column(name, doc, std::vector<double>{}).push_back(value);
  }
  void put_int(const std::string& name, std::int64_t value, const std::string& doc = "") {
    column(name, doc, std::vector<std::int64_t>{}).push_back(value);
  }
  void put_bool(const std::string& name, bool value, const std::string& doc = "") {
    column(name, doc, std::vector<std::uint8_t>{}).push_back(value ? 1 : 0);
  }
  void put_string(const std::string& name, const std::string& value, const std::string& doc = "") {
    column(name, doc, std::vector<std::string>{}).push_back(value);
  }
  Table take() { return std::move(table_); }

 private:
  template <class V>
  V& column(const std::string& name, const std::string& doc, V empty) {
    auto it = index_.find(name);
    if (it == index_.end()) {
      it = index_.emplace(name, table_.columns.size()).first;
      table_.columns.push_back({name, std::move(empty), doc});
    }
    return std::get<V>(table_.columns[it->second].values);
  }
  Table table_;
  std::map<std::string, std::size_t> index_;
};

//! A query row of the run: which item and which row within it.
struct RowRef {
  std::size_t item = 0, row = 0;
};

//! Summary columns of (search s, eps e) over `refs`.
void summarize(const RunContext& ctx, const std::vector<ItemResult>& items,
               const std::vector<RowRef>& refs, std::size_t s, std::size_t e, TableBuilder& out) {
  const CertifiedConfig& config = *ctx.config;
  const std::size_t E = config.eps.size(), B = config.bounds.size();
  const double count = static_cast<double>(refs.size());
  double n_sum = 0, scored = 0, summaries = 0, kept = 0, kept_keys = 0, k = 0, k_keys = 0;
  double certified = 0, valid = 0, dense = 0, cost = 0, positions = 0, bound = 0, tau = 0;
  double price = 0, exact_error = 0, output_valid = 0;
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
    certified += rec.dense ? 0 : 1;
    valid += rec.certified && rec.valid ? 1 : 0;
    dense += rec.dense;
    cost += rec.cost / n;
    positions += rec.positions / n;
    bound += rec.bound;
    tau += rec.true_tau;
    exact_error += rec.exact_error;
    output_valid += rec.output_valid;
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
  out.put("eps", config.eps[e], "TV budget");
  out.put_int("rows", static_cast<std::int64_t>(refs.size()), "query rows");
  out.put("n_mean", n_sum / count, "mean keys per row");
  out.put("scored_over_n_mean", scored / count, "mean over rows of scored keys / n");
  out.put("summaries_over_n_mean", summaries / count, "mean of cell summaries read / n");
  out.put("kept_over_n_mean", kept / count, "mean of kept keys / n");
  out.put("kept_mean", kept_keys / count, "mean kept keys");
  out.put("k_over_n_mean", k / count, "mean exact k_eps / n of the full row");
  out.put("k_mean", k_keys / count, "mean exact k_eps");
  out.put("kept_over_k_mean", price / count, "mean of kept / k_eps (price of the search)");
  out.put("certified_fraction", certified / count,
          "fraction of rows certified before needing every key (no dense fallback)");
  out.put("certificate_valid",
          certified_rows > 0 ? valid / static_cast<double>(certified_rows) : kNaN,
          "fraction of certified rows with true tau <= bound <= eps (must be 1)");
  out.put("dense_fraction", dense / count, "fraction of rows that needed every key");
  out.put("cost_over_n_mean", cost / count, "mean of (scored + summary_cost * summaries) / n");
  out.put("positions_over_n_mean", positions / count,
          "Δk-Search: mean sorted ranks examined / n (0 for MC-Search)");
  out.put("bound_mean", bound / count, "mean certified bound on tau of the kept set");
  out.put("true_tau_mean", tau / count, "mean true tau of the kept set");
  for (std::size_t b = 0; b < B; ++b) {
    out.put(config.bounds[b] + "_k_over_n_mean", bound_k[b] / count,
            "full-row bound's certified kept keys / n");
  }
  if (config.output_error) {
    out.put("exact_error_mean", exact_error / count, "mean of ||Attn - Attn_K||_2");
    out.put("output_certificate_valid", output_valid / count,
            "fraction of rows with exact error <= output certificate (must be 1)");
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
