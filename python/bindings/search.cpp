// Certified selection: tvk.searches() and tvk.certified_select(q, K, eps, search=..., **keys),
// a search configured exactly as a config's `searches:` element is, run on the key set K.
#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nanobind/stl/map.h>
#include <nanobind/stl/optional.h>

#include "bindings.h"
#include "core/certified/cells.h"
#include "core/certified/certified_search.h"
#include "core/certified/quantized_keys.h"
#include "core/certified/search_registry.h"
#include "core/config/certified_config.h"
#include "core/config/config_document.h"
#include "core/config/config_reader.h"
#include "core/error.h"
#include "core/kernels/kernel_set.h"
#include "core/kernels/kernel_table.h"
#include "core/rows/tail_profile.h"
#include "core/text/text.h"

namespace tvk::python {
namespace {

//! Every key scored densely, as the certified runs' dense baseline (key_logits kernel).
class DenseScorer final : public RowScorer {
 public:
  DenseScorer(const double* keys, std::size_t n, std::size_t d, double scale)
      : keys_(keys), n_(n), d_(d), scale_(scale) {}
  std::size_t n() const override { return n_; }
  void score_all(const Eigen::VectorXd& query, std::span<double> out) const override {
    kernels::active_kernels().key_logits(query.data(), keys_, n_, d_, scale_, out.data());
  }
  void score(const double* query, std::span<const std::uint32_t> keys, double* out) const override {
    const kernels::KernelTable& table = kernels::active_kernels();
    for (std::size_t i = 0; i < keys.size(); ++i)
      table.key_logits(query, keys_ + std::size_t{keys[i]} * d_, 1, d_, scale_, out + i);
  }

 private:
  const double* keys_;
  std::size_t n_, d_;
  double scale_;
};

//! The search a config's `searches:` element with these keys describes (YAML text values).
CertifiedSearchSpec read_spec(const std::string& type,
                              const std::map<std::string, std::string>& keys) {
  std::string text = "type: " + type + "\n";
  for (const auto& [key, value] : keys)
    text += key + ": " + value + "\n";
  const ConfigDocument document =
      ConfigDocument::parse(text, "certified_select(search='" + type + "')");
  ConfigReader reader(document);
  CertifiedSearchSpec spec = read_search(reader);
  reader.finish();
  return spec;
}

nb::list certified_select(In<double> queries, In<double> keys, std::optional<In<double>> values,
                          double eps, const std::string& type,
                          const std::map<std::string, std::string>& options, double scale) {
  require_dims(queries, 2, "q");
  require_dims(keys, 2, "K");
  const std::size_t m = queries.shape(0), n = keys.shape(0), d = keys.shape(1);
  if (queries.shape(1) != d) {
    throw nb::value_error(
        ("q: " + std::to_string(queries.shape(1)) + " channels, but K has " + std::to_string(d))
            .c_str());
  }
  if (n == 0) throw InputError("K: needs at least one key");
  if (values) {
    require_dims(*values, 2, "V");
    if (values->shape(0) != n) {
      throw nb::value_error(
          ("V: " + std::to_string(values->shape(0)) + " rows, but K has " + std::to_string(n))
              .c_str());
    }
  }
  if (!(eps > 0.0 && eps < 1.0))
    throw InputError("eps: " + format_shortest(eps) + " is outside (0, 1)");
  if (!std::isfinite(scale) || !(scale > 0.0)) throw InputError("scale: must be finite and > 0");
  const CertifiedSearchSpec spec = read_spec(type, options);

  std::vector<SearchResult> results(m);
  std::vector<double> true_tau(m);
  {
    nb::gil_scoped_release release;
    const Eigen::MatrixXd K = to_matrix(keys);
    const Eigen::MatrixXd V =
        values ? to_matrix(*values) : Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(n), 1);
    std::optional<KeyCells> cells;
    if (auto options = spec.search->cells()) cells.emplace(K, V, *options);
    std::optional<QuantizedKeys> codes;
    if (auto options = spec.search->quantizer()) {
      codes.emplace(QuantizedKeys::build(keys.data(), n, d, *options));
    }
    DenseScorer scorer(keys.data(), n, d, scale);
    KeySetView view;
    view.cells = cells ? &*cells : nullptr;
    view.codes = codes ? &*codes : nullptr;
    view.values = &V;
    view.scale = scale;
    view.scorer = &scorer;
    view.bytes = ByteModel{d, static_cast<std::size_t>(V.cols())};
    const std::unique_ptr<KeySetSearch> search = spec.search->start(view);
    std::vector<double> logits(n);
    std::vector<char> kept(n);
    TailProfile profile;
    Eigen::VectorXd query(static_cast<Eigen::Index>(d));
    for (std::size_t i = 0; i < m; ++i) {
      for (std::size_t c = 0; c < d; ++c)
        query(static_cast<Eigen::Index>(c)) = queries.data()[i * d + c];
      results[i] = search->run(query, eps);
      // The true tail mass of what it kept, from the full row (as a certified run checks it).
      scorer.score_all(query, logits);
      profile.assign(logits);
      std::fill(kept.begin(), kept.end(), 0);
      for (std::uint32_t k : results[i].kept_keys)
        kept[k] = 1;
      const auto w = profile.weights();
      const auto pos = profile.positions();
      double outside = 0.0;
      for (std::size_t r = n; r-- > 0;) {
        if (!kept[pos[r]]) outside += w[r];
      }
      true_tau[i] = outside / profile.total();
    }
  }
  nb::list out;
  for (std::size_t i = 0; i < m; ++i) {
    SearchResult& r = results[i];
    nb::dict d;
    d["search"] = spec.type;
    d["details"] = spec.search->details();
    d["n"] = r.n;
    d["kept"] = to_numpy(std::move(r.kept_keys), {r.kept});
    d["kept_logits"] = to_numpy(std::move(r.kept_logits), {r.kept});
    d["scored"] = r.scored;
    d["summaries_read"] = r.summaries_read;
    d["cells"] = r.cells;
    d["cells_visited"] = r.cells_visited;
    d["tau_bound"] = r.bound;
    d["certified"] = r.certified;
    d["dense_fallback"] = r.dense_fallback;
    d["true_tau"] = true_tau[i];
    d["valid"] = r.certified && true_tau[i] <= r.bound && r.bound <= eps;
    d["cost"] = r.cost;
    d["bytes"] = r.bytes;
    out.append(d);
  }
  return out;
}

nb::dict searches() {
  nb::dict out;
  for (const SearchEntry& entry : search_entries()) {
    nb::dict d;
    d["doc"] = entry.doc;
    d["keys"] = entry.keys;
    out[entry.name.c_str()] = d;
  }
  return out;
}

}  // namespace

void bind_search(nb::module_& m) {
  m.def("certified_select", &certified_select, nb::arg("queries"), nb::arg("keys"),
        nb::arg("values").none(), nb::arg("eps"), nb::arg("search"), nb::arg("options"),
        nb::arg("scale"));
  m.def("searches", &searches);
}

}  // namespace tvk::python
