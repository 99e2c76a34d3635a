#include "core/io/results_writer.h"

#include <hdf5.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <set>
#include <stdexcept>
#include <system_error>

#include "core/io/hdf5_handle.h"

namespace tvk {

const AttributeValue* Provenance::find(std::string_view name) const {
  for (const auto& [key, value] : attributes) {
    if (key == name) return &value;
  }
  return nullptr;
}

void Provenance::set(std::string name, AttributeValue value) {
  for (auto& [key, existing] : attributes) {
    if (key == name) {
      existing = std::move(value);
      return;
    }
  }
  attributes.emplace_back(std::move(name), std::move(value));
}

std::filesystem::path temporary_path(const std::filesystem::path& path) {
  std::filesystem::path tmp = path;
  tmp += ".tmp";
  return tmp;
}

namespace {

// Chunks are capped at 1 MiB: big enough for deflate to work well, small enough that a reader
// of one row does not decompress megabytes.
constexpr std::size_t kMaxChunkBytes = std::size_t{1} << 20;
constexpr unsigned kDeflateLevel = 4;

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

Hdf5Handle create_property_list(hid_t plist_class, std::string_view where) {
  return checked_handle(H5Pcreate(plist_class), Hdf5Kind::kPropertyList, where,
                        "create property list");
}

Hdf5Handle string_type(std::size_t size, bool utf8, std::string_view where) {
  Hdf5Handle type = checked_handle(H5Tcopy(H5T_C_S1), Hdf5Kind::kDatatype, where, "copy type");
  check_hdf5(H5Tset_size(type.get(), size), where, "set string size");
  check_hdf5(H5Tset_strpad(type.get(), H5T_STR_NULLPAD), where, "set string padding");
  check_hdf5(H5Tset_cset(type.get(), utf8 ? H5T_CSET_UTF8 : H5T_CSET_ASCII), where,
             "set character set");
  return type;
}

// A scalar variable-length UTF-8 string attribute: h5py reads it as str, and a long value
// (the resolved config text) lives in the global heap, not in the 64 KiB object header.
void write_string_attribute(hid_t location, const std::string& name, const std::string& value,
                            std::string_view where) {
  Hdf5Handle type = string_type(H5T_VARIABLE, true, where);
  Hdf5Handle space =
      checked_handle(H5Screate(H5S_SCALAR), Hdf5Kind::kDataspace, where, "create dataspace");
  Hdf5Handle attribute = checked_handle(
      H5Acreate2(location, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
      Hdf5Kind::kAttribute, where, "create attribute");
  const char* data = value.c_str();
  check_hdf5(H5Awrite(attribute.get(), type.get(), &data), where, "write attribute");
}

void write_attribute(hid_t location, const std::string& name, const AttributeValue& value,
                     std::string_view file_label) {
  const std::string where = std::string(file_label) + ": attribute '" + name + "'";
  if (const auto* text = std::get_if<std::string>(&value)) {
    write_string_attribute(location, name, *text, where);
    return;
  }
  Hdf5Handle space;
  hid_t file_type = H5T_STD_I64LE;
  hid_t memory_type = H5T_NATIVE_INT64;
  const void* data = nullptr;
  if (const auto* number = std::get_if<double>(&value)) {
    space = checked_handle(H5Screate(H5S_SCALAR), Hdf5Kind::kDataspace, where, "create space");
    file_type = H5T_IEEE_F64LE;
    memory_type = H5T_NATIVE_DOUBLE;
    data = number;
  } else if (const auto* integer = std::get_if<std::int64_t>(&value)) {
    space = checked_handle(H5Screate(H5S_SCALAR), Hdf5Kind::kDataspace, where, "create space");
    data = integer;
  } else {
    const auto& vector = std::get<std::vector<std::int64_t>>(value);
    const hsize_t extent = vector.size();
    space = checked_handle(H5Screate_simple(1, &extent, nullptr), Hdf5Kind::kDataspace, where,
                           "create space");
    data = vector.data();
  }
  Hdf5Handle attribute = checked_handle(
      H5Acreate2(location, name.c_str(), file_type, space.get(), H5P_DEFAULT, H5P_DEFAULT),
      Hdf5Kind::kAttribute, where, "create attribute");
  if (data != nullptr) {
    check_hdf5(H5Awrite(attribute.get(), memory_type, data), where, "write attribute");
  }
}

// Chunked + shuffle + deflate. `chunk` has one entry per axis, each >= 1.
Hdf5Handle compressed_layout(const std::vector<hsize_t>& chunk, std::string_view where) {
  Hdf5Handle dcpl = create_property_list(H5P_DATASET_CREATE, where);
  check_hdf5(H5Pset_chunk(dcpl.get(), static_cast<int>(chunk.size()), chunk.data()), where,
             "set chunk shape");
  check_hdf5(H5Pset_shuffle(dcpl.get()), where, "enable the shuffle filter");
  check_hdf5(H5Pset_deflate(dcpl.get(), kDeflateLevel), where, "enable deflate");
  return dcpl;
}

// Link creation that makes missing groups on the way ("coords/sigma" creates "coords").
Hdf5Handle intermediate_groups(std::string_view where) {
  Hdf5Handle lcpl = create_property_list(H5P_LINK_CREATE, where);
  check_hdf5(H5Pset_create_intermediate_group(lcpl.get(), 1), where, "enable intermediate groups");
  return lcpl;
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
        Hdf5Handle text_type = string_type(field.size, field.utf8, field_where);
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
  const hsize_t extent = rows;
  const hsize_t max_extent = H5S_UNLIMITED;
  Hdf5Handle space = checked_handle(H5Screate_simple(1, &extent, &max_extent), Hdf5Kind::kDataspace,
                                    where, "create dataspace");
  const hsize_t chunk_rows = std::max<std::size_t>(
      1, std::min<std::size_t>(rows, kMaxChunkBytes / std::max<std::size_t>(row_size, 1)));
  Hdf5Handle dcpl = compressed_layout({chunk_rows}, where);
  Hdf5Handle lcpl = intermediate_groups(where);
  Hdf5Handle dataset = checked_handle(H5Dcreate2(file, named.name.c_str(), file_type.get(),
                                                 space.get(), lcpl.get(), dcpl.get(), H5P_DEFAULT),
                                      Hdf5Kind::kDataset, where, "create");
  if (rows > 0) {
    check_hdf5(
        H5Dwrite(dataset.get(), memory_type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer.data()),
        where, "write");
  }
  if (!named.doc.empty()) write_string_attribute(dataset.get(), "doc", named.doc, where);
  for (const Column& column : table.columns) {
    if (column.doc.empty()) continue;
    write_string_attribute(dataset.get(), "doc:" + column.name, column.doc,
                           where + " attribute 'doc:" + column.name + "'");
  }
}

// Chunk shape for an N-D double array: start from the full extent (at least 1 per axis) and
// halve the largest axis until a chunk fits in kMaxChunkBytes.
std::vector<hsize_t> array_chunk(const std::vector<hsize_t>& shape) {
  std::vector<hsize_t> chunk(shape.size());
  std::transform(shape.begin(), shape.end(), chunk.begin(),
                 [](hsize_t extent) { return std::max<hsize_t>(extent, 1); });
  auto bytes = [&chunk] {
    hsize_t total = sizeof(double);
    for (hsize_t extent : chunk)
      total *= extent;
    return total;
  };
  while (bytes() > kMaxChunkBytes) {
    hsize_t& largest = *std::max_element(chunk.begin(), chunk.end());
    largest = (largest + 1) / 2;
  }
  return chunk;
}

void write_array(hid_t file, const NamedArray& array, std::string_view file_label) {
  const std::string where = std::string(file_label) + ": dataset '" + array.name + "'";
  std::vector<hsize_t> shape = array.shape;
  if (shape.empty()) shape.push_back(array.data.size());
  std::vector<hsize_t> max_shape(shape.size());
  // A fixed extent of 0 cannot hold a chunk of 1; such axes are declared unlimited.
  std::transform(shape.begin(), shape.end(), max_shape.begin(),
                 [](hsize_t extent) { return extent == 0 ? H5S_UNLIMITED : extent; });
  Hdf5Handle space = checked_handle(
      H5Screate_simple(static_cast<int>(shape.size()), shape.data(), max_shape.data()),
      Hdf5Kind::kDataspace, where, "create dataspace");
  Hdf5Handle dcpl = compressed_layout(array_chunk(shape), where);
  Hdf5Handle lcpl = intermediate_groups(where);
  Hdf5Handle dataset = checked_handle(H5Dcreate2(file, array.name.c_str(), H5T_IEEE_F64LE,
                                                 space.get(), lcpl.get(), dcpl.get(), H5P_DEFAULT),
                                      Hdf5Kind::kDataset, where, "create");
  if (!array.data.empty()) {
    check_hdf5(H5Dwrite(dataset.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                        array.data.data()),
               where, "write");
  }
  if (!array.doc.empty()) write_string_attribute(dataset.get(), "doc", array.doc, where);
}

// Runs `write(tmp)` and renames tmp onto path; on any exception removes tmp and rethrows.
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

}  // namespace

void write_results_h5(const std::filesystem::path& path, const Provenance& provenance,
                      const std::vector<NamedTable>& tables,
                      const std::vector<NamedArray>& arrays) {
  validate(provenance, tables, arrays);
  silence_hdf5_error_printing();
  const std::string label = path.string();
  write_atomically(path, [&](const std::filesystem::path& tmp) {
    // Track creation order so the reader returns root attributes in the order written.
    Hdf5Handle fcpl = create_property_list(H5P_FILE_CREATE, label);
    check_hdf5(
        H5Pset_attr_creation_order(fcpl.get(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED),
        label, "track attribute order");
    Hdf5Handle file =
        checked_handle(H5Fcreate(tmp.string().c_str(), H5F_ACC_TRUNC, fcpl.get(), H5P_DEFAULT),
                       Hdf5Kind::kFile, tmp.string(), "create HDF5 file");
    for (const auto& [name, value] : provenance.attributes) {
      write_attribute(file.get(), name, value, label);
    }
    for (const NamedTable& table : tables)
      write_table(file.get(), table, label);
    for (const NamedArray& array : arrays)
      write_array(file.get(), array, label);
    // Every other handle above is closed by now (inner scopes), so H5Fclose really closes and
    // flushes; its failure (e.g. disk full) must not be swallowed by a destructor.
    file.close(label);
  });
}

std::string to_csv_text(const Table& table) {
  table.check_shape();
  std::string text;
  for (std::size_t i = 0; i < table.columns.size(); ++i) {
    if (i > 0) text += ',';
    text += csv_field(table.columns[i].name);
  }
  text += '\n';
  for (std::size_t row = 0; row < table.rows(); ++row) {
    for (std::size_t i = 0; i < table.columns.size(); ++i) {
      if (i > 0) text += ',';
      const ColumnValues& values = table.columns[i].values;
      switch (table.columns[i].kind()) {
        case ColumnKind::kDouble: {
          const double value = std::get<std::vector<double>>(values)[row];
          if (!std::isnan(value)) text += format_shortest(value);  // NaN: empty field
          break;
        }
        case ColumnKind::kInt64:
          text += std::to_string(std::get<std::vector<std::int64_t>>(values)[row]);
          break;
        case ColumnKind::kBool:
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

void write_csv(const std::filesystem::path& path, const Table& table) {
  const std::string text = to_csv_text(table);
  write_atomically(path, [&](const std::filesystem::path& tmp) {
    auto fail = [&](std::string_view action) {
      throw std::runtime_error(path.string() + ": cannot " + std::string(action) + " (" +
                               std::strerror(errno) + ")");
    };
    std::FILE* stream = std::fopen(tmp.string().c_str(), "wb");
    if (stream == nullptr) fail("create " + tmp.string());
    const bool written = std::fwrite(text.data(), 1, text.size(), stream) == text.size();
    const int saved_errno = errno;
    // fclose flushes: a full disk may only show here.
    if (std::fclose(stream) != 0 || !written) {
      if (!written) errno = saved_errno;
      fail("write CSV");
    }
  });
}

}  // namespace tvk
