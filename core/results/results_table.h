#pragma once
//! \file A column-oriented results table: plain data handed from the sweep engine to the
//! writers (HDF5 compound dataset, CSV) and read back by the reader. No HDF5 here.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

// Tables print numbers as format_shortest writes them.
#include "core/text/text.h"

namespace tvk {

//! The values of one column. uint8 holds booleans (0/1); strings become fixed-length ASCII
//! fields in HDF5. The order of the alternatives is ColumnKind's.
using ColumnValues = std::variant<std::vector<double>, std::vector<std::int64_t>,
                                  std::vector<std::uint8_t>, std::vector<std::string>>;

//! Which alternative of ColumnValues a column holds (same order as the variant).
enum class ColumnKind { kDouble = 0, kInt64 = 1, kBool = 2, kString = 3 };

//! Short name of a kind as used by to_canonical_text: "f64", "i64", "bool", "str".
std::string_view column_kind_name(ColumnKind kind);

//! One named, typed column.
struct Column {
  std::string name;
  ColumnValues values;
  std::string doc = {};  //!< one line describing the column, written as an HDF5 attribute

  //! Number of values.
  std::size_t size() const;
  //! Which alternative `values` holds.
  ColumnKind kind() const { return static_cast<ColumnKind>(values.index()); }
};

//! A table: columns of equal length. Plain data; check_shape() validates it.
struct Table {
  std::vector<Column> columns;

  //! Number of rows: the length of the first column, 0 when there are no columns.
  std::size_t rows() const;
  //! The column with this name, or nullptr.
  const Column* find(std::string_view name) const;
  Column* find(std::string_view name);
  //! Throws std::invalid_argument when column names are empty or repeated or column lengths
  //! differ (the message names the column).
  void check_shape() const;
  //! Appends row `row` of `source`. An empty table (no columns) first takes source's schema
  //! (names, kinds, docs); otherwise the schemas must match in order, else
  //! std::invalid_argument. Throws std::out_of_range when row >= source.rows().
  void append_row_from(const Table& source, std::size_t row);
  //! Appends every row of `source` (same schema rule as append_row_from).
  void append_rows_from(const Table& source);
};

//! The same columns (names, kinds, docs) with no rows.
Table empty_like(const Table& table);

//! `text` as an RFC 4180 CSV field: quoted (with inner quotes doubled) only when it contains
//! a comma, a double quote, CR or LF.
std::string csv_field(std::string_view text);

//! Comma-separated text of `table`, the body of to_canonical_text and to_csv_text: a header line
//! of csv_field(header(column)), then one line per row with doubles as number(value), integers
//! in decimal, booleans as the stored byte in decimal (0/1, but a stray 2 shows) and strings as
//! csv_field. Every line ends with '\n'. Calls check_shape().
std::string to_comma_separated_text(const Table& table,
                                    const std::function<std::string(const Column&)>& header,
                                    const std::function<std::string(double)>& number);

//! The fields of one CSV record (the inverse of csv_field on a line): quoted fields may hold
//! commas and doubled quotes; a trailing CR is dropped. Throws std::invalid_argument on an
//! unterminated quoted field.
std::vector<std::string> parse_csv_record(std::string_view line);

//! Canonical text dump for regression tests: a header "name:kind,..." (kinds as in
//! column_kind_name), then one line per row; doubles in shortest round-trip form with NaN as
//! "nan", booleans 0/1, strings as csv_field. Every line ends with '\n'. Calls check_shape().
std::string to_canonical_text(const Table& table);

}  // namespace tvk
