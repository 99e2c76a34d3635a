#include "core/rows/vector_exp.h"

#include "core/kernels/kernel_set.h"

namespace tvk {

void exp_shifted(std::span<const double> in, double shift, std::span<double> out) {
  kernels::active_kernels().exp_shifted(in.data(), in.size(), shift, out.data());
}

}  // namespace tvk
