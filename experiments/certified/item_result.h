#pragma once
//! \file What one work item of a certified run computes (its result slot) and that slot as
//! checkpoint bytes (internal to the certified kind).

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "experiments/certified/search_plan.h"

namespace tvk::certified {

//! One search on one row at one eps.
struct SearchRecord {
  std::uint32_t scored = 0, summaries = 0, kept = 0, positions = 0;
  std::uint8_t dense = 0;         //!< needed every key (dense fallback)
  std::uint8_t certified = 0;     //!< the search reported a certificate (always, by design)
  std::uint8_t valid = 0;         //!< true tau <= bound <= eps
  std::uint8_t output_valid = 0;  //!< exact output error <= output certificate
  double bound = 0.0, true_tau = 0.0, cost = 0.0;
  double bytes_over_dense = kNaN;  //!< the search's bytes / dense 16-bit K+V bytes
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

//! A work item's slot as checkpoint bytes, field by field (no padding bytes in the file).
std::string serialize_item(const ItemResult& item);

//! The slot back; `rows` and the per-row sizes must be those of this config's item. Throws on
//! bytes of another shape.
ItemResult deserialize_item(const std::string& bytes, std::size_t rows, std::size_t exact_per_row,
                            std::size_t records_per_row, std::size_t searches);

}  // namespace tvk::certified
