#pragma once
//! \file The largest and smallest value of a row and whether it holds a NaN, in one vectorised
//! pass: the sort's key map needs the range and the tail profile needs to know whether the row
//! is finite, and both used to cost a scalar pass each.

#include <span>

namespace tvk {

struct ValueRange {
  double top = 0.0;     //!< the largest value (+inf if any); meaningless if has_nan
  double bottom = 0.0;  //!< the smallest value (−inf if any); meaningless if has_nan
  bool has_nan = false;

  //! Every value is a finite number.
  bool finite() const;
};

//! The range of a non-empty row.
ValueRange value_range(std::span<const double> values);

}  // namespace tvk
