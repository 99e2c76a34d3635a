#pragma once
//! \file IEEE binary16 (half precision) conversions for 16-bit KV caches: exact widening to
//! float, and narrowing with round-to-nearest-even (overflow to ±inf, NaN kept quiet).

#include <bit>
#include <cmath>
#include <cstdint>

namespace tvk {

//! The float value of binary16 bits h (exact).
inline float from_binary16(std::uint16_t h) {
  const std::uint32_t bits = h;
  const std::uint32_t exponent = bits & 0x7c00u;
  if (exponent == 0x7c00u) {  // inf or NaN
    return std::bit_cast<float>(((bits & 0x8000u) << 16) | 0x7f800000u | ((bits & 0x3ffu) << 13));
  }
  // The magnitude bits in a float's place are the value times 2^-112, subnormals included.
  const float magnitude = std::bit_cast<float>((bits & 0x7fffu) << 13) * 0x1p112f;
  return std::bit_cast<float>(std::bit_cast<std::uint32_t>(magnitude) | ((bits & 0x8000u) << 16));
}

//! The binary16 nearest to f (ties to even).
inline std::uint16_t to_binary16(float f) {
  std::uint32_t x = std::bit_cast<std::uint32_t>(f);
  const auto sign = static_cast<std::uint16_t>((x >> 16) & 0x8000u);
  x &= 0x7fffffffu;
  if (x >= 0x7f800000u)
    return static_cast<std::uint16_t>(sign | (x > 0x7f800000u ? 0x7e00u : 0x7c00u));
  if (x >= 0x477ff000u) return static_cast<std::uint16_t>(sign | 0x7c00u);  // >= 65520: inf
  if (x < 0x38800000u) {  // below 2^-14: a subnormal half, round(|f| 2^24) units of 2^-24
    const float units = std::nearbyint(std::bit_cast<float>(x) * 0x1p24f);
    return static_cast<std::uint16_t>(sign | static_cast<std::uint32_t>(units));
  }
  x += 0xfffu + ((x >> 13) & 1u);  // round the 13 dropped bits to nearest even
  return static_cast<std::uint16_t>(sign | ((x - (112u << 23)) >> 13));
}

}  // namespace tvk
