// Files: tvk.LogitStore (a logit store's structure, q/K/V and logits of a head), tvk.run (a
// config run exactly as `tvk run` runs it) and the tables of a results file (tvk.read_results).
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <variant>
#include <vector>

#include <nanobind/stl/pair.h>
#include <nanobind/stl/tuple.h>

#include "bindings.h"
#include "core/config/config_document.h"
#include "core/error.h"
#include "core/hdf5/logit_store.h"
#include "core/hdf5/results_reader.h"
#include "core/results/provenance.h"
#include "core/results/results_table.h"
#include "experiments/cli/cli.h"
#include "experiments/experiment_kind.h"

namespace tvk::python {
namespace {

nb::object attribute(const AttributeValue& value) {
  return std::visit([](const auto& v) -> nb::object { return nb::cast(v); }, value);
}

nb::dict provenance_dict(const Provenance& provenance) {
  nb::dict out;
  for (const auto& [name, value] : provenance.attributes)
    out[name.c_str()] = attribute(value);
  return out;
}

nb::dict store_info(const LogitStore& store) {
  const LogitStoreInfo& info = store.info();
  nb::dict out;
  out["path"] = store.path().string();
  out["layers"] = info.layers;
  out["heads"] = info.heads;
  out["kv_heads"] = info.kv_heads;
  out["kv_head_of"] = info.kv_head_of;
  out["causal"] = info.causal;
  out["layer_ids"] = info.layer_ids;
  out["head_dim"] = info.head_dim;
  out["scale"] = info.scale;
  out["format_version"] = nb::make_tuple(info.format_major, info.format_minor);
  nb::list sequences;
  for (const StoreSequence& s : info.sequences) {
    nb::dict d;
    d["name"] = s.name;
    d["length"] = s.length;
    d["text"] = s.text;
    d["query_positions"] = s.query_positions;
    sequences.append(d);
  }
  out["sequences"] = sequences;
  out["attributes"] = provenance_dict(info.attributes);
  return out;
}

void check_index(std::size_t value, std::size_t count, const char* what) {
  if (value >= count) {
    throw nb::index_error((std::string(what) + ": " + std::to_string(value) + " is out of range (" +
                           std::to_string(count) + " in the store)")
                              .c_str());
  }
}

HeadVectors read(const LogitStore& store, std::size_t layer, std::size_t head,
                 std::size_t sequence) {
  check_index(layer, store.info().layers, "layer");
  check_index(head, store.info().heads, "head");
  check_index(sequence, store.info().sequences.size(), "sequence");
  nb::gil_scoped_release release;
  return store.read_head(sequence, layer, head);
}

nb::ndarray<nb::numpy, double> matrix(const Eigen::MatrixXd& m) {
  const std::size_t rows = static_cast<std::size_t>(m.rows()),
                    cols = static_cast<std::size_t>(m.cols());
  std::vector<double> data(rows * cols);
  for (std::size_t i = 0; i < rows; ++i) {
    for (std::size_t c = 0; c < cols; ++c)
      data[i * cols + c] = m(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(c));
  }
  return to_numpy(std::move(data), {rows, cols});
}

nb::dict head_vectors(const LogitStore& store, std::size_t layer, std::size_t head,
                      std::size_t sequence) {
  const HeadVectors h = read(store, layer, head, sequence);
  nb::dict out;
  out["q"] = matrix(h.q);
  out["k"] = matrix(h.k);
  out["v"] = matrix(h.v);
  std::vector<std::int64_t> positions(h.query_positions.begin(), h.query_positions.end());
  const std::size_t count = positions.size();
  out["query_positions"] = to_numpy(std::move(positions), {count});
  out["causal"] = h.causal;
  return out;
}

//! Every stored query row's logits (Q x T); keys a causal query does not see are -inf (masked).
nb::ndarray<nb::numpy, double> logits(const LogitStore& store, std::size_t layer, std::size_t head,
                                      std::size_t sequence) {
  const HeadVectors h = read(store, layer, head, sequence);
  const std::size_t Q = static_cast<std::size_t>(h.q.rows()),
                    T = static_cast<std::size_t>(h.k.rows());
  std::vector<double> out(Q * T, -std::numeric_limits<double>::infinity());
  {
    nb::gil_scoped_release release;
    for (std::size_t r = 0; r < Q; ++r)
      head_logits(h, store.info().scale, r, std::span<double>(out.data() + r * T, h.key_count(r)));
  }
  return to_numpy(std::move(out), {Q, T});
}

nb::dict column_dict(const Table& table) {
  nb::dict out;
  for (const Column& column : table.columns) {
    const std::size_t rows = column.size();
    nb::object values = std::visit(
        [rows](const auto& v) -> nb::object {
          using V = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<V, std::vector<std::string>>) {
            return nb::cast(v);
          } else {
            auto copy = v;
            return nb::cast(to_numpy(std::move(copy), {rows}));
          }
        },
        column.values);
    out[column.name.c_str()] = values;
  }
  return out;
}

//! (tables, arrays, provenance) of a results file: every compound dataset as a column dict,
//! every numeric dataset as an array.
nb::tuple read_results(const std::string& path) {
  const ResultsReader reader(path);
  nb::dict tables, arrays;
  for (const std::string& name : reader.dataset_names()) {
    try {
      const Table table = reader.table(name);
      tables[name.c_str()] = column_dict(table);
    } catch (const InputError&) {
      NamedArray array = reader.array(name);
      std::vector<std::size_t> shape(array.shape.begin(), array.shape.end());
      if (shape.empty()) shape.push_back(array.data.size());
      arrays[name.c_str()] = to_numpy(std::move(array.data), shape);
    }
  }
  return nb::make_tuple(tables, arrays, provenance_dict(reader.provenance()));
}

//! `tvk run ARGS` in this process (the same code, files and bits); returns its exit code.
int run(const std::vector<std::string>& args) {
  nb::gil_scoped_release release;
  return cli::run_run_command(args);
}

//! The results name (file stem) of a config with its overrides, as `tvk run` names the files.
std::string results_name(const std::string& config, const std::vector<std::string>& overrides) {
  ConfigDocument document = ConfigDocument::load(config);
  document.apply_overrides(overrides);
  return experiment_kind_of(document).results_name(document);
}

}  // namespace

void bind_store(nb::module_& m) {
  nb::class_<LogitStore>(m, "LogitStore")
      .def_static(
          "open", [](const std::string& path) { return LogitStore::open(path); }, nb::arg("path"))
      .def("info", &store_info)
      .def("head", &head_vectors, nb::arg("layer"), nb::arg("head"), nb::arg("sequence"))
      .def("logits", &logits, nb::arg("layer"), nb::arg("head"), nb::arg("sequence"));
  m.def("read_results", &read_results, nb::arg("path"));
  m.def("run", &run, nb::arg("args"));
  m.def("results_name", &results_name, nb::arg("config"), nb::arg("overrides"));
}

}  // namespace tvk::python
