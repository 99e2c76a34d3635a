#include "core/hdf5/results_writer.h"

#include <hdf5.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <set>
#include <stdexcept>

#include "core/hdf5/hdf5_attributes.h"
#include "core/hdf5/hdf5_handle.h"

namespace tvk {

namespace {

// Results files have always recorded NULLPAD on their string attributes (as on the fixed-length
// string columns); keeping it keeps the files byte-identical.
constexpr H5T_str_t kStringPadding = H5T_STR_NULLPAD;

bool has_nul(std::string_view text) {
  return text.find('\0') != std::string_view::npos;
}

bool is_ascii(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

void check_name(std::string_view name, std::string_view what) {
  if (name.empty()) throw std::invalid_argument(std::string(what) + " has an empty name");
  if (has_nul(name)) {
    throw std::invalid_argument(std::string(what) + " name contains a NUL byte");
  }
}

// Every argument error is found here, before a file is created.
void validate(const Provenance& provenance, const std::vector<NamedTable>& tables,
              const std::vector<NamedArray>& arrays) {
  std::set<std::string_view> attribute_names;
  for (const auto& [name, value] : provenance.attributes) {
    check_name(name, "root attribute");
    if (!attribute_names.insert(name).second) {
      throw std::invalid_argument("root attribute '" + name + "' appears twice");
    }
    if (const auto* text = std::get_if<std::string>(&value); text != nullptr && has_nul(*text)) {
      throw std::invalid_argument("root attribute '" + name + "' contains a NUL byte");
    }
  }
  for (const NamedTable& named : tables) {
    check_name(named.name, "table");
    const std::string what = "table '" + named.name + "'";
    if (named.table.columns.empty()) throw std::invalid_argument(what + " has no columns");
    try {
      named.table.check_shape();
    } catch (const std::invalid_argument& error) {
      throw std::invalid_argument(what + ": " + error.what());
    }
    for (const Column& column : named.table.columns) {
      check_name(column.name, what + " column");
      const auto* strings = std::get_if<std::vector<std::string>>(&column.values);
      if (strings == nullptr) continue;
      for (std::size_t row = 0; row < strings->size(); ++row) {
        // Fixed-length null-padded strings cannot hold a NUL: it would end the value early.
        if (has_nul((*strings)[row])) {
          throw std::invalid_argument(what + " column '" + column.name + "' row " +
                                      std::to_string(row) + " contains a NUL byte");
        }
      }
    }
  }
  for (const NamedArray& array : arrays) {
    check_name(array.name, "array");
    hsize_t count = 1;
    for (hsize_t extent : array.shape)
      count *= extent;
    if (array.shape.empty()) count = array.data.size();
    if (count != array.data.size()) {
      throw std::invalid_argument("array '" + array.name + "' has " +
                                  std::to_string(array.data.size()) +
                                  " values but its shape holds " + std::to_string(count));
    }
  }
}

void write_table(hid_t file, const NamedTable& named, std::string_view file_label) {
  const std::string where = std::string(file_label) + ": dataset '" + named.name + "'";
  const Table& table = named.table;
  const std::size_t rows = table.rows();

  // Packed layout: one field per column, in column order.
  struct Field {
    std::size_t offset = 0;
    std::size_t size = 0;
    bool utf8 = false;
  };
  std::vector<Field> fields(table.columns.size());
  std::size_t row_size = 0;
  for (std::size_t i = 0; i < table.columns.size(); ++i) {
    const Column& column = table.columns[i];
    Field& field = fields[i];
    field.offset = row_size;
    switch (column.kind()) {
      case ColumnKind::kDouble:
      case ColumnKind::kInt64:
        field.size = 8;
        break;
      case ColumnKind::kBool:
        field.size = 1;
        break;
      case ColumnKind::kString: {
        field.size = 1;  // HDF5 strings cannot be 0 bytes long
        for (const std::string& value : std::get<std::vector<std::string>>(column.values)) {
          field.size = std::max(field.size, value.size());
          field.utf8 = field.utf8 || !is_ascii(value);
        }
        break;
      }
    }
    row_size += field.size;
  }

  Hdf5Handle memory_type = checked_handle(H5Tcreate(H5T_COMPOUND, row_size), Hdf5Kind::kDatatype,
                                          where, "create compound type");
  Hdf5Handle file_type = checked_handle(H5Tcreate(H5T_COMPOUND, row_size), Hdf5Kind::kDatatype,
                                        where, "create compound type");
  std::vector<unsigned char> buffer(rows * row_size, 0);  // zeros = null padding
  for (std::size_t i = 0; i < table.columns.size(); ++i) {
    const Column& column = table.columns[i];
    const Field& field = fields[i];
    const std::string field_where = where + " column '" + column.name + "'";
    auto insert = [&](hid_t memory_member, hid_t file_member) {
      check_hdf5(H5Tinsert(memory_type.get(), column.name.c_str(), field.offset, memory_member),
                 field_where, "add field");
      check_hdf5(H5Tinsert(file_type.get(), column.name.c_str(), field.offset, file_member),
                 field_where, "add field");
    };
    auto scatter = [&](const auto& values) {
      for (std::size_t row = 0; row < rows; ++row) {
        std::memcpy(buffer.data() + row * row_size + field.offset, &values[row], field.size);
      }
    };
    switch (column.kind()) {
      case ColumnKind::kDouble:
        insert(H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE);
        scatter(std::get<std::vector<double>>(column.values));
        break;
      case ColumnKind::kInt64:
        insert(H5T_NATIVE_INT64, H5T_STD_I64LE);
        scatter(std::get<std::vector<std::int64_t>>(column.values));
        break;
      case ColumnKind::kBool:
        insert(H5T_NATIVE_UINT8, H5T_STD_U8LE);
        scatter(std::get<std::vector<std::uint8_t>>(column.values));
        break;
      case ColumnKind::kString: {
        Hdf5Handle text_type = string_type(field.size, field.utf8 ? H5T_CSET_UTF8 : H5T_CSET_ASCII,
                                           H5T_STR_NULLPAD, field_where);
        insert(text_type.get(), text_type.get());
        const auto& values = std::get<std::vector<std::string>>(column.values);
        for (std::size_t row = 0; row < rows; ++row) {
          std::memcpy(buffer.data() + row * row_size + field.offset, values[row].data(),
                      values[row].size());
        }
        break;
      }
    }
  }

  // Unlimited maximum extent: a chunked dataset needs chunk <= max extent, which a fixed
  // extent of 0 rows would forbid; it also lets a resumed run extend the table.
  const hsize_t chunk_rows = std::max<std::size_t>(
      1, std::min<std::size_t>(rows, kMaxChunkBytes / std::max<std::size_t>(row_size, 1)));
  Hdf5Handle dataset =
      write_chunked_dataset(file, named.name, file_type.get(), memory_type.get(),
                            {{rows}, {H5S_UNLIMITED}, {chunk_rows}}, buffer.data(), where);
  if (!named.doc.empty()) {
    write_string_attribute(dataset.get(), "doc", named.doc, where, kStringPadding);
  }
  for (const Column& column : table.columns) {
    if (column.doc.empty()) continue;
    write_string_attribute(dataset.get(), "doc:" + column.name, column.doc,
                           where + " attribute 'doc:" + column.name + "'", kStringPadding);
  }
}

void write_array(hid_t file, const NamedArray& array, std::string_view file_label) {
  const std::string where = std::string(file_label) + ": dataset '" + array.name + "'";
  ChunkedLayout layout;
  layout.shape = array.shape;
  if (layout.shape.empty()) layout.shape.push_back(array.data.size());
  // A fixed extent of 0 cannot hold a chunk of 1; such axes are declared unlimited.
  for (hsize_t extent : layout.shape) {
    layout.max_shape.push_back(extent == 0 ? H5S_UNLIMITED : extent);
    layout.chunk.push_back(std::max<hsize_t>(extent, 1));
  }
  // Start from the whole array (at least 1 per axis) and halve until a chunk fits.
  layout.chunk = fit_chunk(std::move(layout.chunk), sizeof(double));
  Hdf5Handle dataset = write_chunked_dataset(file, array.name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE,
                                             layout, array.data.data(), where);
  if (!array.doc.empty()) {
    write_string_attribute(dataset.get(), "doc", array.doc, where, kStringPadding);
  }
}

}  // namespace

void write_results_h5(const std::filesystem::path& path, const Provenance& provenance,
                      const std::vector<NamedTable>& tables,
                      const std::vector<NamedArray>& arrays) {
  validate(provenance, tables, arrays);
  silence_hdf5_error_printing();
  const std::string label = path.string();
  // Built in memory, written by tvk: see create_hdf5_file_in_memory.
  std::string image;
  {
    Hdf5Handle file = create_hdf5_file_in_memory(label);
    for (const auto& [name, value] : provenance.attributes) {
      write_attribute(file.get(), name, value, label, kStringPadding);
    }
    for (const NamedTable& table : tables)
      write_table(file.get(), table, label);
    for (const NamedArray& array : arrays)
      write_array(file.get(), array, label);
    image = hdf5_file_image(file.get(), label);
    file.close(label);
  }
  write_file_atomically(path, image, "HDF5 file");
}

}  // namespace tvk
