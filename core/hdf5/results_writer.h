#pragma once
//! \file Writing HDF5 results files (statepoint-style; schema in results/README.md); CSV is
//! core/results/csv_writer.h. The writer is atomic: they write `<path>.tmp`, close it and rename it
//! onto `path`; on any failure the .tmp is removed and the exception propagates, so no half-written
//! results file is ever left behind. The engine hands finished tables here; this layer never
//! reaches back.

#include <H5public.h>  // hsize_t only

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/results/atomic_file.h"
#include "core/results/provenance.h"
#include "core/results/results_table.h"

namespace tvk {

//! A table written as a 1-D compound dataset named `name` (may contain '/' for groups).
struct NamedTable {
  std::string name;
  Table table;
  std::string doc = {};  //!< optional "doc" attribute on the dataset
};

//! A plain N-D double dataset, e.g. per-axis coordinates ("coords/sigma") or a tau profile.
//! `shape` must multiply to data.size(); an empty shape means 1-D of data.size().
struct NamedArray {
  std::string name;  //!< may contain '/'; intermediate groups are created
  std::vector<double> data;
  std::vector<hsize_t> shape = {};  //!< empty: 1-D of data.size()
  std::string doc = {};             //!< optional "doc" attribute on the dataset
};

//! Writes a results file atomically (via `<path>.tmp`).
//! - provenance: root attributes;
//! - tables: 1-D compound datasets, one field per column: float64, int64, uint8 (booleans) or
//!   fixed-length null-padded strings (ASCII; UTF-8 when a value needs it) as long as the
//!   longest value (at least 1), so `pd.DataFrame(h5py.File(p)["points"][()])` works; column
//!   docs become dataset attributes "doc:<column>";
//! - arrays: N-D float64 datasets.
//! Every dataset is chunked (chunks <= 1 MiB, at least one element per axis, so 0 rows work)
//! with shuffle + deflate level 4. Bad arguments (ragged table, duplicate or empty names,
//! a string with a NUL byte, shape mismatch) throw std::invalid_argument before any file is
//! created; HDF5 or file-system failures throw Hdf5Error or std::filesystem::filesystem_error.
//! The parent directory must exist. Not thread-safe (HDF5 is a serial build).
void write_results_h5(const std::filesystem::path& path, const Provenance& provenance,
                      const std::vector<NamedTable>& tables,
                      const std::vector<NamedArray>& arrays = {});

}  // namespace tvk
