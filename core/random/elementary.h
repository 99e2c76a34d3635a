#pragma once
//! \file A branch-free log for the normal generator's tail (normal_block.h), in plain IEEE
//! arithmetic (fdlibm's polynomial, Sun Microsystems, public domain), so that every platform
//! gives the same bits: libm's log may differ between versions, which would make draws differ
//! between machines. The build disables FMA contraction (-ffp-contract=off), so it is
//! evaluated exactly as written.

#include <bit>
#include <cstdint>

namespace tvk::elementary {

inline constexpr std::uint64_t kOneBits = 0x3ff0000000000000ULL;  // bits of 1.0

//! Natural log of a positive normal double, within 1 ulp (fdlibm e_log.c without its
//! special cases: no zero, subnormal, negative, inf or NaN input).
inline double log_positive_normal(double x) {
  constexpr double ln2_hi = 6.93147180369123816490e-01;
  constexpr double ln2_lo = 1.90821492927058770002e-10;
  constexpr double Lg1 = 6.666666666666735130e-01, Lg2 = 3.999999999940941908e-01,
                   Lg3 = 2.857142874366239149e-01, Lg4 = 2.222219843214978396e-01,
                   Lg5 = 1.818357216161805012e-01, Lg6 = 1.531383769920937332e-01,
                   Lg7 = 1.479819860511658591e-01;
  const std::uint64_t bits = std::bit_cast<std::uint64_t>(x);
  // x = 2^k (1 + f) with sqrt(2)/2 < 1 + f < sqrt(2): the exponent is raised by one where
  // the mantissa's high bits exceed those of sqrt(2) (fdlibm's 0x95f64 test).
  const std::uint64_t high = (bits >> 32) & 0x000fffffULL;
  const std::uint64_t up = (high + 0x95f64ULL) & 0x100000ULL;
  const std::uint64_t exponent = (bits >> 52) + (up >> 20);  // biased, 1 .. 2047
  const double m =
      std::bit_cast<double>(((high | (up ^ 0x3ff00000ULL)) << 32) | (bits & 0xffffffffULL));
  // k as a double without an int-to-double conversion (which AVX2 lacks for 64-bit lanes):
  // 2^52 + exponent has exponent in its low mantissa bits.
  const double k = std::bit_cast<double>(0x4330000000000000ULL | exponent) - 4503599627371519.0;
  const double f = m - 1.0;
  const double s = f / (2.0 + f);
  const double z = s * s;
  const double w = z * z;
  const double t1 = w * (Lg2 + w * (Lg4 + w * Lg6));
  const double t2 = z * (Lg1 + w * (Lg3 + w * (Lg5 + w * Lg7)));
  const double r = t2 + t1;
  const double hfsq = 0.5 * f * f;
  return k * ln2_hi - ((hfsq - (s * (hfsq + r) + k * ln2_lo)) - f);
}

}  // namespace tvk::elementary
