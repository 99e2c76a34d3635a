#pragma once
//! \file The interface of a certified search as a run configures it (THEORY §6): each search
//! type reads its own keys (SectionReader), says which cell partition it needs and how it is
//! described, and runs on the query rows of one key set. Adding a search type = one file
//! implementing CertifiedSearch and its SearchEntry, plus one line in search_registry.cpp
//! (see b5_search_type.cpp for a small one).

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>
#include "core/numerics/eigen.h"

#include "core/bounds/bound.h"
#include "core/certified/byte_model.h"
#include "core/certified/cells.h"
#include "core/certified/quantized_keys.h"
#include "core/certified/quantized_search.h"
#include "core/certified/search.h"
#include "core/certified/section_reader.h"

namespace tvk {

//! Scores the keys of one key set for a query, as the dense baseline does: every key (for
//! searches that read the whole row) or chosen ones (KeyScorer::score, the same logits).
class RowScorer : public KeyScorer {
 public:
  //! Keys in the key set.
  virtual std::size_t n() const = 0;
  //! The canonical logits of every key (out has n() entries), in key order.
  virtual void score_all(const Eigen::VectorXd& query, std::span<double> out) const = 0;
};

//! One key set as a search runs on it.
struct KeySetView {
  const KeyCells* cells = nullptr;  //!< the partition the search asked for (null: it needs none)
  double scale = 1.0;               //!< logit scale
  const RowScorer* scorer = nullptr;
  //! The quantized summaries the search asked for (CertifiedSearch::quantizer), or null.
  const QuantizedKeys* codes = nullptr;
  const Eigen::MatrixXd* values = nullptr;  //!< n × dv values (output certificates)
  BoundOptions bound_options;               //!< run-level options of the Top-k bounds
  CostModel cost;                           //!< summary cost
  ByteModel bytes;                          //!< d and dv of the key set
};

//! A search's state for the query rows of one key set (one thread at a time).
class KeySetSearch {
 public:
  virtual ~KeySetSearch() = default;
  //! The search on one query at one eps, as deployed: no true tau (an experiment computes it
  //! afterwards, untimed).
  virtual SearchResult run(const Eigen::VectorXd& query, double eps) = 0;
};

//! One configured search of a run: immutable, shared by every thread.
class CertifiedSearch {
 public:
  virtual ~CertifiedSearch() = default;
  //! The cells it reads summaries of, or nullopt (searches over the same partition share it).
  virtual std::optional<CellOptions> cells() const { return std::nullopt; }
  //! The quantized key summaries it reads, or nullopt (built once per key set and quantizer).
  virtual std::optional<QuantizerOptions> quantizer() const { return std::nullopt; }
  //! Its settings for `tvk validate`, e.g. "b2, k0 1, step 8".
  virtual std::string details() const = 0;
  //! Its state for one key set.
  virtual std::unique_ptr<KeySetSearch> start(const KeySetView& key_set) const = 0;
};

//! A search type: its `type:` name, the keys it takes and its config reader.
struct SearchEntry {
  std::string name;               //!< the `type:` value
  std::string doc;                //!< one line
  std::vector<std::string> keys;  //!< every key it may take besides `type` and `name`
  //! Reads its keys (defaults, validation) and returns the configured search.
  std::function<std::shared_ptr<const CertifiedSearch>(SectionReader&)> read;
};

}  // namespace tvk
