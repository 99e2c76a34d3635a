// Rows: tvk.analyze (the analysis `tvk row` prints, for many rows at once), tvk.sample,
// tvk.rule, and the listings of models and bounds.
#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/enumerable_thread_specific.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/task_arena.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <nanobind/stl/map.h>
#include <nanobind/stl/optional.h>

#include "bindings.h"
#include "core/bounds/bound_registry.h"
#include "core/bounds/row_report.h"
#include "core/engine/thread_count.h"
#include "core/error.h"
#include "core/models/model_registry.h"
#include "core/predictors/finite_n_rule.h"
#include "core/random/stream.h"
#include "core/rows/tail_profile.h"
#include "core/text/text.h"

namespace tvk::python {
namespace {

//! Runs body(begin, end, worker) over [0, count) on `threads` threads (0 = all cores), each
//! worker its own W. Row results go to fixed places, so the output is the same for any count.
template <class W, class Body>
void parallel_rows(std::size_t count, std::size_t threads, Body body) {
  const std::size_t workers = resolve_thread_count(threads);
  tbb::enumerable_thread_specific<W> local;
  if (workers <= 1 || count < 2) {
    body(std::size_t{0}, count, local.local());
    return;
  }
  tbb::task_arena arena(static_cast<int>(workers));
  arena.execute([&] {
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, count, 1),
                      [&](const tbb::blocked_range<std::size_t>& range) {
                        body(range.begin(), range.end(), local.local());
                      });
  });
}

struct RowWorker {
  TailProfile profile;
  BoundScratch scratch;
  std::vector<Certificate> certificates;
  std::vector<RowEpsReport> reports;
};

void check_eps(const std::vector<double>& eps) {
  if (eps.empty()) throw InputError("eps: expected at least one TV budget in (0, 1)");
  for (double e : eps) {
    if (!(e > 0.0 && e < 1.0)) {
      throw InputError("eps: " + format_shortest(e) + " is outside (0, 1)");
    }
  }
}

