#include "core/certified/decode_selection.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include "core/certified/rounding.h"
#include "core/kernels/kernel_set.h"

namespace tvk::decode {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Asks for the binary16 rows (d values each) of the given keys to be fetched into L2
// (prefetcht2), so that their latency overlaps other work.
void prefetch_rows(const std::uint16_t* base, const std::uint32_t* rows, std::size_t len,
                   std::size_t d) {
  for (std::size_t i = 0; i < len; ++i) {
    const auto row = reinterpret_cast<std::uintptr_t>(base + static_cast<std::size_t>(rows[i]) * d);
    // Each line the row spans, once (two at d = 64: rows start on 128-byte boundaries).
    for (std::uintptr_t line = row & ~std::uintptr_t{63}; line < row + 2 * d; line += 64)
      __builtin_prefetch(reinterpret_cast<const void*>(line), 0, 1);
  }
}

// Head h's K from the keys of its buckets below `near` (the rest count through their total
// weight): whole buckets scored from the top until the tail bound τ̄ <= eps (THEORY
// §14.3–§14.5). K goes to kept, in scoring order, and its exact scores to scores. False when
// the listed buckets cannot certify.
bool select_near(const KvCache& cache, std::size_t count, const float* queries, std::size_t h,
                 float scale, double eps, double es, float top, std::uint32_t near,
                 std::vector<std::uint32_t>& kept, std::vector<float>& scores,
                 DecodeScratch& scratch, PhaseClock& clock, HeadSelection& sel) {
  const kernels::KernelTable& k = kernels::active_kernels();
  const std::array<double, kBuckets>& weight = bucket_weights();
  const float* scales = cache.codes().scale_data();
  const std::size_t d = cache.dim();
  const BucketRow row = bucket_row(scratch.upper.data() + h * count, count, top, near, scratch);
  const std::size_t listed = row.listed;
  const std::uint32_t* counts = scratch.counts.data();
  const std::uint16_t* buckets = scratch.buckets.data();
  // rest[b] = Σ_{b' >= b} count_b' W[b'], from the bottom up: first the far keys' total (the
  // integer sum rounded up, in units of 2^-40), then the listed buckets.
  scratch.rest[near] = std::nextafter(static_cast<double>(row.far_units), kInf) * 0x1p-40;
  suffix_sums(counts, weight.data(), near, scratch.rest.data());
  const std::size_t deepest = near - 1;  // the deepest bucket that can be scored

  // Score whole buckets from the top, a range of buckets gathered at a time (first a guess
  // that the exact scores sit one logit below their bounds: 0.3678 ≈ e^-1), scored in chunks
  // of at least kChunk keys, the bound checked after each chunk.
  sel = HeadSelection{};
  double head_lo = 0.0;
  std::array<double, 4> mass{};  // Σ x over the scored keys, in four running sums
  std::size_t next = 0;          // the first bucket not yet gathered
  bool certified = false;
  kept.clear();
  scores.clear();
  // The first range: the smallest cut at which the bound would pass if the exact scores sat
  // one logit below their bounds (a kept mass of 0.3678 ≈ e^-1 times rest[0] − rest[cut + 1]).
  // The test only grows easier as cut grows, so a bisection finds it.
  std::size_t cut = 0;
  {
    const double* rest = scratch.rest.data();
    auto passes = [&](std::size_t c) {
      return rest[c + 1] <= eps * (0.3678 * (rest[0] - rest[c + 1]) + rest[c + 1]);
    };
    std::size_t high = deepest;
    while (cut < high) {
      const std::size_t mid = cut + (high - cut) / 2;
      if (passes(mid)) {
        high = mid;
      } else {
        cut = mid + 1;
      }
    }
  }
  while (!certified) {
    // Keys of buckets [next, cut], ordered by bucket (a counting sort of the few selected).
    const std::size_t low = next;
    const std::size_t selected =
        k.select_buckets(buckets, listed, static_cast<std::uint32_t>(low),
                         static_cast<std::uint32_t>(cut), scratch.candidates.data());
    std::uint32_t* offsets = scratch.offsets.data();
    offsets[0] = 0;
    for (std::size_t b = low; b <= cut; ++b)
      offsets[b - low + 1] = offsets[b - low] + counts[b];
    for (std::size_t i = 0; i < selected; ++i) {
      const std::uint32_t at = scratch.candidates[i];
      scratch.batch[offsets[buckets[at] - low]++] = scratch.listed[at];
    }
    clock.mark(DecodePhase::kSelection);
    // The gathers are latency-bound: key rows are asked for into L2 kFarAhead keys past the
    // chunk being scored, and half_logits asks for the next eight keys' into L1 as it scores
    // (L2's miss tracking holds more lines in flight than L1's miss buffers; a chunk's rows
    // asked for into L1 in one burst, with value rows too, kept fewer in flight on average).
    // The output asks for the value rows as it reads them. At most kFarAhead keys past where
    // the step stops are fetched in vain.
    std::size_t fetched = 0;  // batch[0, fetched) have had their key rows asked for
    auto fetch_keys_to = [&](std::size_t upto) {
      upto = std::min(upto + kFarAhead, selected);
      if (upto <= fetched) return;
      prefetch_rows(cache.keys(), scratch.batch.data() + fetched, upto - fetched, d);
      fetched = upto;
    };
    fetch_keys_to(0);
    // Exact scores are computed ahead of the chunks, kScoreAhead keys at a time at least, so
    // that half_logits runs over long spans (its L1 prefetches stay ahead of its loads, and
    // fewer calls); the chunks still check the bound as before, so K is the same. The keys
    // scored past where the step stops are dropped (at most kScoreAhead − 1).
    const std::size_t base = scores.size();  // batch[i]'s score is scores[base + i]
    std::size_t ready = 0;                   // batch[0, ready) are scored
    double last_bound = 1.0;                 // the bound at the last check
    auto score_to = [&](std::size_t upto) {
      if (upto <= ready) return;
      // Once the bound is within 2 eps, spans of a chunk: fewer keys scored in vain.
      const std::size_t ahead = last_bound > 2.0 * eps ? kScoreAhead : kChunk;
      upto = std::min(selected, std::max(upto, ready + ahead));
      scores.resize(base + upto);
      scratch.exps.resize(base + upto);
      fetch_keys_to(upto);
      k.half_logits(queries + h * d, 1, cache.keys(), scratch.batch.data() + ready, upto - ready, d,
                    scale, scores.data() + base + ready);
      k.exp_floats(scores.data() + base + ready, upto - ready, top,
                   scratch.exps.data() + base + ready);
      ready = upto;
    };
    // offsets[i] is now the end of bucket low + i.
    std::uint32_t begin = 0;
    for (std::size_t b = low; b <= cut && !certified; ++b) {
      const std::uint32_t end = offsets[b - low];
      if (end - begin < kChunk && b < cut) continue;  // gather more buckets first
      if (begin < end) {
        const std::size_t len = end - begin;
        score_to(end);
        // e^{ŝ − M} within kExpFloat (float exp and the float subtraction, THEORY §14.4); the
        // true logit is >= ŝ − e_j >= ŝ − ē, and e^{−ē} >= 1 − ē, so the kept mass is at least
        // (1 − ē)(1 − kExpFloat) Σ x (four running sums: the additions do not wait in line).
        const float* x = scratch.exps.data() + base + begin;
        const std::uint32_t* rows = scratch.batch.data() + begin;
        float scale_top = 0.0f;
        std::size_t i = 0;
        for (; i + 4 <= len; i += 4) {
          for (std::size_t l = 0; l < 4; ++l) {
            mass[l] += x[i + l];
            scale_top = std::max(scale_top, scales[rows[i + l]]);
          }
        }
        for (; i < len; ++i) {
          mass[0] += x[i];
          scale_top = std::max(scale_top, scales[rows[i]]);
        }
        sel.score_error =
            std::max(sel.score_error, static_cast<double>(scale_top) * es * (1.0 + 0x1p-40));
        head_lo = ((mass[0] + mass[1]) + (mass[2] + mass[3])) *
                  std::max(0.0, 1.0 - sel.score_error) * (1.0 - kExpFloat);
        kept.insert(kept.end(), rows, rows + len);
        begin = end;
      }
      if (kept.size() == count) {
        certified = true;
        sel.tau = 0.0;
        break;
      }
      const double rest = scratch.rest[b + 1];
      const double bound = rounding::inflate(rest / (head_lo + rest), count - kept.size(), count);
      last_bound = bound;
      if (bound <= eps) {
        certified = true;
        sel.tau = bound;
      }
    }
    sel.scored_ahead += base + ready - kept.size();
    scores.resize(kept.size());  // the keys scored ahead and not kept
    scratch.exps.resize(kept.size());
    clock.mark(DecodePhase::kExact);
    if (!certified && cut == deepest) break;  // the far keys are needed
    next = cut + 1;
    if (!certified) cut = std::min<std::size_t>(deepest, cut + 128);
  }
  std::fill(scratch.counts.begin(), scratch.counts.begin() + near, 0u);
  return certified;
}

}  // namespace

HeadSelection select_head(const KvCache& cache, std::size_t count, const float* queries,
                          std::size_t h, float scale, double eps, double es, float top,
                          std::vector<std::uint32_t>& kept, std::vector<float>& scores,
                          DecodeScratch& scratch, PhaseClock& clock) {
  HeadSelection sel;
  if (!select_near(cache, count, queries, h, scale, eps, es, top, kNear, kept, scores, scratch,
                   clock, sel)) {
    select_near(cache, count, queries, h, scale, eps, es, top, kBuckets, kept, scores, scratch,
                clock, sel);
  }
  return sel;
}

}  // namespace tvk::decode
