#include "core/results/results_table.h"

#include <array>
#include <charconv>
#include <cmath>
#include <set>
#include <stdexcept>
#include <system_error>

namespace tvk {

std::string_view column_kind_name(ColumnKind kind) {
  switch (kind) {
    case ColumnKind::kDouble:
      return "f64";
    case ColumnKind::kInt64:
      return "i64";
    case ColumnKind::kBool:
      return "bool";
    case ColumnKind::kString:
      return "str";
  }
  return "?";
}

std::size_t Column::size() const {
  return std::visit([](const auto& values) { return values.size(); }, values);
}

std::size_t Table::rows() const {
  return columns.empty() ? 0 : columns.front().size();
}

const Column* Table::find(std::string_view name) const {
  for (const Column& column : columns) {
    if (column.name == name) return &column;
  }
  return nullptr;
}

Column* Table::find(std::string_view name) {
  for (Column& column : columns) {
    if (column.name == name) return &column;
  }
  return nullptr;
}

void Table::check_shape() const {
  std::set<std::string_view> seen;
  for (std::size_t i = 0; i < columns.size(); ++i) {
    const Column& column = columns[i];
    if (column.name.empty()) {
      throw std::invalid_argument("table column " + std::to_string(i) + " has an empty name");
    }
    if (!seen.insert(column.name).second) {
      throw std::invalid_argument("table column '" + column.name + "' appears twice");
    }
    if (column.size() != rows()) {
      throw std::invalid_argument("table column '" + column.name + "' has " +
                                  std::to_string(column.size()) + " rows, but column '" +
                                  columns.front().name + "' has " + std::to_string(rows()));
    }
  }
}

namespace {

void check_same_schema(const Table& target, const Table& source) {
  if (target.columns.size() != source.columns.size()) {
    throw std::invalid_argument("cannot append rows: tables have " +
                                std::to_string(target.columns.size()) + " and " +
                                std::to_string(source.columns.size()) + " columns");
  }
  for (std::size_t i = 0; i < target.columns.size(); ++i) {
    const Column& a = target.columns[i];
    const Column& b = source.columns[i];
    if (a.name != b.name || a.kind() != b.kind()) {
      throw std::invalid_argument("cannot append rows: column " + std::to_string(i) + " is '" +
                                  a.name + "' (" + std::string(column_kind_name(a.kind())) +
                                  ") here but '" + b.name + "' (" +
                                  std::string(column_kind_name(b.kind())) + ") in the source");
    }
  }
}

}  // namespace

Table empty_like(const Table& table) {
  Table result;
  result.columns.reserve(table.columns.size());
  for (const Column& column : table.columns) {
    Column copy{column.name, {}, column.doc};
    // Default-construct the same alternative: the variant's index carries the kind.
    std::visit([&copy](const auto& values) { copy.values = std::decay_t<decltype(values)>{}; },
               column.values);
    result.columns.push_back(std::move(copy));
  }
  return result;
}

void Table::append_row_from(const Table& source, std::size_t row) {
  if (row >= source.rows()) {
    throw std::out_of_range("cannot append row " + std::to_string(row) + ": source has " +
                            std::to_string(source.rows()) + " rows");
  }
  if (columns.empty()) *this = empty_like(source);
  check_same_schema(*this, source);
  for (std::size_t i = 0; i < columns.size(); ++i) {
    std::visit(
        [&source, i, row](auto& values) {
          using Vector = std::decay_t<decltype(values)>;
          values.push_back(std::get<Vector>(source.columns[i].values).at(row));
        },
        columns[i].values);
  }
}

void Table::append_rows_from(const Table& source) {
  if (columns.empty()) *this = empty_like(source);
  check_same_schema(*this, source);
  source.check_shape();
  for (std::size_t i = 0; i < columns.size(); ++i) {
    std::visit(
        [&source, i](auto& values) {
          using Vector = std::decay_t<decltype(values)>;
          const Vector& from = std::get<Vector>(source.columns[i].values);
          values.insert(values.end(), from.begin(), from.end());
        },
        columns[i].values);
  }
}

std::string csv_field(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  quoted += '"';
  return quoted;
}

std::string to_comma_separated_text(const Table& table,
                                    const std::function<std::string(const Column&)>& header,
                                    const std::function<std::string(double)>& number) {
  table.check_shape();
  std::string text;
  for (std::size_t i = 0; i < table.columns.size(); ++i) {
    if (i > 0) text += ',';
    text += csv_field(header(table.columns[i]));
  }
  text += '\n';
  for (std::size_t row = 0; row < table.rows(); ++row) {
    for (std::size_t i = 0; i < table.columns.size(); ++i) {
      if (i > 0) text += ',';
      const ColumnValues& values = table.columns[i].values;
      switch (table.columns[i].kind()) {
        case ColumnKind::kDouble:
          text += number(std::get<std::vector<double>>(values)[row]);
          break;
        case ColumnKind::kInt64:
          text += std::to_string(std::get<std::vector<std::int64_t>>(values)[row]);
          break;
        case ColumnKind::kBool:
          // The stored number, not a normalised 0/1, so a stray 2 shows up in a diff.
          text += std::to_string(std::get<std::vector<std::uint8_t>>(values)[row]);
          break;
        case ColumnKind::kString:
          text += csv_field(std::get<std::vector<std::string>>(values)[row]);
          break;
      }
    }
    text += '\n';
  }
  return text;
}

std::string to_canonical_text(const Table& table) {
  return to_comma_separated_text(
      table,
      [](const Column& column) {
        return column.name + ":" + std::string(column_kind_name(column.kind()));
      },
      format_shortest);
}

std::vector<std::string> parse_csv_record(std::string_view line) {
  std::vector<std::string> fields;
  std::string field;
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.push_back(field);
      field.clear();
    } else if (c != '\r') {
      field += c;
    }
  }
  if (quoted) throw std::invalid_argument("unterminated quoted field");
  fields.push_back(field);
  return fields;
}

}  // namespace tvk
