#pragma once
//! \file Outward rounding of computed certificates: one home for `inflate` and its constants
//! (derivation: THEORY §11). Every certificate of a tail mass τ computed in double from
//! exponentials e^{s − ref} is raised by `inflate` so that it bounds the exact tail mass of the
//! computed logits, whatever rounding produced it.

#include <algorithm>
#include <cstddef>

namespace tvk::rounding {

//! The unit roundoff of double (2^-53) and of float (2^-24).
inline constexpr double kUnitDouble = 0x1p-53;
inline constexpr double kUnitFloat = 0x1p-24;

//! The relative slack for n keys: each side of a ratio Σ/Σ is within (2n + 760) u of its exact
//! value (746 u from the exp arguments' rounding, |s − ref| <= 745 for any term that does not
//! underflow, entering once because each denominator holds an exact e^0 = 1; one ulp per exp;
//! (n + 4) u per sum), and 16 (n + 8) u + 2048 u covers both sides with room (THEORY §11).
constexpr double relative_slack(std::size_t n) {
  return (16.0 * (static_cast<double>(n) + 8.0) + 2048.0) * kUnitDouble;
}

//! Weights that underflow (below 2^-1074 relative to a denominator >= 1) each add at most this
//! to a tail mass.
inline constexpr double kUnderflowPerKey = 0x1p-1073;

//! A computed tail mass `raw` over n keys, `outside` of them outside the kept set, rounded up to
//! a certificate (0 when nothing is outside; at most 1).
inline double inflate(double raw, std::size_t outside, std::size_t n) {
  if (outside == 0) return 0.0;
  return std::min(
      1.0, raw * (1.0 + relative_slack(n)) + static_cast<double>(outside) * kUnderflowPerKey);
}

}  // namespace tvk::rounding
