#pragma once
//! \file tvk's own exp, log, log1p and expm1, in plain IEEE double arithmetic and integer bit
//! manipulation only, so that every x86-64 CPU, every SIMD width and every compiler target
//! gives the same bits. glibc's libm picks FMA or non-FMA code paths at run time (ifunc) and
//! its results may then differ in the last bit; libmvec differs again. The build disables FMA
//! contraction (-ffp-contract=off), so each expression is evaluated exactly as written.
//!
//! log, log1p and expm1 are those of fdlibm (Sun Microsystems; "Permission to use, copy,
//! modify, and distribute this software is freely granted, provided that this notice is
//! preserved"): e_log.c, s_log1p.c, s_expm1.c (log1p and expm1 as revised in FreeBSD's msun).
//! exp is table-driven (Tang's method, with the table layout of glibc's exp: 2^(j/256) as bits
//! and a relative tail, a degree-4 polynomial, no division), branch-free, one template shared
//! by the scalar exp and the lane-wise exp_lanes, so that they cannot drift apart; its table
//! and coefficients were computed for tvk (mpmath) and are checked by the tests.
//!
//! Errors measured against glibc's long double functions by
//! tests/core/numerics/elementary_test.cpp, as |result − exact| in units of the spacing of the
//! doubles at the exact value (2^-1074 for subnormal results); every result is one of the two
//! doubles around the exact value:
//!   exp    max 0.77 ulp (0.58 for normal results), 1.0% not correctly rounded, 7.0 million
//!          inputs over [-745.13, 709.78]; the worst are subnormal results, rounded to 53 bits
//!          and then to the subnormal grid
//!   log    max 0.87 ulp, 1.2% not correctly rounded, 2.8 million inputs (any positive double)
//!   log1p  max 0.81 ulp, 1.8% not correctly rounded, 2.6 million inputs over (-1, 2^1024)
//!   expm1  max 0.79 ulp, 3.7% not correctly rounded, 2.5 million inputs over [-745, 709.78]
//!
//! Every function here is always_inline: the kernels include this header in translation units
//! compiled for different instruction sets, and an out-of-line copy (one COMDAT symbol for all
//! of them) could carry AVX-512 code into the baseline kernels.

#include <bit>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>
#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "core/numerics/exp_table.h"

// Vectors wider than the target's registers are passed differently with AVX/AVX-512 and
// without: GCC and Clang warn (-Wpsabi) at such functions and calls here. Everything here is
// always inlined, so no vector crosses a real call and the ABI does not matter.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"

