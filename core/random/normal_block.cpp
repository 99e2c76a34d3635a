#include "core/random/normal_block.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>

#include <boost/random/normal_distribution.hpp>

#include "core/kernels/kernel_set.h"
#include "core/numerics/elementary.h"
#include "core/random/elementary.h"

namespace tvk {
namespace {

constexpr std::size_t kLanes = 4;
constexpr std::size_t kChunk = 512;  // draws per chunk; 8 KiB of words and values on the stack

// Boost.Random's 128-layer ziggurat tables (Marsaglia & Tsang 2000): x decreasing from the
// base strip's pseudo-width x[0] through the tail start x[1] = 3.44 to x[128] = 0, and
// y[i] = exp(−x[i]²/2). Checked-in constants in Boost, so the same on every platform.
const double* const kX = boost::random::detail::normal_table<double>::table_x;
const double* const kY = boost::random::detail::normal_table<double>::table_y;

// Four xoshiro256++ generators, one per lane, stepped by the active kernel set's
// xoshiro_lanes (state[4 * w + lane] holds word s_w of a lane).
struct LaneGenerators {
  std::uint64_t state[4 * kLanes];

  explicit LaneGenerators(RandomStream& stream) {
    for (std::size_t j = 0; j < kLanes; ++j) {
      std::uint64_t seed = stream();
      for (std::size_t w = 0; w < 4; ++w)
        state[w * kLanes + j] = splitmix64(seed);
    }
  }
};

// A word's candidate: layer i from bits 1–7, sign from bit 0, x = u·X[i] with u ∈ [0, 1) from
// the 52 high bits.
std::uint64_t layer_of(std::uint64_t word) {
  return (word >> 1) & 127u;
}

double candidate_of(std::uint64_t word) {
  const double u = std::bit_cast<double>((word >> 12) | elementary::kOneBits) - 1.0;
  return u * kX[layer_of(word)];
}

double with_sign(double x, std::uint64_t word) {
  return std::bit_cast<double>(std::bit_cast<std::uint64_t>(x) ^ (word << 63));
}

// u ∈ (0, 1] from 52 bits, so that log(u) is finite.
double open_unit(std::uint64_t word) {
  return 2.0 - std::bit_cast<double>((word >> 12) | elementary::kOneBits);
}

// The normal tail beyond R = X[1] by Marsaglia's exponential rejection (as Boost does).
double tail_draw(RandomStream& extra) {
  const double r = kX[1];
  for (;;) {
    const double x = -elementary::log_positive_normal(open_unit(extra())) / r;
    const double y = -elementary::log_positive_normal(open_unit(extra()));
    if (2.0 * y > x * x) return r + x;
  }
}

// The rest of the ziggurat for a word whose fast test failed: the tail for the base strip,
// the wedge test otherwise, and fresh candidates from `extra` until one is accepted.
double slow_draw(std::uint64_t word, RandomStream& extra) {
  for (;;) {
    const std::uint64_t i = layer_of(word);
    const double x = candidate_of(word);
    if (x < kX[i + 1]) return with_sign(x, word);
    if (i == 0) return with_sign(tail_draw(extra), word);
    if (ziggurat_wedge_accepts(i, x, extra.uniform01())) return with_sign(x, word);
    word = extra();
  }
}

}  // namespace

bool ziggurat_wedge_accepts(std::uint64_t layer, double x, double y01) {
  // Accept if y < exp(−x²/2) with y uniform between the layer's y's. Boost's chord and
  // tangent bounds decide most cases without the exp (the curve is convex for X[i] ≥ 1,
  // concave below).
  const std::uint64_t i = layer;
  const double y = kY[i] + y01 * (kY[i + 1] - kY[i]);
  const double chord = (kX[i] - kX[i + 1]) * y01 - (kX[i] - x);
  const double tangent = y - (kY[i] + (kX[i] - x) * kY[i] * kX[i]);
  const bool convex = kX[i] >= 1.0;
  const double above_upper = convex ? chord : tangent;
  const double above_lower = convex ? tangent : chord;
  return above_upper < 0.0 && (above_lower < 0.0 || y < elementary::exp(-0.5 * x * x));
}

double standard_normal_from_word(std::uint64_t word, RandomStream& extra) {
  return slow_draw(word, extra);
}

double standard_normal(RandomStream& stream) {
  const std::uint64_t word = stream();
  return slow_draw(word, stream);
}

void fill_standard_normals(RandomStream& stream, std::span<double> out) {
  const kernels::KernelTable& table = kernels::active_kernels();
  LaneGenerators lanes(stream);
  RandomStream extra(stream());
  alignas(32) std::uint64_t words[kChunk];
  double buffer[kChunk];
  std::uint8_t rejected[kChunk / kLanes];
  for (std::size_t begin = 0; begin < out.size(); begin += kChunk) {
    const std::size_t count = std::min(out.size() - begin, kChunk);
    const std::size_t lane_count = (count + kLanes - 1) / kLanes * kLanes;
    table.xoshiro_lanes(lanes.state, words, lane_count / kLanes);
    // Whole chunks are written in place; a partial last chunk goes through `buffer`. The fast
    // path (values[p] = the candidate with its sign; rejected[g] = a bit mask of the candidates
    // of group g that failed the rectangle test, about 1.2%) is the kernel's.
    double* values = lane_count == count ? out.data() + begin : buffer;
    table.ziggurat_fast(words, lane_count, kX, values, rejected);
    // Rejected candidates in increasing position, so `extra` is consumed in a fixed order.
    // Eight groups' masks are tested at once (about 9 in 10 such words are zero).
    const std::size_t groups = lane_count / kLanes;
    for (std::size_t first = 0; first < groups; first += 8) {
      std::uint64_t eight = 0;
      std::memcpy(&eight, rejected + first, std::min<std::size_t>(8, groups - first));
      if (eight == 0) continue;
      for (std::size_t g = first; g < first + 8 && g < groups; ++g) {
        for (unsigned mask = rejected[g]; mask != 0; mask &= mask - 1) {
          const std::size_t p = g * kLanes + static_cast<std::size_t>(std::countr_zero(mask));
          if (p < count) values[p] = slow_draw(words[p], extra);
        }
      }
    }
    if (values == buffer) std::memcpy(out.data() + begin, buffer, count * sizeof(double));
  }
}

}  // namespace tvk
