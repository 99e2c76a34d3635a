#pragma once
//! \file The descending order of a row's logits with ties broken by position (THEORY §0), by
//! an LSD radix sort of coarse 22-bit keys followed by an exact double-precision fix-up.
//! The key is floor((max − s)·scale): a monotone map of the row onto [0, 2^31) (subtraction,
//! scaling and truncation all preserve order in floating point), so sorting by the key and
//! then, within runs of equal keys, by (value, position) gives exactly the order of the
//! doubles. The linear map spreads the keys over the row's range, so the 2 passes of 11 bits
//! scatter evenly and runs of equal keys are short; a degenerate row (huge range, clusters)
//! only makes the fix-up do more of the work, never a wrong order. The sort is the largest
//! cost of a sweep row.

#include <cstdint>
#include <span>
#include <vector>

#include "core/rows/value_range.h"

namespace tvk {

//! Reusable buffers of the sort (one per thread).
struct SortScratch {
  std::vector<std::uint32_t> keys;                // coarse keys in row order
  std::vector<std::uint64_t> packed_a, packed_b;  // coarse key << 32 | position
};

//! Writes into `order` the positions 0..n−1 of `values` (no NaN) sorted by descending value,
//! equal values by ascending position.
void descending_order(std::span<const double> values, std::vector<std::uint32_t>& order,
                      SortScratch& scratch);

//! The same with the row's value_range() already known (it must be finite).
void descending_order(std::span<const double> values, const ValueRange& range,
                      std::vector<std::uint32_t>& order, SortScratch& scratch);

}  // namespace tvk