nb::dict analyze(In<double> rows, std::vector<double> eps, long long block, long long b3_groups,
                 long long threads) {
  require_dims(rows, 2, "logits");
  check_eps(eps);
  if (block < 1) throw InputError("block: must be >= 1");
  if (b3_groups < 1) throw InputError("b3_groups: must be >= 1");
  if (threads < 0) throw InputError("threads: must be >= 0 (0 = all cores)");
  const std::size_t R = rows.shape(0), N = rows.shape(1), E = eps.size();
  if (N == 0) throw InputError("logits: a row needs at least one key");
  BoundOptions options;
  options.block = static_cast<std::size_t>(block);
  options.equal_groups = static_cast<std::size_t>(b3_groups);
  const std::vector<std::unique_ptr<CertifyingBound>> bounds = make_all_bounds(options);
  const std::size_t B = bounds.size();

  std::vector<std::int64_t> n(R), masked(R), k_eps(R * E), bound_k(B * R * E);
  std::vector<double> tau(R * E), bound_value(B * R * E), bound_tau(B * R * E);
  std::vector<double> tv(R * E), kl(R * E), kl_direct(R * E), kl_reverse(R * E);
  std::vector<std::string> errors(R);
  {
    nb::gil_scoped_release release;
    const double* data = rows.data();
    parallel_rows<RowWorker>(
        R, static_cast<std::size_t>(threads),
        [&](std::size_t begin, std::size_t end, RowWorker& w) {
          for (std::size_t r = begin; r < end; ++r) {
            try {
              w.profile.assign(std::span<const double>(data + r * N, N));
            } catch (const std::exception& error) {  // NaN, +inf, every key masked
              errors[r] = error.what();
              continue;
            }
            report_row(w.profile, eps, bounds, w.reports, w.scratch, w.certificates);
            n[r] = static_cast<std::int64_t>(w.profile.n());
            masked[r] = static_cast<std::int64_t>(N - w.profile.n());
            for (std::size_t e = 0; e < E; ++e) {
              const RowEpsReport& rep = w.reports[e];
              const std::size_t i = r * E + e;
              k_eps[i] = static_cast<std::int64_t>(rep.k_eps);
              tau[i] = rep.tau;
              tv[i] = rep.tv_direct;
              kl[i] = rep.kl_identity;
              kl_direct[i] = rep.kl_direct;
              kl_reverse[i] = rep.kl_reverse;
              for (std::size_t b = 0; b < B; ++b) {
                const Certificate& c = rep.certificates[b];
                bound_k[b * R * E + i] = static_cast<std::int64_t>(c.kept);
                bound_value[b * R * E + i] = c.bound;
                bound_tau[b * R * E + i] = c.tau;
              }
            }
          }
        });
  }
  for (std::size_t r = 0; r < R; ++r) {
    if (!errors[r].empty()) {
      throw InputError("logits" + (R > 1 ? "[" + std::to_string(r) + "]" : std::string()) + ": " +
                       errors[r]);
    }
  }
  nb::dict out;
  out["n"] = to_numpy(std::move(n), {R});
  out["masked"] = to_numpy(std::move(masked), {R});
  out["k_eps"] = to_numpy(std::move(k_eps), {R, E});
  out["tau"] = to_numpy(std::move(tau), {R, E});
  out["tv_half_l1"] = to_numpy(std::move(tv), {R, E});
  out["kl_truncated_to_full"] = to_numpy(std::move(kl), {R, E});
  out["kl_truncated_to_full_direct"] = to_numpy(std::move(kl_direct), {R, E});
  out["kl_full_to_truncated"] = to_numpy(std::move(kl_reverse), {R, E});
  std::vector<std::string> names;
  for (const auto& b : bounds)
    names.push_back(b->name());
  out["bounds"] = names;
  out["bound_k"] = to_numpy(std::move(bound_k), {B, R, E});
  out["bound_value"] = to_numpy(std::move(bound_value), {B, R, E});
  out["bound_tau"] = to_numpy(std::move(bound_tau), {B, R, E});
  return out;
}

std::unique_ptr<ScoreModel> model_from(const std::string& name,
                                       const std::map<std::string, double>& params) {
  // make_model's own InputError names an unknown model or parameter (with a did-you-mean).
  return make_model(name, ParamValues(params.begin(), params.end()));
}

nb::ndarray<nb::numpy, double> sample(const std::string& name, long long n, long long rows,
                                      unsigned long long seed,
                                      const std::map<std::string, double>& params,
                                      unsigned long long point, long long threads) {
  if (n < 1) throw InputError("n: must be >= 1, got " + std::to_string(n));
  if (rows < 0) throw InputError("rows: must be >= 0, got " + std::to_string(rows));
  const auto model = model_from(name, params);
  const std::size_t N = static_cast<std::size_t>(n), R = static_cast<std::size_t>(rows);
  std::vector<double> out(R * N);
  {
    nb::gil_scoped_release release;
    struct None {};
    parallel_rows<None>(R, static_cast<std::size_t>(threads < 0 ? 0 : threads),
                        [&](std::size_t begin, std::size_t end, None&) {
                          for (std::size_t r = begin; r < end; ++r) {
                            RandomStream stream =
                                make_stream(seed, point, r, StreamPurpose::kLogits);
                            model->sample(stream, std::span<double>(out.data() + r * N, N));
                          }
                        });
  }
  return to_numpy(std::move(out), {R, N});
}

// The finite-n predictor's cost grows with n (as `tvk rule`).
constexpr long long kMaxRuleKeys = 100'000'000;

