#pragma once
//! \file Twilight's top-p selection (THEORY §8 baselines) from estimated logits. Uncertified: the
//! kept mass is estimated, not proven.

#include <cstdint>
#include <span>
#include <vector>

namespace tvk {

//! The smallest set of keys whose estimated softmax mass (weights e^{e_j − max e}) is >= p of
//! the estimated total, taken largest estimated weight first (ties to the lower index);
//! returned in that order. p in (0, 1]; every key when the running sum never reaches p of the
//! total (rounding, at p = 1). `order` is scratch.
std::vector<std::uint32_t> top_p_keys(std::span<const double> estimates, double p,
                                      std::vector<std::uint32_t>& order);

}  // namespace tvk