namespace tvk::elementary {

namespace detail {

//! A GCC/Clang vector-extension type of doubles: double __attribute__((vector_size(N))).
template <class V>
concept DoubleLanes = !std::is_class_v<V> && !std::is_arithmetic_v<V> && !std::is_pointer_v<V> &&
                      sizeof(V) % sizeof(double) == 0 && requires(V v) {
  { v[0] } -> std::same_as<double&>;
};

//! The unsigned 64-bit integer type with the layout of T (double or a vector of doubles).
template <class T>
struct BitsOf {
  typedef std::uint64_t type __attribute__((vector_size(sizeof(T))));
};
template <>
struct BitsOf<double> {
  using type = std::uint64_t;
};
template <class T>
using Bits = typename BitsOf<T>::type;

//! The width of the target's widest vector registers, in bytes.
#if defined(__AVX512F__)
inline constexpr std::size_t kVectorRegisterBytes = 64;
#elif defined(__AVX__)
inline constexpr std::size_t kVectorRegisterBytes = 32;
#else
inline constexpr std::size_t kVectorRegisterBytes = 16;
#endif

//! m ? a : b, lane-wise for vectors (m from a comparison: all ones or zero per lane). GCC
//! lowers ?: on a vector wider than the target's registers (4 doubles without AVX, 8 without
//! AVX-512) element by element, with branches; there the select is written with bit operations.
template <class T, class M>
[[gnu::always_inline]] inline T select(const M& m, const T& a, const T& b) {
  if constexpr (sizeof(T) > kVectorRegisterBytes) {
    using U = Bits<T>;
    const U mask = __builtin_bit_cast(U, m);
    return __builtin_bit_cast(
        T, (mask & __builtin_bit_cast(U, a)) | (~mask & __builtin_bit_cast(U, b)));
  } else {
    return m ? a : b;
  }
}

//! Constants of exp_generic, named for the tests: k = round(x·256/ln2) and
//! r = (x − k·step_hi) − k·step_lo, with step_hi = ln2/256 rounded to 34 significant bits (so
//! that k·step_hi is exact for |k| < 2^19) and step_lo the rest rounded; exp(r) − 1 ≈
//! r + r²(C2 + C3 r + C4 r²), a minimax fit (Remez, mpmath) of (e^r − 1 − r)/r² on |r| <= ln2/512
//! whose absolute error is below 2^-56.5.
namespace exp_constants {
inline constexpr double inv_step = 0x1.71547652b82fep+8;  // 256/ln2
inline constexpr double step_hi = 0x1.62e42fef80000p-9;
inline constexpr double step_lo = 0x1.1cf79abc9e3b4p-44;
inline constexpr double C2 = 0x1.fffffffffffebp-2;
inline constexpr double C3 = 0x1.555556deebd45p-3;
inline constexpr double C4 = 0x1.5555570aa737ap-5;
}  // namespace exp_constants

typedef double DoublePair __attribute__((vector_size(16)));

[[gnu::always_inline]] inline DoublePair load_pair(const char* p) {
  DoublePair v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}

#if defined(__AVX512F__)
//! The table entries at byte offsets a, b, c, d of base as one vector: bits_a tail_a bits_b …
//! (the maskz insert, and shuffles rather than unpack intrinsics: those pass GCC 12's
//! _mm512_undefined_pd, which draws -Wmaybe-uninitialized).
[[gnu::always_inline]] inline __m256d load_two_entries(const char* base, std::uint64_t a,
                                                       std::uint64_t b) {
  const __m128d lo = _mm_loadu_pd(reinterpret_cast<const double*>(base + a));
  return _mm256_insertf128_pd(_mm256_castpd128_pd256(lo),
                              _mm_loadu_pd(reinterpret_cast<const double*>(base + b)), 1);
}
[[gnu::always_inline]] inline __m512d load_four_entries(const char* base, std::uint64_t a,
                                                        std::uint64_t b, std::uint64_t c,
                                                        std::uint64_t d) {
  return _mm512_maskz_insertf64x4(0xff, _mm512_castpd256_pd512(load_two_entries(base, a, b)),
                                  load_two_entries(base, c, d), 1);
}
#endif

//! The table entries at the byte offsets 16 j of each lane: bits and tail. Loads are exact, so
//! how they are gathered does not change any result. For 2, 4 and 8 lanes the 16-byte entries
//! are loaded whole and split by two shuffles (cheaper than scalar loads and inserts, and than
//! the gather instructions on AMD Zen 4); the AVX-512 code takes its offsets through memory.
template <class T>
[[gnu::always_inline]] inline void exp_table_lookup(const Bits<T>& offset, Bits<T>& bits, T& tail) {
  const char* const base = reinterpret_cast<const char*>(kExpTable);
  constexpr std::size_t kLanes = sizeof(T) / sizeof(double);
  if constexpr (std::is_same_v<T, double>) {
    __builtin_memcpy(&bits, base + offset, sizeof bits);
    __builtin_memcpy(&tail, base + offset + sizeof bits, sizeof tail);
#if defined(__has_builtin)
#if __has_builtin(__builtin_shufflevector)
  } else if constexpr (kLanes == 2) {
    const DoublePair p0 = load_pair(base + offset[0]), p1 = load_pair(base + offset[1]);
    bits = __builtin_bit_cast(Bits<T>, __builtin_shufflevector(p0, p1, 0, 2));
    tail = __builtin_shufflevector(p0, p1, 1, 3);
  } else if constexpr (kLanes == 4) {
    const DoublePair p0 = load_pair(base + offset[0]), p1 = load_pair(base + offset[1]);
    const DoublePair p2 = load_pair(base + offset[2]), p3 = load_pair(base + offset[3]);
#if !defined(__AVX__)
    // Two SSE registers: split each half on its own.
    bits = __builtin_bit_cast(
        Bits<T>, __builtin_shufflevector(__builtin_shufflevector(p0, p1, 0, 2),
                                         __builtin_shufflevector(p2, p3, 0, 2), 0, 1, 2, 3));
    tail = __builtin_shufflevector(__builtin_shufflevector(p0, p1, 1, 3),
                                   __builtin_shufflevector(p2, p3, 1, 3), 0, 1, 2, 3);
#else
    const T even = __builtin_shufflevector(p0, p2, 0, 1, 2, 3);  // bits0 tail0 bits2 tail2
    const T odd = __builtin_shufflevector(p1, p3, 0, 1, 2, 3);
    bits = __builtin_bit_cast(Bits<T>, __builtin_shufflevector(even, odd, 0, 4, 2, 6));
    tail = __builtin_shufflevector(even, odd, 1, 5, 3, 7);
#endif
#if defined(__AVX512F__)
  } else if constexpr (kLanes == 8) {
    // GCC makes the generic shuffles below into extractions of the offsets lane by lane and
    // extra copies; through memory and inserts the lookup takes a fifth fewer instructions.
    alignas(64) std::uint64_t o[8];
    _mm512_store_si512(o, __builtin_bit_cast(__m512i, offset));
    const __m512d even = load_four_entries(base, o[0], o[2], o[4], o[6]);
    const __m512d odd = load_four_entries(base, o[1], o[3], o[5], o[7]);
    bits =
        __builtin_bit_cast(Bits<T>, __builtin_shufflevector(even, odd, 0, 8, 2, 10, 4, 12, 6, 14));
    tail = __builtin_shufflevector(even, odd, 1, 9, 3, 11, 5, 13, 7, 15);
#endif
  } else if constexpr (kLanes == 8 && kVectorRegisterBytes < 64) {
    // In halves, each as 4 lanes.
    typedef double Half __attribute__((vector_size(32)));
    const Bits<Half> lo = __builtin_shufflevector(offset, offset, 0, 1, 2, 3);
    const Bits<Half> hi = __builtin_shufflevector(offset, offset, 4, 5, 6, 7);
    Bits<Half> bits_lo, bits_hi;
    Half tail_lo, tail_hi;
    exp_table_lookup<Half>(lo, bits_lo, tail_lo);
    exp_table_lookup<Half>(hi, bits_hi, tail_hi);
    bits = __builtin_shufflevector(bits_lo, bits_hi, 0, 1, 2, 3, 4, 5, 6, 7);
    tail = __builtin_shufflevector(tail_lo, tail_hi, 0, 1, 2, 3, 4, 5, 6, 7);
  } else if constexpr (kLanes == 8) {
    const DoublePair p0 = load_pair(base + offset[0]), p1 = load_pair(base + offset[1]);
    const DoublePair p2 = load_pair(base + offset[2]), p3 = load_pair(base + offset[3]);
    const DoublePair p4 = load_pair(base + offset[4]), p5 = load_pair(base + offset[5]);
    const DoublePair p6 = load_pair(base + offset[6]), p7 = load_pair(base + offset[7]);
    const T even = __builtin_shufflevector(__builtin_shufflevector(p0, p2, 0, 1, 2, 3),
                                           __builtin_shufflevector(p4, p6, 0, 1, 2, 3), 0, 1, 2, 3,
                                           4, 5, 6, 7);
    const T odd = __builtin_shufflevector(__builtin_shufflevector(p1, p3, 0, 1, 2, 3),
                                          __builtin_shufflevector(p5, p7, 0, 1, 2, 3), 0, 1, 2, 3,
                                          4, 5, 6, 7);
    bits =
        __builtin_bit_cast(Bits<T>, __builtin_shufflevector(even, odd, 0, 8, 2, 10, 4, 12, 6, 14));
    tail = __builtin_shufflevector(even, odd, 1, 9, 3, 11, 5, 13, 7, 15);
#endif
#endif
  } else {
    for (std::size_t i = 0; i < kLanes; ++i) {
      std::uint64_t b;
      double t;
      __builtin_memcpy(&b, base + offset[i], sizeof b);
      __builtin_memcpy(&t, base + offset[i] + sizeof b, sizeof t);
      bits[i] = b;
      tail[i] = t;
    }
  }
}

//! exp for a double or lane-wise for a vector of doubles, without branches, written with
//! operators and builtins only (__builtin_bit_cast; select on a comparison, lane-wise for
//! vectors; exact table loads), so that the same text means the same arithmetic for both.
//! Table-driven (Tang's method, laid out as glibc's exp): x = (256 e + j) ln2/256 + r with
//! k = 256 e + j = round(x·256/ln2), |r| <= ln2/512 (a little more where x·256/ln2 rounds),
//! exp(x) = 2^e · H_j (1 + tail_j) · e^r ≈ 2^e (S + S·p), S = H_j, p = tail_j + e^r − 1 from a
//! degree-4 polynomial. |p| < 0.0028, so every rounding but the last sum's costs under 0.01 ulp.
//! The chain of dependent operations is about half that of fdlibm's rational approximation, with
//! no division: this is what makes it fast with 4-wide vectors (the 8-wide ones are limited by
//! throughput, where the table loads about balance the division they replace).
template <class T>
[[gnu::always_inline]] inline T exp_generic(const T& x) {
  using U = Bits<T>;
  namespace c = exp_constants;
  constexpr double o_threshold = 7.09782712893383973096e+02;   // 0x40862e42fefa39ef
  constexpr double u_threshold = -7.45133219101941108420e+02;  // 0xc0874910d52d3051
  // k by the shifter trick: for |x·256/ln2| < 2^50 the sum lies in [2^52, 2^53), whose spacing
  // is 1, so it is rounded to an integer, and its low mantissa bits hold k ± 16384 (two's
  // complement). The ±16384 = ±64·256 biases e by ±64: the scale S·2^(e±64) is then a normal
  // double for every x in [u_threshold, o_threshold] (e in [-1077, 1024]), and the last product
  // by 2^∓64 rounds once, into the subnormals too (gradual underflow), or is exact. Outside
  // that range k is garbage and the result is replaced below.
  const auto negative = x < 0.0;
  const T shifter = select(negative, T{} + (0x1.8p52 + 16384.0), T{} + (0x1.8p52 - 16384.0));
  const T t = x * c::inv_step + shifter;
  const T k = t - shifter;  // exact
  const U biased_k = __builtin_bit_cast(U, t);
  const T r = (x - k * c::step_hi) - k * c::step_lo;  // x − k·step_hi is exact
  U table_bits;
  T tail;
  exp_table_lookup<T>((biased_k << 4) & 0xff0, table_bits, tail);  // offset 16 j
  const T rr = r * r;
  const T p = ((r + tail) + rr * (c::C2 + r * c::C3)) + (rr * rr) * c::C4;
  // bits(H_j) − j·2^44 + (k ± 16384)·2^44 = bits(H_j) + (e ± 64)·2^52 (mod 2^64), as the bits
  // of 0x1.8p52 vanish from the shifted sum.
  const T scale = __builtin_bit_cast(T, table_bits + (biased_k << 44));
  const T factor = select(negative, T{} + 0x1p-64, T{} + 0x1p64);
  T result = (scale + scale * p) * factor;
  // Special cases by selects.
  const T inf = T{} + std::numeric_limits<double>::infinity();
  result = select(x > o_threshold, inf, result);
  const T twice = x + x;                              // NaN: quiet, payload kept
  const T outside = select(0.0 > twice, T{}, twice);  // +0 below u_threshold and for -inf, NaN
  result = select(x >= u_threshold, result, outside);
  return result;
}

}  // namespace detail

//! e^x within 1 ulp (measured max 0.77 ulp); gradual underflow for x below about -708.4,
//! 0 below -745.13…, +inf above 709.78…, exp(0) = 1 exactly, NaN → NaN.
[[gnu::always_inline]] inline double exp(double x) {
  return detail::exp_generic(x);
}

//! exp of each lane of a GCC/Clang vector of doubles, e.g.
//! `double __attribute__((vector_size(32)))`: bitwise exactly exp(double) of every lane
//! (the same code), without branches. The argument is taken by reference, which spares callers
//! GCC's ABI note on by-value vectors wider than the target's registers; the returned vector
//! still draws -Wpsabi there (GCC and Clang), which such callers silence (the kernels build
//! with -Wno-psabi).
template <detail::DoubleLanes V>
[[gnu::always_inline]] inline V exp_lanes(const V& x) {
  return detail::exp_generic(x);
}

namespace detail {

[[gnu::always_inline]] inline std::int32_t high_word(double x) {
  return static_cast<std::int32_t>(std::bit_cast<std::uint64_t>(x) >> 32);
}
[[gnu::always_inline]] inline std::uint32_t low_word(double x) {
  return static_cast<std::uint32_t>(std::bit_cast<std::uint64_t>(x));
}
//! x with its high 32 bits replaced.
[[gnu::always_inline]] inline double with_high_word(double x, std::int32_t high) {
  return std::bit_cast<double>(
      (static_cast<std::uint64_t>(static_cast<std::uint32_t>(high)) << 32) | low_word(x));
}
[[gnu::always_inline]] inline double from_words(std::int32_t high, std::uint32_t low) {
  return std::bit_cast<double>(
      (static_cast<std::uint64_t>(static_cast<std::uint32_t>(high)) << 32) | low);
}

inline constexpr double kInf = std::numeric_limits<double>::infinity();
//! The NaN of an invalid argument: one fixed bit pattern (0x7ff8000000000000), rather than the
//! CPU's default NaN of 0/0, whose sign differs between architectures.
inline constexpr double kInvalid = std::numeric_limits<double>::quiet_NaN();

}  // namespace detail

//! Natural log within 1 ulp (measured max 0.87 ulp): fdlibm e_log.c. log(±0) = -inf,
//! log(x < 0) = NaN, log(+inf) = +inf, log(1) = +0, NaN → NaN; subnormals are scaled by 2^54.
[[gnu::always_inline]] inline double log(double x) {
  constexpr double ln2_hi = 6.93147180369123816490e-01;  // 0x3fe62e42fee00000
  constexpr double ln2_lo = 1.90821492927058770002e-10;  // 0x3dea39ef35793c76
  constexpr double two54 = 1.80143985094819840000e+16;   // 0x4350000000000000
  constexpr double Lg1 = 6.666666666666735130e-01;       // 0x3fe5555555555593
  constexpr double Lg2 = 3.999999999940941908e-01;       // 0x3fd999999997fa04
  constexpr double Lg3 = 2.857142874366239149e-01;       // 0x3fd2492494229359
  constexpr double Lg4 = 2.222219843214978396e-01;       // 0x3fcc71c51d8e78af
  constexpr double Lg5 = 1.818357216161805012e-01;       // 0x3fc7466496cb03de
  constexpr double Lg6 = 1.531383769920937332e-01;       // 0x3fc39a09d078c69f
  constexpr double Lg7 = 1.479819860511658591e-01;       // 0x3fc2f112df3e5244
  std::int32_t hx = detail::high_word(x);
  const std::uint32_t lx = detail::low_word(x);
  std::int32_t k = 0;
  if (hx < 0x00100000) {  // x < 2^-1022
    if (((hx & 0x7fffffff) | static_cast<std::int32_t>(lx)) == 0) return -detail::kInf;
    if (hx < 0) return x != x ? x + x : detail::kInvalid;  // negative or NaN with sign bit
    k -= 54;                                               // subnormal: scale up
    x *= two54;
    hx = detail::high_word(x);
  }
  if (hx >= 0x7ff00000) return x + x;  // +inf, NaN
  k += (hx >> 20) - 1023;
  hx &= 0x000fffff;
  std::int32_t i = (hx + 0x95f64) & 0x100000;
  x = detail::with_high_word(x, hx | (i ^ 0x3ff00000));  // normalise x or x/2
  k += i >> 20;
  const double f = x - 1.0;
  if ((0x000fffff & (2 + hx)) < 3) {  // -2^-20 <= f < 2^-20
    if (f == 0.0) {
      if (k == 0) return 0.0;
      const double dk = static_cast<double>(k);
      return dk * ln2_hi + dk * ln2_lo;
    }
    const double R = f * f * (0.5 - 0.33333333333333333 * f);
    if (k == 0) return f - R;
    const double dk = static_cast<double>(k);
    return dk * ln2_hi - ((R - dk * ln2_lo) - f);
  }
  const double s = f / (2.0 + f);
  const double dk = static_cast<double>(k);
  const double z = s * s;
  i = hx - 0x6147a;
  const double w = z * z;
  const std::int32_t j = 0x6b851 - hx;
  const double t1 = w * (Lg2 + w * (Lg4 + w * Lg6));
  const double t2 = z * (Lg1 + w * (Lg3 + w * (Lg5 + w * Lg7)));
  i |= j;
  const double R = t2 + t1;
  if (i > 0) {
    const double hfsq = 0.5 * f * f;
    if (k == 0) return f - (hfsq - s * (hfsq + R));
    return dk * ln2_hi - ((hfsq - (s * (hfsq + R) + dk * ln2_lo)) - f);
  }
  if (k == 0) return f - s * (f - R);
  return dk * ln2_hi - ((s * (f - R) - dk * ln2_lo) - f);
}

//! log(1 + x) within 1 ulp (measured max 0.81 ulp): fdlibm s_log1p.c (FreeBSD msun
//! revision). log1p(-1) = -inf, log1p(x < -1) = NaN, log1p(+inf) = +inf, x for |x| < 2^-54,
//! NaN → NaN.
[[gnu::always_inline]] inline double log1p(double x) {
  constexpr double ln2_hi = 6.93147180369123816490e-01;  // 0x3fe62e42fee00000
  constexpr double ln2_lo = 1.90821492927058770002e-10;  // 0x3dea39ef35793c76
  constexpr double Lp1 = 6.666666666666735130e-01;       // 0x3fe5555555555593
  constexpr double Lp2 = 3.999999999940941908e-01;       // 0x3fd999999997fa04
  constexpr double Lp3 = 2.857142874366239149e-01;       // 0x3fd2492494229359
  constexpr double Lp4 = 2.222219843214978396e-01;       // 0x3fcc71c51d8e78af
  constexpr double Lp5 = 1.818357216161805012e-01;       // 0x3fc7466496cb03de
  constexpr double Lp6 = 1.531383769920937332e-01;       // 0x3fc39a09d078c69f
  constexpr double Lp7 = 1.479819860511658591e-01;       // 0x3fc2f112df3e5244
  const std::int32_t hx = detail::high_word(x);
  const std::int32_t ax = hx & 0x7fffffff;
  std::int32_t k = 1;
  std::int32_t hu = 0;
  double f = 0.0, c = 0.0;
  if (hx < 0x3fda827a) {     // 1 + x < sqrt(2)+
    if (ax >= 0x3ff00000) {  // x <= -1.0, or a NaN with its sign bit set
      if (x == -1.0) return -detail::kInf;
      return x != x ? x + x : detail::kInvalid;
    }
    if (ax < 0x3e200000) {            // |x| < 2^-29
      if (ax < 0x3c900000) return x;  // |x| < 2^-54
      return x - x * x * 0.5;
    }
    if (hx > 0 || hx <= static_cast<std::int32_t>(0xbfd2bec4)) {  // sqrt(2)/2- <= 1+x < sqrt(2)+
      k = 0;
      f = x;
      hu = 1;
    }
  }
  if (hx >= 0x7ff00000) return x + x;  // +inf, NaN
  if (k != 0) {
    double u;
    if (hx < 0x43400000) {
      u = 1.0 + x;
      hu = detail::high_word(u);
      k = (hu >> 20) - 1023;
      c = (k > 0) ? 1.0 - (u - x) : x - (u - 1.0);  // correction term
      c /= u;
    } else {
      u = x;
      hu = detail::high_word(u);
      k = (hu >> 20) - 1023;
      c = 0.0;
    }
    hu &= 0x000fffff;
    // The thresholds above are less strict than this one, so that k == 0 (which does not use
    // the correction term) is never reached from here.
    if (hu < 0x6a09e) {                                // u ~< sqrt(2)
      u = detail::with_high_word(u, hu | 0x3ff00000);  // normalise u
    } else {
      k += 1;
      u = detail::with_high_word(u, hu | 0x3fe00000);  // normalise u/2
      hu = (0x00100000 - hu) >> 2;
    }
    f = u - 1.0;
  }
  const double hfsq = 0.5 * f * f;
  const double dk = static_cast<double>(k);
  if (hu == 0) {  // |f| < 2^-20
    if (f == 0.0) {
      if (k == 0) return 0.0;
      c += dk * ln2_lo;
      return dk * ln2_hi + c;
    }
    const double R = hfsq * (1.0 - 0.66666666666666666 * f);
    if (k == 0) return f - R;
    return dk * ln2_hi - ((R - (dk * ln2_lo + c)) - f);
  }
  const double s = f / (2.0 + f);
  const double z = s * s;
  const double R = z * (Lp1 + z * (Lp2 + z * (Lp3 + z * (Lp4 + z * (Lp5 + z * (Lp6 + z * Lp7))))));
  if (k == 0) return f - (hfsq - s * (hfsq + R));
  return dk * ln2_hi - ((hfsq - (s * (hfsq + R) + (dk * ln2_lo + c))) - f);
}

//! e^x − 1 within 1 ulp (measured max 0.79 ulp): fdlibm s_expm1.c (FreeBSD msun revision).
//! expm1(x > 709.78…) = +inf, expm1(x < -56 ln2) = -1, expm1(-inf) = -1, x for |x| < 2^-54,
//! NaN → NaN.
[[gnu::always_inline]] inline double expm1(double x) {
  constexpr double o_threshold = 7.09782712893383973096e+02;  // 0x40862e42fefa39ef
  constexpr double ln2_hi = 6.93147180369123816490e-01;       // 0x3fe62e42fee00000
  constexpr double ln2_lo = 1.90821492927058770002e-10;       // 0x3dea39ef35793c76
  constexpr double invln2 = 1.44269504088896338700e+00;       // 0x3ff71547652b82fe
  // fdlibm's Q_n scaled by 2^n, for R(2z) with z = x²/2.
  constexpr double Q1 = -3.33333333333331316428e-02;  // 0xbfa11111111110f4
  constexpr double Q2 = 1.58730158725481460165e-03;   // 0x3f5a01a019fe5585
  constexpr double Q3 = -7.93650757867487942473e-05;  // 0xbf14ce199eaadbb7
  constexpr double Q4 = 4.00821782732936239552e-06;   // 0x3ed0cfca86e65239
  constexpr double Q5 = -2.01099218183624371326e-07;  // 0xbe8afdb76e09c32d
  std::uint32_t hx = static_cast<std::uint32_t>(detail::high_word(x));
  const bool negative = (hx & 0x80000000u) != 0;
  hx &= 0x7fffffffu;  // high word of |x|
  // Huge and non-finite arguments.
  if (hx >= 0x4043687au) {    // |x| >= 56 ln2
    if (hx >= 0x40862e42u) {  // |x| >= 709.78…
      if (hx >= 0x7ff00000u) {
        if (((hx & 0xfffffu) | detail::low_word(x)) != 0) return x + x;  // NaN
        return negative ? -1.0 : x;                                      // ±inf
      }
      if (x > o_threshold) return detail::kInf;
    }
    if (negative) return -1.0;  // x < -56 ln2
  }
  // Argument reduction.
  double hi, lo, c = 0.0;
  std::int32_t k;
  if (hx > 0x3fd62e42u) {    // |x| > ln2/2
    if (hx < 0x3ff0a2b2u) {  // and |x| < 1.5 ln2
      if (!negative) {
        hi = x - ln2_hi;
        lo = ln2_lo;
        k = 1;
      } else {
        hi = x + ln2_hi;
        lo = -ln2_lo;
        k = -1;
      }
    } else {
      k = static_cast<std::int32_t>(invln2 * x + (negative ? -0.5 : 0.5));
      const double t = static_cast<double>(k);
      hi = x - t * ln2_hi;  // t·ln2_hi is exact here
      lo = t * ln2_lo;
    }
    x = hi - lo;
    c = (hi - x) - lo;
  } else if (hx < 0x3c900000u) {  // |x| < 2^-54
    return x;
  } else {
    k = 0;
  }
  // x is now in the primary range.
  const double hfx = 0.5 * x;
  const double hxs = x * hfx;
  const double r1 = 1.0 + hxs * (Q1 + hxs * (Q2 + hxs * (Q3 + hxs * (Q4 + hxs * Q5))));
  double t = 3.0 - r1 * hfx;
  double e = hxs * ((r1 - t) / (6.0 - x * t));
  if (k == 0) return x - (x * e - hxs);                                    // c is 0
  const double twopk = detail::from_words(0x3ff00000 + k * (1 << 20), 0);  // 2^k
  e = (x * (e - c) - c);
  e -= hxs;
  if (k == -1) return 0.5 * (x - e) - 0.5;
  if (k == 1) {
    if (x < -0.25) return -2.0 * (e - (x + 0.5));
    return 1.0 + 2.0 * (x - e);
  }
  if (k <= -2 || k > 56) {  // exp(x) − 1 suffices
    double y = 1.0 - (e - x);
    if (k == 1024) {
      y = y * 2.0 * 0x1p1023;
    } else {
      y = y * twopk;
    }
    return y - 1.0;
  }
  double y;
  if (k < 20) {
    t = detail::from_words(0x3ff00000 - (0x200000 >> k), 0);  // 1 − 2^-k
    y = t - (e - x);
    y = y * twopk;
  } else {
    t = detail::from_words((0x3ff - k) << 20, 0);  // 2^-k
    y = x - (e + t);
    y += 1.0;
    y = y * twopk;
  }
  return y;
}

}  // namespace tvk::elementary

#pragma GCC diagnostic pop
