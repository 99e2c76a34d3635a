#pragma once
//! \file exp over a whole row at once: max-subtracted weights are the second-largest cost of a
//! sweep row after the sort. tvk's own exp (core/numerics/elementary.h, within 1 ulp) runs
//! lane-wise in the active kernel set (core/kernels/); every element, including the last few,
//! goes through the same routine, so a value's result depends neither on its index nor on the
//! CPU.

#include <span>

namespace tvk {

//! out[i] = exp(in[i] − shift). `in` and `out` may alias; sizes must match.
void exp_shifted(std::span<const double> in, double shift, std::span<double> out);

}  // namespace tvk
