#pragma once
//! \file The certified decode step's buckets (docs/THEORY.md §14.3): the keys of a row bucketed
//! by their bound on a grid of 1/64 logit below the row's largest, the weight of each bucket's
//! upper edge, and the tail sums the selection checks. Internal to core/certified/decode_*.cpp.

#include <array>
#include <cstddef>
#include <cstdint>

#include "core/certified/decode_attention.h"

namespace tvk::decode {

// Buckets of U on a grid of 1/64 below the row's largest U; the last takes everything lower.
inline constexpr std::uint32_t kBuckets = 2048;
inline constexpr double kGrid = 64.0;

// Buckets within 12 logits of the row's largest bound hold their keys one by one; the keys
// below count only through their total weight (most keys of a long row; no row of the SmolLM2
// store needed them at n = 8192). A row that needs them is selected again with every key
// listed.
inline constexpr std::uint32_t kNear = 768;
static_assert(kNear % 8 == 0 && kBuckets % 8 == 0, "suffix_sums works in blocks of eight");

// W[b] >= e^{−b/64 + 4e−6}: the weight of bucket b's upper edge relative to the row's largest
// U (the 4e−6 covers the float rounding of (M − U) 64, at most 32 2^-24 logit units).
const std::array<double, kBuckets>& bucket_weights();

// The far buckets' weights are constant on runs of kFarRun buckets from kNear, the last run
// taking every bucket from kNear + (kFarRuns − 1) kFarRun on: 32 values, which an AVX-512
// kernel looks up in two registers instead of gathering (THEORY §14.3).
inline constexpr std::uint32_t kFarRun = 16, kFarRuns = 32;
static_assert(kNear + kFarRun * kFarRuns <= kBuckets, "the runs lie inside the table");

// F[b] = ceil(2^40 W[r]) for b >= kNear, r the first bucket of b's run, and 0 below: the far
// keys' weights in units of 2^-40, rounded up (W falls, so F[b] >= 2^40 W[b]), summed exactly
// in integers (F[kNear] < 2^23, so the sum fits in 64 bits for any count < 2^32). For near =
// kBuckets (every key listed) a table of zeros.
const std::array<std::uint32_t, kBuckets>& far_weights(std::uint32_t near);

// rest[b] = rest[near] + Σ_{b <= b' < near} counts[b'] W[b'] for b < near (near a multiple of
// 8): the suffix sums inside each block of eight buckets are independent, so only one add per
// block waits on the one before (a chain of near / 8 adds, not near); an exact zero adds no
// rounding, so the error stays that of one chain (THEORY §14.3).
void suffix_sums(const std::uint32_t* counts, const double* weight, std::size_t near, double* rest);

// One head's keys bucketed below its largest bound (THEORY §14.3): the keys in buckets below
// `near` listed with their buckets (scratch.listed, scratch.buckets) and counted
// (scratch.counts), the others summed as far_units (units of 2^-40, rounded up).
struct BucketRow {
  std::size_t listed = 0;
  std::uint64_t far_units = 0;
};

// Buckets the keys of one row (upper: their bounds, top the largest). scratch.counts holds
// 2 near zeros on entry; on return its first near entries are the counts, the rest zeros.
BucketRow bucket_row(const float* upper, std::size_t count, float top, std::uint32_t near,
                     DecodeScratch& scratch);

}  // namespace tvk::decode
