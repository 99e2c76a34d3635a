#pragma once
//! \file StreamingLLM's selection (THEORY §8 baselines): the first `sinks` keys (the attention
//! sinks) and the last `window` keys of a row, whatever the query. Uncertified.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace tvk {

//! The kept keys of a row of n keys: 0..min(sinks, n)−1, then the last `window` keys not already
//! kept, ascending.
std::vector<std::uint32_t> streaming_keys(std::size_t n, std::size_t sinks, std::size_t window);

}  // namespace tvk
