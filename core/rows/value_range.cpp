#include "core/rows/value_range.h"

#include <cmath>

#include "core/kernels/kernel_set.h"

namespace tvk {

bool ValueRange::finite() const {
  return !has_nan && std::isfinite(top) && std::isfinite(bottom);
}

ValueRange value_range(std::span<const double> values) {
  const kernels::RangeResult range =
      kernels::active_kernels().value_range(values.data(), values.size());
  return {range.top, range.bottom, range.has_nan};
}

}  // namespace tvk
