#pragma once
//! \file tvk's own exp, log, log1p and expm1, in plain IEEE double arithmetic and integer bit
//! manipulation only, so that every x86-64 CPU, every SIMD width and every compiler target
//! gives the same bits. glibc's libm picks FMA or non-FMA code paths at run time (ifunc) and
//! its results may then differ in the last bit; libmvec differs again. The build disables FMA
//! contraction (-ffp-contract=off), so each expression is evaluated exactly as written.
//!
//! The algorithms are those of fdlibm (Sun Microsystems; "Permission to use, copy, modify, and
//! distribute this software is freely granted, provided that this notice is preserved"):
//! e_exp.c, e_log.c, s_log1p.c, s_expm1.c (log1p and expm1 as revised in FreeBSD's msun). exp
//! is a branch-free formulation of e_exp.c (its reduction and rational approximation, k from a
//! shifter instead of a conversion, a compensated last sum, the scaling by 2^k in two factors),
//! one template shared by the scalar exp and the lane-wise exp_lanes, so that they cannot
//! drift apart.
//!
//! Errors measured against glibc's long double functions by tests/core/elementary_test.cpp, as
//! |result − exact| in units of the spacing of the doubles at the exact value (2^-1074 for
//! subnormal results); every result is one of the two doubles around the exact value:
//!   exp    max 0.78 ulp (0.72 for normal results), 1.3% not correctly rounded, 6.8 million
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
#include <cstdint>
#include <limits>
#include <type_traits>

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

//! exp for a double or lane-wise for a vector of doubles: fdlibm e_exp.c without branches,
//! written with operators and builtins only (__builtin_bit_cast; ?: on a comparison, which
//! selects lane-wise for vectors), so that the same text means the same arithmetic for both.
//! exp(x) = 2^k exp(r), x = k ln2 + r, |r| <= ln2/2 (a little more where x/ln2 rounds), with
//! r = hi − lo, hi = x − k·ln2_hi exact (ln2_hi has 32 significant bits, |k| < 2^11), and
//! exp(r) = 1 + r + r·c/(2 − c), c = r − r²(P1 + … + P5 r⁸) from fdlibm's Remez approximation
//! of r(e^r + 1)/(e^r − 1) (error below 2^-59), with a compensated final sum.
template <class T>
[[gnu::always_inline]] inline T exp_generic(const T& x) {
  using U = Bits<T>;
  constexpr double o_threshold = 7.09782712893383973096e+02;   // 0x40862e42fefa39ef
  constexpr double u_threshold = -7.45133219101941108420e+02;  // 0xc0874910d52d3051
  constexpr double inv_ln2 = 1.44269504088896338700e+00;       // 0x3ff71547652b82fe
  constexpr double ln2_hi = 6.93147180369123816490e-01;        // 0x3fe62e42fee00000
  constexpr double ln2_lo = 1.90821492927058770002e-10;        // 0x3dea39ef35793c76
  constexpr double P1 = 1.66666666666666019037e-01;            // 0x3fc555555555553e
  constexpr double P2 = -2.77777777770155933842e-03;           // 0xbf66c16c16bebd93
  constexpr double P3 = 6.61375632143793436117e-05;            // 0x3f11566aaf25de2c
  constexpr double P4 = -1.65339022054652515390e-06;           // 0xbebbbd41c5d26bf1
  constexpr double P5 = 4.13813679705723846039e-08;            // 0x3e66376972bea4d0
  // k = round-to-nearest(x/ln2) by the shifter trick: for |x/ln2| < 2^51 the sum lies in
  // [2^52, 2^53), whose spacing is 1, so it is rounded to an integer, and its low mantissa bits
  // hold kBias + k. kBias keeps that count positive for every x in [u_threshold, o_threshold]
  // (k in [-1075, 1024]); outside, k is garbage and the result is replaced below.
  constexpr std::uint64_t kBias = 1100;
  constexpr double shifter = 0x1.8p52 + static_cast<double>(kBias);
  constexpr std::uint64_t shifter_high_bits = 0x4338000000000000ULL;  // bits of 0x1.8p52
  const T t = x * inv_ln2 + shifter;
  const T k = t - shifter;  // exact
  const U biased_k = __builtin_bit_cast(U, t) - shifter_high_bits;
  const T hi = x - k * ln2_hi;
  const T lo = k * ln2_lo;
  const T r = hi - lo;
  const T rr = r * r;
  const T c = r - rr * (P1 + rr * (P2 + rr * (P3 + rr * (P4 + rr * P5))));
  // exp(r) = 1 + hi + (r·c/(2 − c) − lo). fdlibm rounds 1 − ((lo − r·c/(2 − c)) − hi), which
  // costs up to 0.89 ulp (9% of the results misrounded); here 1 + hi is split exactly into
  // s + e (Fast2Sum, |hi| < 1), and only the small terms are rounded before the last sum:
  // at most 0.72 ulp measured for normal results, 1.3% misrounded.
  const T correction = (r * c) / (2.0 - c);  // exp(r) − 1 − r, up to about 0.07
  const T s = 1.0 + hi;
  const T e = hi - (s - 1.0);               // exact: s − 1 is exact (Sterbenz)
  const T y = s + (e + (correction - lo));  // exp(r), in about [0.7, 1.42]
  // 2^k = 2^k1 · 2^k2 with k1 = floor(k/2), k2 = k − k1 in [-538, 512], both normal: y·2^k1 is
  // exact, so the second product rounds once, into the subnormals too (gradual underflow), and
  // y·2^1024 does not overflow on the way.
  const U k1 = biased_k >> 1;  // k1 + kBias/2
  const U k2 = biased_k - k1;  // k2 + kBias/2
  constexpr std::uint64_t exponent_offset = 1023 - kBias / 2;
  const T scale1 = __builtin_bit_cast(T, (k1 + exponent_offset) << 52);
  const T scale2 = __builtin_bit_cast(T, (k2 + exponent_offset) << 52);
  T result = y * scale1 * scale2;
  // Special cases by selects (a lane-wise select for vectors): m ? a : b.
  const T inf = T{} + std::numeric_limits<double>::infinity();
  result = x > o_threshold ? inf : result;
  result = x < u_threshold ? T{} : result;  // also -inf
  result = x != x ? x + x : result;         // NaN: quiet, payload kept
  return result;
}

}  // namespace detail

//! e^x within 1 ulp (measured max 0.78 ulp); gradual underflow for x below about -708.4,
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
