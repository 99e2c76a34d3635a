#include "core/bounds/block_bound.h"

#include <memory>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "core/bounds/bound_registry.h"

namespace tvk {

BlockBound::BlockBound(std::size_t block) : block_(block) {
  if (block_ < 1) throw std::invalid_argument("b4: the block size must be >= 1");
}

std::string BlockBound::description() const {
  return "blockwise, blocks of " + std::to_string(block_) +
         " keys by position, top-m blocks by block maximum";
}

std::size_t BlockBound::build(const TailProfile& profile, BoundScratch& scratch) const {
  const std::size_t n = profile.n();
  const std::size_t blocks = (n + block_ - 1) / block_;
  auto& sum = scratch.values_a;         // exact weight of each block
  auto& max_logit = scratch.values_b;   // M_j
  auto& max_weight = scratch.values_c;  // e^{M_j − s_(1)}
  sum.assign(blocks, 0.0);
  max_logit.assign(blocks, 0.0);
  max_weight.assign(blocks, 0.0);
  const auto w = profile.weights();
  const auto pos = profile.positions();
  const auto s = profile.sorted_logits();
  // Bottom-up over ranks: block sums add their smallest terms first, and the last write to a
  // block's maximum is its top-ranked key.
  for (std::size_t r = n; r-- > 0;) {
    const std::size_t j = pos[r] / block_;
    sum[j] += w[r];
    max_logit[j] = s[r];
    max_weight[j] = w[r];
  }
  auto& order = scratch.indices;
  order.resize(blocks);
  for (std::size_t j = 0; j < blocks; ++j)
    order[j] = static_cast<std::uint32_t>(j);
  std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
    return max_logit[a] > max_logit[b] || (max_logit[a] == max_logit[b] && a < b);
  });
  // Suffix sums over the dropped blocks (from the bottom of the order): Ū_m and P(S_m^c)·Z.
  auto& upper = scratch.values_d;
  auto& dropped = scratch.values_e;
  upper.assign(blocks + 1, 0.0);
  dropped.assign(blocks + 1, 0.0);
  for (std::size_t m = blocks; m-- > 0;) {
    const std::uint32_t j = order[m];
    const std::size_t size = std::min(block_, n - j * block_);
    upper[m] = upper[m + 1] + static_cast<double>(size) * max_weight[j];
    dropped[m] = dropped[m + 1] + sum[j];
  }
  return blocks;
}

std::vector<BlockStep> BlockBound::steps(const TailProfile& profile) const {
  BoundScratch scratch;
  const std::size_t blocks = build(profile, scratch);
  const std::size_t n = profile.n();
  std::vector<BlockStep> out(blocks);
  double head = 0.0;
  std::size_t kept = 0;
  for (std::size_t m = 1; m <= blocks; ++m) {
    const std::uint32_t j = scratch.indices[m - 1];
    head += scratch.values_a[j];
    kept += std::min(block_, n - j * block_);
    const double upper = scratch.values_d[m];
    out[m - 1] = BlockStep{kept, upper / (head + upper), scratch.values_e[m] / profile.total()};
  }
  return out;
}

void BlockBound::certify(const TailProfile& profile, std::span<const double> eps,
                         std::span<const std::size_t> k_eps, std::span<Certificate> out,
                         BoundScratch& scratch) const {
  const std::size_t blocks = build(profile, scratch);
  const std::size_t n = profile.n();
  // Keeping every block always certifies (Ū = 0); a budget still at kept == n is open, since
  // only the last step reaches n.
  for (std::size_t i = 0; i < eps.size(); ++i)
    out[i] = Certificate{n, 0.0, 0.0};
  double head = 0.0;
  std::size_t kept = 0;
  for (std::size_t m = 1; m < blocks; ++m) {
    const std::uint32_t j = scratch.indices[m - 1];
    head += scratch.values_a[j];
    kept += std::min(block_, n - j * block_);
    const double upper = scratch.values_d[m];
    const double bound = upper / (head + upper);
    for (std::size_t i = 0; i < eps.size(); ++i) {
      // Top-k is optimal among sets of its size, so |S| < k_eps can never be certified.
      if (out[i].kept != n || kept < k_eps[i] || bound > eps[i]) continue;
      out[i] = Certificate{kept, bound, scratch.values_e[m] / profile.total()};
    }
  }
}

BoundEntry b4_bound_entry() {
  return {"b4", [](const BoundOptions& o) { return std::make_unique<BlockBound>(o.block); }};
}

}  // namespace tvk
