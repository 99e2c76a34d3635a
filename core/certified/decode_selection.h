#pragma once
//! \file The certified decode step's selection of one head's keys (docs/THEORY.md §14.3–§14.5):
//! whole buckets scored exactly from the top until the tail bound is at most eps. Internal to
//! core/certified/decode_*.cpp.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/certified/decode_attention.h"
#include "core/certified/decode_buckets.h"

namespace tvk::decode {

// Keys scored per gather at least (the bound is checked after each such chunk).
inline constexpr std::uint32_t kChunk = 16;
// Keys scored per half_logits call at least while the bound is above 2 eps (then kChunk):
// scores run ahead of the chunks whose bound is checked, so the kernel's prefetches run over
// long spans (the chunks' keys are the same), and near the end few are scored in vain.
inline constexpr std::size_t kScoreAhead = 64;
// Keys past the chunk being scored whose rows are asked for into L2 (half_logits asks for
// them into L1 eight keys ahead). In bench/gather_bench on an AMD EPYC (Zen 4, 2 threads), a
// thread reads a random row in 7.8 ns so (6.9 ns with L1 16 ahead), in 15 ns with L1 alone.
inline constexpr std::size_t kFarAhead = 96;
// The relative error of a weight e^{ŝ − shift} from exp_floats (THEORY §14.4): the kernel's
// exp within 10^-6, its float argument ŝ − shift (|ŝ − shift| <= 88) within 88 u_f = 5.3·10^-6;
// 2^-16 = 1.5·10^-5 covers both.
inline constexpr double kExpFloat = 0x1p-16;

// Adds the time since the last mark to a phase of scratch.phase_seconds (when timing).
class PhaseClock {
 public:
  explicit PhaseClock(DecodeScratch& scratch) : scratch_(scratch) {
    if (scratch_.time_phases) last_ = std::chrono::steady_clock::now();
  }
  void mark(DecodePhase phase) {
    if (!scratch_.time_phases) return;
    const auto now = std::chrono::steady_clock::now();
    scratch_.phase_seconds[static_cast<std::size_t>(phase)] +=
        std::chrono::duration<double>(now - last_).count();
    last_ = now;
  }

 private:
  DecodeScratch& scratch_;
  std::chrono::steady_clock::time_point last_{};
};

// What select_head leaves for the output beside K (in scoring order) and its exact scores.
struct HeadSelection {
  std::size_t scored_ahead = 0;  // keys scored past K's last chunk and dropped
  double tau = 1.0;
  double score_error = 0.0;  // ē: the largest e_j of K
};

// Head h's K (in kept, in scoring order, its exact scores in scores) (THEORY §14.3–§14.5):
// first from the keys of its near buckets, else from every key, which always certifies (at
// worst every key is scored). es: the exact scores' error per unit of scale (§14.4); top: the
// head's largest bound.
HeadSelection select_head(const KvCache& cache, std::size_t count, const float* queries,
                          std::size_t h, float scale, double eps, double es, float top,
                          std::vector<std::uint32_t>& kept, std::vector<float>& scores,
                          DecodeScratch& scratch, PhaseClock& clock);

}  // namespace tvk::decode
