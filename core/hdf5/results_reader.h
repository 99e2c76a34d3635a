#pragma once
//! \file Reading results files back (tests, `tvk merge`, resume). Every failure caused by the
//! file — missing file, not HDF5, missing dataset, wrong type or shape — throws tvk::InputError
//! naming the file and the dataset or attribute.

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/hdf5/hdf5_handle.h"
#include "core/hdf5/results_writer.h"
#include "core/results/results_table.h"

namespace tvk {

//! An open results file; opens once, reads many datasets. Not thread-safe.
class ResultsReader {
 public:
  //! Opens `path` read-only; InputError when missing or not an HDF5 file.
  explicit ResultsReader(std::filesystem::path path);

  //! The file's path as given.
  const std::filesystem::path& path() const { return path_; }

  //! Root attributes in creation order (name order for files that do not track it). Strings
  //! (fixed or variable length) become std::string, floats double, integer scalars int64 and
  //! 1-D integer attributes std::vector<int64>; other shapes or types throw InputError.
  Provenance provenance() const;

  //! True when `name` (may contain '/') exists and is a dataset.
  bool has_dataset(std::string_view name) const;

  //! Paths of every dataset in the file (e.g. "points", "coords/sigma"), sorted.
  std::vector<std::string> dataset_names() const;

  //! A 1-D compound dataset as a Table: float fields become double columns, 1-byte unsigned
  //! integers bool (uint8) columns, other integers int64 columns, strings (fixed or variable
  //! length, trailing padding removed) string columns. Column docs come from the dataset's
  //! "doc:<column>" attributes.
  Table table(std::string_view name) const;

  //! An N-D numeric dataset converted to double, with its shape and "doc" attribute.
  NamedArray array(std::string_view name) const;

 private:
  std::filesystem::path path_;
  Hdf5Handle file_;
};

//! ResultsReader(path).provenance().
Provenance read_provenance(const std::filesystem::path& path);
//! ResultsReader(path).table(name).
Table read_table(const std::filesystem::path& path, std::string_view name);
//! ResultsReader(path).array(name).
NamedArray read_array(const std::filesystem::path& path, std::string_view name);

}  // namespace tvk
