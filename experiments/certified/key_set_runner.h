#pragma once
//! \file Runs every search of a certified run on the query rows of one key set, whose cells are
//! built once (internal to the certified kind; header-only, included by certified_sweep.cpp).

// Eigen first: core/numerics/eigen.h must bring in the intrinsic headers before anything else does.
#include "core/numerics/eigen.h"

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <vector>

#include "core/certified/cells.h"
#include "core/certified/certified_search.h"
#include "core/certified/output_certificate.h"
#include "core/certified/quantized_output_certificate.h"
#include "core/certified/search.h"
#include "core/kernels/kernel_set.h"
#include "core/numerics/vector_norms.h"
#include "core/rows/row_analysis.h"
#include "core/rows/tail_profile.h"
#include "experiments/certified/item_result.h"
#include "experiments/certified/search_plan.h"

namespace tvk::certified {

//! Runs every search on the query rows of one key set: its cells are built once.
class KeySetRunner {
 public:
  //! `with_distances`: the O2 ratio (off for causal rows, whose key set is new for every row;
  //! O2 is then NaN). Up to kMaxDistanceKeys keys every pairwise value distance is computed once
  //! (n^2 doubles); beyond, each search's distances are computed when needed, so memory stays
  //! linear in n (the same values: each distance is the same sum).
  KeySetRunner(const RunContext& ctx, const Eigen::MatrixXd& keys, const Eigen::MatrixXd& values,
               double scale, bool with_distances = true)
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
    codes_.reserve(ctx.quantizers.size());
    for (const QuantizerOptions& options : ctx.quantizers)
      codes_.push_back(QuantizedKeys::build(keys_.data(), n_, d_, options));
    const ByteModel bytes{d_, static_cast<std::size_t>(values.cols())};
    for (const SearchPlan& plan : ctx.searches) {
      KeySetView view;
      view.cells = plan.cells ? &cells_[*plan.cells] : nullptr;
      view.codes = plan.quantizer ? &codes_[*plan.quantizer] : nullptr;
      view.values = &values_;
      view.bytes = bytes;
      view.scale = scale_;
      view.scorer = &scorer_;
      view.bound_options = ctx.bound_options;
      view.cost = ctx.cost;
      searches_.push_back(plan.search->start(view));
    }
    dense_bytes_ = bytes.dense(n_);
    if (ctx.config->output_error && !ctx.quantizers.empty()) {
      // int8 values with one scale per key: the quantized search's output certificate.
      const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> v = values;
      value_codes_.emplace(QuantizedKeys::build(v.data(), n_, static_cast<std::size_t>(v.cols()),
                                                QuantizerOptions{8, 0}));
    }
    o2_ = ctx.config->output_error && with_distances;
    if (o2_ && n_ <= kMaxDistanceKeys) build_distances();
    logits_.resize(n_);
    kept_mask_.resize(n_);
    tail_mask_.resize(static_cast<Eigen::Index>(n_));
  }

  KeySetRunner(const KeySetRunner&) = delete;  // its scorer and searches point into it
  KeySetRunner& operator=(const KeySetRunner&) = delete;

  std::size_t n() const { return n_; }

