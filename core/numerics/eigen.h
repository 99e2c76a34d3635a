#pragma once
//! \file Eigen, for every tvk file that uses it (include this, not <Eigen/Core>).
//!
//! GCC 12 reports -Wmaybe-uninitialized (and, for some, -Wuninitialized) inside its own AVX-512
//! intrinsic headers whenever Eigen's AVX-512 reductions (maxCoeff, norm, ...) are inlined: the
//! self-initialised `__Y` of _mm512_undefined_pd() (GCC bug 105593, fixed in GCC 13). It is a false
//! positive in GCC's header, not in tvk's or Eigen's code, and shows only when tvk is compiled for
//! AVX-512 (CI's -march=x86-64-v4 compile check, -DTVK_NATIVE=ON on such a CPU). GCC applies a
//! diagnostic pragma by source location, also to code inlined from there, so including Eigen (and
//! with it the intrinsic headers) first under the pragma silences exactly those lines.

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <Eigen/Core>
#pragma GCC diagnostic pop
