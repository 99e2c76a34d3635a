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
  //! The longest row of point p (sizes the buffers and the k histograms).
  virtual std::size_t row_length(std::size_t point) const = 0;
  //! Length of row `row` of point p (rows of a logit store differ in length).
  virtual std::size_t row_length(std::size_t point, std::size_t /*row*/) const {
    return row_length(point);
  }
  //! Called once before point p's rows are filled, from one thread (e.g. to load its data).
  virtual void prepare(std::size_t /*point*/) const {}
  //! Fills `out` (of size row_length(point, row)) with row `row` of point `point`.
  virtual void fill(std::size_t point, std::size_t row, std::span<double> out) const = 0;
};

}  // namespace tvk
