#pragma once
//! \file Bounds scan k upward from k_eps until their value is <= eps, which at n = 4096 can
//! mean thousands of k. Most of them fail by a wide margin, which a cheap test in the weights
//! shows without the bound's division or exp; a kernel of the active set (B1's and B2's
//! filters in core/kernels/) skips such k, eight at a time with AVX2, and every other k gets
//! the exact test, so results are the plain scan's.

#include <cstddef>

#include "core/bounds/bound.h"

namespace tvk {

//! bound.certified_k(profile, eps, k) with the k that `skip` shows to fail skipped:
//! skip(k) is the first k' >= k that the filter cannot reject (or n).
template <class Skip>
std::size_t filtered_certified_k(const TopkBound& bound, const TailProfile& profile, double eps,
                                 std::size_t k, Skip skip) {
  const std::size_t n = profile.n();
  for (;; ++k) {
    k = skip(k);
    if (k >= n || bound.value(profile, k) <= eps) return k;
  }
}

}  // namespace tvk