  //! Runs the dense baseline and every search at every eps on the queries (rows of an item),
  //! then the exact analysis of each row and the checks of every result.
  void run(const std::vector<Eigen::VectorXd>& queries, const std::vector<RowMeta>& meta,
           ItemResult& out) {
    const CertifiedConfig& config = *ctx_.config;
    const auto& eps = config.analysis.eps;
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
          results_[(r * S + s) * E + e] = searches_[s]->run(queries[r], eps[e]);
        out.search_seconds[s] += thread_seconds() - start;
      }
    }
    // Untimed: the full row's exact analysis, and each result checked against it.
    const std::size_t bounds = config.analysis.bounds.size();
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
          out.records.push_back(
              record(ctx_.searches[s], results_[(r * S + s) * E + e], queries[r], eps[e]));
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

  //! The dense scoring of every key, for the baseline and for searches that read the whole row.
  class Scorer final : public RowScorer {
   public:
    explicit Scorer(const KeySetRunner& runner) : runner_(runner) {}
    std::size_t n() const override { return runner_.n_; }
    void score_all(const Eigen::VectorXd& query, std::span<double> out) const override {
      kernels::active_kernels().key_logits(query.data(), runner_.keys_.data(), runner_.n_,
                                           runner_.d_, runner_.scale_, out.data());
    }
    void score(const double* query, std::span<const std::uint32_t> keys,
               double* out) const override {
      const kernels::KernelTable& table = kernels::active_kernels();
      for (std::size_t i = 0; i < keys.size(); ++i) {
        table.key_logits(query, runner_.keys_.data() + std::size_t{keys[i]} * runner_.d_, 1,
                         runner_.d_, runner_.scale_, out + i);
      }
    }

   private:
    const KeySetRunner& runner_;
  };

  void score_all(const Eigen::VectorXd& query, std::vector<double>& out) const {
    scorer_.score_all(query, out);
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

  SearchRecord record(const SearchPlan& plan, const SearchResult& result,
                      const Eigen::VectorXd& query, double eps) {
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
    // An uncertified baseline has no bound (NaN): never valid, and its certificate is not
    // counted; only its true tau against eps (violation) says how it did.
    rec.valid = result.certified && rec.true_tau <= rec.bound && rec.bound <= eps ? 1 : 0;
    rec.bytes_over_dense = result.bytes / dense_bytes_;
    if (!ctx_.config->output_error) return rec;
    const KeyCells* cells = plan.cells ? &cells_[*plan.cells] : nullptr;
    OutputCertificate oc = output_certificate(result, values_, cells, logits_,
                                              /*with_diameter=*/false);
    std::size_t covered = result.kept + result.dropped_keys.size();
    for (std::uint32_t c : result.unvisited_cells)
      covered += cells ? cells->cell_size(c) : 0;
    if (!result.certified) {
      oc.certificate = kNaN;  // a baseline certifies nothing
    } else if (covered < n_) {
      // Keys unscored outside any cell (the quantized search): their values are bounded from
      // int8 value codes and their weights from the search's own logit bounds.
      if (!plan.quantizer) {
        oc.certificate = kInf;
      } else {
        upper_.resize(n_);
        lower_.resize(n_);
        codes_[*plan.quantizer].logit_bounds(query.data(), scale_, n_, lower_.data(),
                                             upper_.data());
        oc.certificate = quantized_output_bound(result, values_, *value_codes_, upper_);
      }
    }
    oc.certificate_ratio = oc.exact > 0.0 ? oc.certificate / oc.exact : kNaN;
    rec.exact_error = oc.exact;
    rec.certificate = oc.certificate;
    rec.output_valid = oc.exact <= oc.certificate ? 1 : 0;
    rec.ratios = {oc.certificate_ratio, kNaN, oc.head_radius_ratio, oc.variance_ratio,
                  oc.generic_ratio};
    // O2 = tau · max_{i∈K, j∈T} ‖v_i − v_j‖₂ from the key set's distance matrix (the
    // library's direct loop costs |K| |T| d_v per search).
    if (!o2_) return rec;  // O2 not computed (NaN)
    double far = 0.0;
    if (result.kept < n_ && distances_.empty()) {
      for (std::uint32_t i : result.kept_keys) {
        for (std::size_t j = 0; j < n_; ++j) {
          if (!kept_mask_[j]) far = std::max(far, value_distance(i, j));
        }
      }
    } else if (result.kept < n_) {
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

  //! ‖v_i − v_j‖₂ summed as build_distances does (lower index first).
  double value_distance(std::size_t i, std::size_t j) const {
    const auto a = static_cast<Eigen::Index>(std::min(i, j));
    const auto b = static_cast<Eigen::Index>(std::max(i, j));
    return euclidean_norm(values_.row(a) - values_.row(b));
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
  std::vector<QuantizedKeys> codes_;  // per distinct quantizer of the searches
  double dense_bytes_ = 0.0;
  std::optional<QuantizedKeys> value_codes_;  // values' int8 codes (output certificates)
  std::vector<double> upper_, lower_;
  Scorer scorer_{*this};
  std::vector<std::unique_ptr<KeySetSearch>> searches_;  // per search, on this key set
  //! Beyond this many keys the n^2 distance matrix is not kept (2048: 32 MiB per key set).
  static constexpr std::size_t kMaxDistanceKeys = 2048;
  bool o2_ = false;  // the O2 ratio is computed
  std::vector<double> distances_;
  RowAnalyzer analyzer_;
  RowAnalysis analysis_;
  TailProfile dense_profile_;
  std::vector<double> logits_;
  std::vector<char> kept_mask_;
  Eigen::ArrayXd tail_mask_;
  std::vector<SearchResult> results_;
  std::size_t sink_ = 0;
};

}  // namespace tvk::certified