nb::dict rule(const std::string& name, long long n, double eps,
              const std::map<std::string, double>& params, double tolerance) {
  if (n < 1) throw InputError("n: must be >= 1, got " + std::to_string(n));
  if (n > kMaxRuleKeys) {
    throw InputError("n: " + std::to_string(n) + " keys is more than " +
                     std::to_string(kMaxRuleKeys) +
                     " (the finite-n predictor's cost grows with n; the asymptotic rule is its "
                     "n -> infinity limit)");
  }
  if (!(eps > 0.0 && eps < 1.0))
    throw InputError("eps: " + format_shortest(eps) + " is outside (0, 1)");
  if (!(tolerance > 0.0 && tolerance <= 1e-2)) throw InputError("tolerance: must be in (0, 0.01]");
  const auto model = model_from(name, params);
  FiniteNOptions options;
  options.tolerance = tolerance;
  std::optional<double> asymptotic, blom;
  std::optional<FiniteNPrediction> finite;
  {
    nb::gil_scoped_release release;
    asymptotic = model->asymptotic_k_fraction(eps);
    finite = finite_n_prediction(*model, static_cast<std::size_t>(n), eps, options);
    blom = blom_k_fraction(*model, static_cast<std::size_t>(n), eps);
  }
  constexpr double kNone = std::numeric_limits<double>::quiet_NaN();
  nb::dict out;
  out["model"] = model->info().name;
  std::map<std::string, double> used(model->params().begin(), model->params().end());
  out["params"] = used;
  out["n"] = n;
  out["eps"] = eps;
  out["asymptotic"] = asymptotic.value_or(kNone);
  out["asymptotic_note"] = model->exp_mean_finite()
                               ? std::string(
                                     "rho_eps solving tau_inf(rho) = eps: the n -> "
                                     "infinity limit of k_eps/n")
                               : model->no_rule_reason();
  const double k_fraction = finite ? finite->k_fraction : kNone;
  out["finite_n"] = k_fraction;
  out["finite_n_keys"] = k_fraction * static_cast<double>(n);
  out["finite_n_note"] = finite_n_unsupported_reason(*model);
  out["blom"] = blom.value_or(kNone);
  out["kept_probability_evaluations"] = finite ? finite->kept_probability_evaluations : 0;
  out["transform_terms"] = finite ? finite->transform_terms : 0;
  return out;
}

nb::list models() {
  nb::list out;
  for (const auto& name : model_names()) {
    const ModelInfo* info = find_model_info(name);
    const auto model = make_model(name, {});
    nb::list params;
    for (const ParamSpec& spec : info->params) {
      nb::dict p;
      p["name"] = spec.name;
      p["default"] = spec.default_value;
      p["min"] = spec.min <= -1e300 ? -std::numeric_limits<double>::infinity() : spec.min;
      p["max"] = spec.max >= 1e300 ? std::numeric_limits<double>::infinity() : spec.max;
      p["min_inclusive"] = spec.min_inclusive;
      p["max_inclusive"] = spec.max_inclusive;
      p["integer"] = spec.integer;
      p["doc"] = spec.doc;
      params.append(p);
    }
    nb::dict d;
    d["name"] = name;
    d["doc"] = info->doc;
    d["params"] = params;
    d["exp_mean_finite"] = model->exp_mean_finite();
    d["no_rule_reason"] = model->no_rule_reason();
    out.append(d);
  }
  return out;
}

nb::dict bounds() {
  nb::dict out;
  for (const auto& name : bound_names())
    out[name.c_str()] = make_bound(name, BoundOptions{})->description();
  return out;
}

}  // namespace

void bind_rows(nb::module_& m) {
  m.def("analyze", &analyze, nb::arg("rows"), nb::arg("eps"), nb::arg("block"),
        nb::arg("b3_groups"), nb::arg("threads"));
  m.def("sample", &sample, nb::arg("model"), nb::arg("n"), nb::arg("rows"), nb::arg("seed"),
        nb::arg("params"), nb::arg("point"), nb::arg("threads"));
  m.def("rule", &rule, nb::arg("model"), nb::arg("n"), nb::arg("eps"), nb::arg("params"),
        nb::arg("tolerance"));
  m.def("models", &models);
  m.def("bounds", &bounds);
}

}  // namespace tvk::python
