#pragma once
//! \file The byte cost of attention over one row (THEORY §8): a decode step is bound by the
//! bytes it reads. Dense attention reads every key and value in 16-bit floats; a selection reads
//! its summaries, the 16-bit keys it scores exactly and the 16-bit values it keeps.

#include <cstddef>

namespace tvk {

struct ByteModel {
  std::size_t d = 0;   //!< key channels
  std::size_t dv = 0;  //!< value channels

  //! Dense attention over n keys: n (d + dv) 16-bit numbers.
  double dense(std::size_t n) const { return 2.0 * static_cast<double>(n) * (d + dv); }
  //! Exact keys scored.
  double keys(std::size_t count) const { return 2.0 * static_cast<double>(count) * d; }
  //! Values read for the kept keys.
  double values(std::size_t count) const { return 2.0 * static_cast<double>(count) * dv; }
  //! One cell summary in 16-bit numbers: the box is 2 d channels (min, max), centroid-radius
  //! d + 1, their minimum both.
  double cell_summary(bool box, bool centroid) const {
    return 2.0 * static_cast<double>((box ? 2 * d : 0) + (centroid ? d + 1 : 0));
  }
  //! A cell search: summaries read, keys scored exactly, values kept.
  double cell_search(std::size_t summaries, bool box, bool centroid, std::size_t scored,
                     std::size_t kept) const {
    return static_cast<double>(summaries) * cell_summary(box, centroid) + keys(scored) +
           values(kept);
  }
};

}  // namespace tvk
