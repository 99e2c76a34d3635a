#pragma once
//! \file The vector type of this instruction set's kernels (GCC/Clang vector extensions):
//! eight doubles with AVX-512, four otherwise (two SSE2 registers on baseline x86-64). Lanes are
//! independent, so a lane-wise computation gives the same bits at any width.

#include <cstddef>

namespace tvk::kernels::TVK_KERNEL_ISA::lanes {

#if defined(__AVX512F__)
inline constexpr std::size_t kDoubles = 8;
#else
inline constexpr std::size_t kDoubles = 4;
#endif
using Doubles = double __attribute__((vector_size(8 * kDoubles)));

[[gnu::always_inline]] inline Doubles load(const double* p) {
  Doubles v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}

[[gnu::always_inline]] inline void store(double* p, Doubles v) {
  __builtin_memcpy(p, &v, sizeof v);
}

}  // namespace tvk::kernels::TVK_KERNEL_ISA::lanes
