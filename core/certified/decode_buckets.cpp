#include "core/certified/decode_buckets.h"

#include <algorithm>
#include <cmath>

#include "core/certified/rounding.h"
#include "core/kernels/kernel_set.h"

namespace tvk::decode {

const std::array<double, kBuckets>& bucket_weights() {
  static const std::array<double, kBuckets> table = [] {
    std::array<double, kBuckets> w{};
    for (std::size_t b = 0; b < kBuckets; ++b)
      w[b] = std::exp(-static_cast<double>(b) / kGrid + 4e-6) * (1.0 + 8.0 * rounding::kUnitDouble);
    return w;
  }();
  return table;
}

const std::array<std::uint32_t, kBuckets>& far_weights(std::uint32_t near) {
  static const std::array<std::uint32_t, kBuckets> table = [] {
    std::array<std::uint32_t, kBuckets> f{};
    for (std::size_t b = kNear; b < kBuckets; ++b) {
      const std::size_t run = std::min<std::size_t>((b - kNear) / kFarRun, kFarRuns - 1);
      f[b] = static_cast<std::uint32_t>(
          std::ceil(std::ldexp(bucket_weights()[kNear + kFarRun * run], 40)));
    }
    return f;
  }();
  static_assert(kNear >= 768, "far weights below 2^23 need the far keys 12 logits down");
  static const std::array<std::uint32_t, kBuckets> none{};
  return near == kNear ? table : none;
}

void suffix_sums(const std::uint32_t* counts, const double* weight, std::size_t near,
                 double* rest) {
  for (std::size_t start = near; start >= 8;) {
    start -= 8;
    double inner[8];
    double sum = 0.0;
    for (std::size_t i = 8; i-- > 0;) {
      sum += static_cast<double>(counts[start + i]) * weight[start + i];
      inner[i] = sum;
    }
    const double below = rest[start + 8];
    for (std::size_t i = 0; i < 8; ++i)
      rest[start + i] = inner[i] + below;
  }
}

BucketRow bucket_row(const float* upper, std::size_t count, float top, std::uint32_t near,
                     DecodeScratch& scratch) {
  BucketRow row;
  std::uint16_t* buckets = scratch.buckets.data();
  row.listed = kernels::active_kernels().near_buckets(
      upper, count, top, static_cast<float>(kGrid), kBuckets - 1, near, far_weights(near).data(),
      scratch.listed.data(), buckets, &row.far_units);
  // Two interleaved tables of counts, so that runs of keys in one bucket do not wait on each
  // other's increments; then the second added to the first and zeroed.
  std::uint32_t* counts = scratch.counts.data();
  std::size_t i = 0;
  for (; i + 2 <= row.listed; i += 2) {
    ++counts[buckets[i]];
    ++counts[near + buckets[i + 1]];
  }
  if (i < row.listed) ++counts[buckets[i]];
  for (std::uint32_t b = 0; b < near; ++b) {
    counts[b] += counts[near + b];
    counts[near + b] = 0;
  }
  return row;
}

}  // namespace tvk::decode
