#pragma once
//! \file Where a sweep's rows come from. A row is a pure function of (point, row index), so
//! any thread, shard or rank can produce any row and results never depend on who did.

#include <cstddef>
#include <span>

namespace tvk {

//! A source of rows, grouped into grid points. Implementations must be thread-safe.
class RowSource {
 public:
  virtual ~RowSource() = default;
  //! Number of grid points.
  virtual std::size_t point_count() const = 0;
  //! Rows of point p.
  virtual std::size_t row_count(std::size_t point) const = 0;
  //! Length of every row of point p (the buffer fill() receives).
  virtual std::size_t row_length(std::size_t point) const = 0;
  //! Fills `out` with row `row` of point `point`.
  virtual void fill(std::size_t point, std::size_t row, std::span<double> out) const = 0;
};

}  // namespace tvk
