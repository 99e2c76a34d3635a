#pragma once
//! \file exp over a whole row at once: max-subtracted weights are the second-largest cost of a
//! sweep row after the sort. With AVX2 and glibc's libmvec the exponentials are computed four
//! at a time (libmvec's exp is accurate to within 4 ulp, documented by glibc); every element,
//! including the last few, goes through the same vector routine, so a value's result never
//! depends on its index.

#include <span>

namespace tvk {

//! out[i] = exp(in[i] − shift). `in` and `out` may alias; sizes must match.
void exp_shifted(std::span<const double> in, double shift, std::span<double> out);

}  // namespace tvk
