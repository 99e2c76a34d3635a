// Row kernels: value range, the sort's coarse keys and run scan, a permutation gather, an affine
// map, and exp over a row.
#include "core/kernels/isa/kernels.h"
#include "core/kernels/isa/lanes.h"
#include "core/numerics/elementary.h"

#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace tvk::kernels::TVK_KERNEL_ISA {
namespace {

// std::max / std::min semantics, without instantiating the standard templates here.
double larger(double a, double b) {
  return a < b ? b : a;
}
double smaller(double a, double b) {
  return b < a ? b : a;
}

}  // namespace

RangeResult value_range(const double* v, std::size_t n) {
  double top = v[0], bottom = v[0];
  bool has_nan = __builtin_isnan(v[0]);
  std::size_t i = 1;
#if defined(__AVX2__)
  // Four lanes, two accumulators each way. A NaN is tracked apart: max/min instructions drop
  // it depending on the operand order. Max and min are exact, so the result does not depend
  // on the grouping.
  if (n >= 9) {
    __m256d hi0 = _mm256_set1_pd(top), hi1 = hi0, lo0 = hi0, lo1 = hi0;
    __m256d nan = _mm256_setzero_pd();
    for (; i + 8 <= n; i += 8) {
      const __m256d a = _mm256_loadu_pd(v + i);
      const __m256d b = _mm256_loadu_pd(v + i + 4);
      hi0 = _mm256_max_pd(hi0, a);
      hi1 = _mm256_max_pd(hi1, b);
      lo0 = _mm256_min_pd(lo0, a);
      lo1 = _mm256_min_pd(lo1, b);
      nan = _mm256_or_pd(nan, _mm256_cmp_pd(a, b, _CMP_UNORD_Q));
    }
    alignas(32) double hi[4], lo[4];
    _mm256_store_pd(hi, _mm256_max_pd(hi0, hi1));
    _mm256_store_pd(lo, _mm256_min_pd(lo0, lo1));
    for (int lane = 0; lane < 4; ++lane) {
      top = larger(top, hi[lane]);
      bottom = smaller(bottom, lo[lane]);
    }
    has_nan = has_nan || _mm256_movemask_pd(nan) != 0;
  }
#endif
  for (; i < n; ++i) {
    has_nan = has_nan || __builtin_isnan(v[i]);
    top = larger(top, v[i]);
    bottom = smaller(bottom, v[i]);
  }
  return {top, bottom, has_nan};
}

void sort_keys(const double* v, std::size_t n, double top, double scale, int shift,
               std::uint32_t* keys) {
  for (std::size_t i = 0; i < n; ++i) {
    keys[i] = static_cast<std::uint32_t>(static_cast<std::int32_t>((top - v[i]) * scale)) >> shift;
  }
}

const std::uint64_t* radix_order(const std::uint32_t* keys, std::size_t n, std::uint64_t* a,
                                 std::uint64_t* b, std::uint32_t* order) {
  // Digit width and masks are constants: the compiler unrolls and folds the passes.
  constexpr int digit_bits = kRadixDigitBits;
  constexpr std::uint32_t mask = (1u << digit_bits) - 1;
  constexpr std::size_t buckets = std::size_t{1} << digit_bits;
  std::uint32_t counts[2][buckets] = {};
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t key = keys[i];
    a[i] = static_cast<std::uint64_t>(key) << 32 | i;
    ++counts[0][key & mask];
    ++counts[1][key >> digit_bits];
  }
  std::uint64_t* in = a;
  std::uint64_t* out = b;
  for (int d = 0; d < 2; ++d) {
    std::uint32_t* count = counts[d];
    const int shift = 32 + digit_bits * d;
    if (count[(in[0] >> shift) & mask] == n) continue;  // one digit for all: no-op pass
    std::uint32_t offset = 0;
    for (std::size_t c = 0; c < buckets; ++c) {
      const std::uint32_t here = count[c];
      count[c] = offset;
      offset += here;
    }
    for (std::size_t i = 0; i < n; ++i) {  // stable: equal keys keep their order
      const std::uint64_t item = in[i];
      out[count[(item >> shift) & mask]++] = item;
    }
    std::uint64_t* swap = in;
    in = out;
    out = swap;
  }
  for (std::size_t i = 0; i < n; ++i)
    order[i] = static_cast<std::uint32_t>(in[i]);
  return in;
}

std::size_t next_equal_key(const std::uint64_t* packed, std::size_t from, std::size_t last) {
  // Runs are rare: blocks without an equal neighbour are skipped by a count the compiler
  // vectorises (integer arithmetic), and only a block that has one is walked.
  constexpr std::size_t kBlock = 32;
  for (std::size_t block = from; block < last; block += kBlock) {
    const std::size_t end = last - block < kBlock ? last : block + kBlock;
    std::uint64_t equal_neighbours = 0;
    for (std::size_t i = block; i < end; ++i)
      equal_neighbours += ((packed[i] ^ packed[i + 1]) >> 32) == 0 ? 1u : 0u;
    if (equal_neighbours == 0) continue;
    for (std::size_t i = block; i < end; ++i) {
      if (((packed[i] ^ packed[i + 1]) >> 32) == 0) return i;
    }
  }
  return last;
}

void gather(const double* values, const std::uint32_t* order, std::size_t n, double* out) {
  for (std::size_t r = 0; r < n; ++r)
    out[r] = values[order[r]];
}

void scale_shift(double* x, std::size_t n, double shift, double scale) {
  for (std::size_t i = 0; i < n; ++i)
    x[i] = shift + scale * x[i];
}

void exp_shifted(const double* in, std::size_t n, double shift, double* out) {
  // Every element goes through the same lane-wise exp, the last few padded with zeros, so a
  // value's result depends neither on its index nor on the vector width.
  using V = lanes::Doubles;
  constexpr std::size_t kWidth = lanes::kDoubles;
  std::size_t i = 0;
  // Two independent vectors per step: exp is a long dependency chain, and interleaving two
  // of them keeps more of the core busy (lanes stay independent, so the bits do not change).
  for (; i + 2 * kWidth <= n; i += 2 * kWidth) {
    const V x = lanes::load(in + i) - shift;
    const V y = lanes::load(in + i + kWidth) - shift;
    const V ex = elementary::exp_lanes(x);
    const V ey = elementary::exp_lanes(y);
    lanes::store(out + i, ex);
    lanes::store(out + i + kWidth, ey);
  }
  for (; i + kWidth <= n; i += kWidth) {
    const V x = lanes::load(in + i) - shift;
    lanes::store(out + i, elementary::exp_lanes(x));
  }
  if (i < n) {
    double buffer[kWidth];
    for (std::size_t j = 0; j < kWidth; ++j)
      buffer[j] = i + j < n ? in[i + j] : shift;
    const V x = lanes::load(buffer) - shift;
    lanes::store(buffer, elementary::exp_lanes(x));
    for (std::size_t j = 0; i + j < n; ++j)
      out[i + j] = buffer[j];
  }
}

}  // namespace tvk::kernels::TVK_KERNEL_ISA
