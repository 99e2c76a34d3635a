#pragma once
//! \file Writing results files: HDF5 (statepoint-style, see DESIGN.md "Results files") and CSV.
//! Both writers are atomic: they write `<path>.tmp`, close it and rename it onto `path`; on any
//! failure the .tmp is removed and the exception propagates, so no half-written results file is
//! ever left behind. The engine hands finished tables here; this layer never reaches back.

#include <H5public.h>  // hsize_t only

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <variant>
#include <vector>

#include "core/io/results_table.h"

namespace tvk {

//! A root attribute value: strings are written as scalar variable-length UTF-8 strings (h5py
//! reads them as str), numbers as scalars, the int vector (e.g. format_version [major, minor])
//! as a 1-D int64 attribute.
using AttributeValue = std::variant<std::string, double, std::int64_t, std::vector<std::int64_t>>;

//! Root attributes of a results file, in the order they are written (and read back).
struct Provenance {
  std::vector<std::pair<std::string, AttributeValue>> attributes;

  //! The value of attribute `name`, or nullptr.
  const AttributeValue* find(std::string_view name) const;
  //! Replaces the value of `name`, or appends it when absent.
  void set(std::string name, AttributeValue value);
};

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

//! The CSV text of `table`: a header line of column names, then one line per row; numbers in
//! shortest round-trip form (std::to_chars), NaN as an empty field, booleans as 0/1, strings
//! quoted only when needed (RFC 4180). Lines end with '\n'. Throws std::invalid_argument for a
//! ragged table.
std::string to_csv_text(const Table& table);

//! Writes to_csv_text(table) atomically (via `<path>.tmp`). Throws std::invalid_argument for a
//! ragged table and std::runtime_error naming the file when it cannot be written.
void write_csv(const std::filesystem::path& path, const Table& table);

//! `path` with ".tmp" appended: where the writers put the file until it is complete.
std::filesystem::path temporary_path(const std::filesystem::path& path);

//! Runs `write(tmp)` with tmp = temporary_path(path), then renames tmp onto `path`; on any
//! exception removes tmp and rethrows, so no half-written file is ever left behind. `write` must
//! have closed the file (and reported a failing close) before it returns.
template <class Write>
void write_atomically(const std::filesystem::path& path, Write&& write) {
  const std::filesystem::path tmp = temporary_path(path);
  try {
    write(tmp);
    std::filesystem::rename(tmp, path);
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    throw;
  }
}

}  // namespace tvk
