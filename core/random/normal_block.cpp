#include "core/random/normal_block.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>

#include <boost/random/normal_distribution.hpp>

#include "core/random/elementary.h"

#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace tvk {
namespace {

constexpr std::size_t kLanes = 4;
constexpr std::size_t kChunk = 512;  // draws per chunk; 8 KiB of words and values on the stack

// Boost.Random's 128-layer ziggurat tables (Marsaglia & Tsang 2000): x decreasing from the
// base strip's pseudo-width x[0] through the tail start x[1] = 3.44 to x[128] = 0, and
// y[i] = exp(−x[i]²/2). Checked-in constants in Boost, so the same on every platform.
const double* const kX = boost::random::detail::normal_table<double>::table_x;
const double* const kY = boost::random::detail::normal_table<double>::table_y;

// Four xoshiro256++ generators, one per lane, held as GCC/Clang vector-extension values so
// that one step of all four is a handful of vector instructions (the compiler lowers them to
// scalar code on targets without SIMD; the values are the same).
using Words = std::uint64_t __attribute__((vector_size(8 * kLanes)));

struct LaneGenerators {
  Words s0, s1, s2, s3;

  explicit LaneGenerators(RandomStream& stream) {
    for (std::size_t j = 0; j < kLanes; ++j) {
      std::uint64_t seed = stream();
      s0[j] = splitmix64(seed);
      s1[j] = splitmix64(seed);
      s2[j] = splitmix64(seed);
      s3[j] = splitmix64(seed);
    }
  }

  // Rotations written out: a function returning a vector type changes the ABI without AVX.
  void next(std::uint64_t* out) {
    const Words sum = s0 + s3;
    const Words result = ((sum << 23) | (sum >> 41)) + s0;
    std::memcpy(out, &result, sizeof result);
    const Words t = s1 << 17;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = (s3 << 45) | (s3 >> 19);
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

// The fast path for a chunk: values[p] = the candidate with its sign; rejected[g] is a bit
// mask of the candidates of group g (4 draws) that failed the rectangle test (about 1.2%).
void fast_draws(const std::uint64_t* words, std::size_t count, double* values,
                std::uint8_t* rejected) {
#if defined(__AVX2__)
  // X[i] and X[i+1] of each lane come from one 16-byte load (AVX2's gathers are slow on
  // several CPUs); the layer indices are computed in scalar registers in parallel.
  const __m256i one_bits = _mm256_set1_epi64x(static_cast<long long>(elementary::kOneBits));
  const __m256d one = _mm256_set1_pd(1.0);
  for (std::size_t p = 0; p < count; p += kLanes) {
    const double* x0 = kX + layer_of(words[p]);
    const double* x1 = kX + layer_of(words[p + 1]);
    const double* x2 = kX + layer_of(words[p + 2]);
    const double* x3 = kX + layer_of(words[p + 3]);
    const __m256d t02 =
        _mm256_insertf128_pd(_mm256_castpd128_pd256(_mm_loadu_pd(x0)), _mm_loadu_pd(x2), 1);
    const __m256d t13 =
        _mm256_insertf128_pd(_mm256_castpd128_pd256(_mm_loadu_pd(x1)), _mm_loadu_pd(x3), 1);
    const __m256d width = _mm256_unpacklo_pd(t02, t13);
    const __m256d next_width = _mm256_unpackhi_pd(t02, t13);
    const __m256i w = _mm256_load_si256(reinterpret_cast<const __m256i*>(words + p));
    const __m256d u = _mm256_sub_pd(
        _mm256_castsi256_pd(_mm256_or_si256(_mm256_srli_epi64(w, 12), one_bits)), one);
    const __m256d x = _mm256_mul_pd(u, width);
    const __m256d inside = _mm256_cmp_pd(x, next_width, _CMP_LT_OQ);
    _mm256_storeu_pd(values + p, _mm256_xor_pd(x, _mm256_castsi256_pd(_mm256_slli_epi64(w, 63))));
    rejected[p / kLanes] = static_cast<std::uint8_t>(~_mm256_movemask_pd(inside) & 15);
  }
#else
  for (std::size_t p = 0; p < count; p += kLanes) {
    std::uint8_t mask = 0;
    for (std::size_t j = 0; j < kLanes; ++j) {
      const std::uint64_t w = words[p + j];
      const double x = candidate_of(w);
      values[p + j] = with_sign(x, w);
      if (!(x < kX[layer_of(w) + 1])) mask |= static_cast<std::uint8_t>(1u << j);
    }
    rejected[p / kLanes] = mask;
  }
#endif
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
  return above_upper < 0.0 && (above_lower < 0.0 || y < std::exp(-0.5 * x * x));
}

double standard_normal_from_word(std::uint64_t word, RandomStream& extra) {
  return slow_draw(word, extra);
}

void fill_standard_normals(RandomStream& stream, std::span<double> out) {
  LaneGenerators lanes(stream);
  RandomStream extra(stream());
  alignas(32) std::uint64_t words[kChunk];
  double buffer[kChunk];
  std::uint8_t rejected[kChunk / kLanes];
  for (std::size_t begin = 0; begin < out.size(); begin += kChunk) {
    const std::size_t count = std::min(out.size() - begin, kChunk);
    const std::size_t lane_count = (count + kLanes - 1) / kLanes * kLanes;
    for (std::size_t p = 0; p < lane_count; p += kLanes)
      lanes.next(words + p);
    // Whole chunks are written in place; a partial last chunk goes through `buffer`.
    double* values = lane_count == count ? out.data() + begin : buffer;
    fast_draws(words, lane_count, values, rejected);
    // Rejected candidates in increasing position, so `extra` is consumed in a fixed order.
    for (std::size_t g = 0; g < lane_count / kLanes; ++g) {
      for (unsigned mask = rejected[g]; mask != 0; mask &= mask - 1) {
        const std::size_t p = g * kLanes + static_cast<std::size_t>(std::countr_zero(mask));
        if (p < count) values[p] = slow_draw(words[p], extra);
      }
    }
    if (values == buffer) std::memcpy(out.data() + begin, buffer, count * sizeof(double));
  }
}

}  // namespace tvk
