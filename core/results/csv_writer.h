#pragma once
//! \file Writing a results table as CSV (the text pandas reads next to each HDF5 file).

#include <filesystem>
#include <string>

#include "core/results/results_table.h"

namespace tvk {

//! The CSV text of `table`: a header line of column names, then one line per row; numbers in
//! shortest round-trip form (std::to_chars), NaN as an empty field, booleans as 0/1, strings
//! quoted only when needed (RFC 4180). Lines end with '\n'. Throws std::invalid_argument for a
//! ragged table.
std::string to_csv_text(const Table& table);

//! Writes to_csv_text(table) atomically (via `<path>.tmp`). Throws std::invalid_argument for a
//! ragged table and std::filesystem::filesystem_error naming the file when it cannot be written.
void write_csv(const std::filesystem::path& path, const Table& table);

}  // namespace tvk
