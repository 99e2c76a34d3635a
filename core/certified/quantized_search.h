#pragma once
//! \file The quantized certified search (THEORY §8): bound every key's logit from its quantized
//! summary, score keys exactly in decreasing upper bound U_j, and stop at the first step whose
//! certificate (MC-Search's with singleton cells)
//!   tau(K) <= (Σ_{S∖K} e^s + Σ_{j∈R} e^{U_j}) / (Σ_S e^s + Σ_{j∈R} e^{U_j})
//! is <= eps, keeping the top of the scored keys (the smallest k that certifies at that step).
//! Sink keys (the first `sinks`) and recent keys (the last `recent`) are scored exactly first,
//! without reading their codes. When every key has been scored, the certificate is the exact
//! tail mass up to rounding (dense fallback, as MC-Search's last visit).

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/certified/byte_model.h"
#include "core/certified/quantized_keys.h"
#include "core/certified/search.h"

namespace tvk {

//! Scores chosen keys of a row exactly: out[i] = the canonical logit of key keys[i].
class KeyScorer {
 public:
  virtual ~KeyScorer() = default;
  virtual void score(const double* query, std::span<const std::uint32_t> keys,
                     double* out) const = 0;
};

struct QuantizedSearchOptions {
  double eps = 0.05;       //!< TV budget, in (0, 1)
  std::size_t sinks = 0;   //!< first keys scored exactly without codes
  std::size_t recent = 0;  //!< last keys scored exactly without codes
  ByteModel bytes;         //!< for SearchResult::bytes
};

//! Scratch buffers reused across rows (one per thread).
struct QuantizedSearchScratch {
  std::vector<double> lo, hi, scores;
  std::vector<std::uint32_t> order, batch;
};

//! The search over the first `count` keys of `codes` (count <= codes.size(), the row's keys)
//! for `query` at logit scale `scale`. Fills SearchResult: scored, kept, kept_keys/logits
//! (descending), dropped_keys, bound (>= the true tail mass of K computed from the scorer's
//! logits, <= eps), stop, summaries_read (keys whose codes were read), bytes (codes read +
//! exact keys scored + values kept). Throws std::invalid_argument for eps outside (0, 1).
SearchResult quantized_search(const QuantizedKeys& codes, std::size_t count,
                              const KeyScorer& scorer, const double* query, double scale,
                              const QuantizedSearchOptions& options,
                              QuantizedSearchScratch& scratch);

}  // namespace tvk
