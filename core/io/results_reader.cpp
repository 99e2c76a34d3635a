#include "core/io/results_reader.h"

#include <hdf5.h>

#include <algorithm>
#include <utility>

#include "core/error.h"

namespace tvk {

namespace {

// A failing H5 call while reading means a corrupt or unexpected file: bad input, exit code 2.
template <class Body>
auto as_input_error(Body&& body) {
  try {
    return body();
  } catch (const Hdf5Error& error) {
    throw InputError(error.what());
  }
}

std::string class_name(H5T_class_t type_class) {
  switch (type_class) {
    case H5T_INTEGER:
      return "integer";
    case H5T_FLOAT:
      return "float";
    case H5T_STRING:
      return "string";
    case H5T_COMPOUND:
      return "compound";
    case H5T_ENUM:
      return "enum";
    case H5T_ARRAY:
      return "array";
    case H5T_VLEN:
      return "variable-length sequence";
    case H5T_OPAQUE:
      return "opaque";
    case H5T_BITFIELD:
      return "bitfield";
    case H5T_REFERENCE:
      return "reference";
    case H5T_TIME:
      return "time";
    default:
      return "unknown";
  }
}

// Fixed-length string bytes up to their padding: NULLTERM/NULLPAD stop at the first NUL,
// SPACEPAD drops trailing spaces.
std::string trim_fixed_string(const char* data, std::size_t size, H5T_str_t padding) {
  std::string_view text(data, size);
  if (padding == H5T_STR_SPACEPAD) {
    const std::size_t end = text.find_last_not_of(' ');
    return std::string(end == std::string_view::npos ? std::string_view()
                                                     : text.substr(0, end + 1));
  }
  return std::string(text.substr(0, std::min(text.find('\0'), text.size())));
}

Hdf5Handle variable_string_type(H5T_cset_t cset, std::string_view where) {
  Hdf5Handle type = checked_handle(H5Tcopy(H5T_C_S1), Hdf5Kind::kDatatype, where, "copy type");
  check_hdf5(H5Tset_size(type.get(), H5T_VARIABLE), where, "set string size");
  check_hdf5(H5Tset_cset(type.get(), cset), where, "set character set");
  return type;
}

AttributeValue read_attribute(hid_t location, const std::string& name, const std::string& where) {
  Hdf5Handle attribute = checked_handle(H5Aopen(location, name.c_str(), H5P_DEFAULT),
                                        Hdf5Kind::kAttribute, where, "open");
  Hdf5Handle type =
      checked_handle(H5Aget_type(attribute.get()), Hdf5Kind::kDatatype, where, "read the type");
  Hdf5Handle space = checked_handle(H5Aget_space(attribute.get()), Hdf5Kind::kDataspace, where,
                                    "read the dataspace");
  const H5S_class_t space_class = H5Sget_simple_extent_type(space.get());
  const int rank = H5Sget_simple_extent_ndims(space.get());
  const hssize_t count = H5Sget_simple_extent_npoints(space.get());
  const H5T_class_t type_class = H5Tget_class(type.get());
  const bool scalar = space_class == H5S_SCALAR;

  if (type_class == H5T_STRING && (scalar || count == 1)) {
    const htri_t variable = H5Tis_variable_str(type.get());
    check_hdf5(static_cast<herr_t>(variable), where, "read the string type");
    if (variable > 0) {
      Hdf5Handle memory_type = variable_string_type(H5Tget_cset(type.get()), where);
      char* data = nullptr;
      check_hdf5(H5Aread(attribute.get(), memory_type.get(), &data), where, "read");
      std::string value = data == nullptr ? std::string() : std::string(data);
      H5free_memory(data);
      return value;
    }
    const std::size_t size = H5Tget_size(type.get());
    std::string buffer(size, '\0');
    check_hdf5(H5Aread(attribute.get(), type.get(), buffer.data()), where, "read");
    return trim_fixed_string(buffer.data(), size, H5Tget_strpad(type.get()));
  }
  if (type_class == H5T_FLOAT && scalar) {
    double value = 0.0;
    check_hdf5(H5Aread(attribute.get(), H5T_NATIVE_DOUBLE, &value), where, "read");
    return value;
  }
  if (type_class == H5T_INTEGER && scalar) {
    std::int64_t value = 0;
    check_hdf5(H5Aread(attribute.get(), H5T_NATIVE_INT64, &value), where, "read");
    return value;
  }
  if (type_class == H5T_INTEGER && (space_class == H5S_NULL || rank == 1)) {
    std::vector<std::int64_t> values(count > 0 ? static_cast<std::size_t>(count) : 0);
    if (!values.empty()) {
      check_hdf5(H5Aread(attribute.get(), H5T_NATIVE_INT64, values.data()), where, "read");
    }
    return values;
  }
  throw InputError(where + ": unsupported attribute (a " + class_name(type_class) + " of rank " +
                   std::to_string(rank) + "; expected a string, a number or a 1-D integer vector)");
}

std::string read_string_attribute(hid_t location, const std::string& name,
                                  const std::string& where) {
  AttributeValue value = read_attribute(location, name, where);
  if (auto* text = std::get_if<std::string>(&value)) return std::move(*text);
  throw InputError(where + ": expected a string attribute");
}

// The dataset's optional string attribute `name`, or "".
std::string optional_doc(hid_t dataset, const std::string& name, const std::string& label) {
  const htri_t exists = H5Aexists(dataset, name.c_str());
  check_hdf5(static_cast<herr_t>(exists), label, "look for attribute '" + name + "'");
  if (exists == 0) return {};
  return read_string_attribute(dataset, name, label + " attribute '" + name + "'");
}

// Reads one field of a compound dataset by name, through a one-member memory compound type:
// HDF5 matches compound members by name, so only that field is converted.
void read_field(hid_t dataset, const std::string& field, hid_t member_type, std::size_t size,
                void* buffer, const std::string& where) {
  Hdf5Handle memory_type =
      checked_handle(H5Tcreate(H5T_COMPOUND, size), Hdf5Kind::kDatatype, where, "create type");
  check_hdf5(H5Tinsert(memory_type.get(), field.c_str(), 0, member_type), where, "add field");
  check_hdf5(H5Dread(dataset, memory_type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer), where,
             "read");
}

Column read_column(hid_t dataset, hid_t file_type, unsigned member, std::size_t rows,
                   const std::string& label) {
  char* raw_name = H5Tget_member_name(file_type, member);
  if (raw_name == nullptr) check_hdf5(-1, label, "read field name");
  Column column;
  column.name = raw_name;
  H5free_memory(raw_name);
  const std::string where = label + " column '" + column.name + "'";
  Hdf5Handle member_type = checked_handle(H5Tget_member_type(file_type, member),
                                          Hdf5Kind::kDatatype, where, "read the type");
  const H5T_class_t member_class = H5Tget_class(member_type.get());
  switch (member_class) {
    case H5T_FLOAT: {
      std::vector<double> values(rows);
      if (rows > 0) {
        read_field(dataset, column.name, H5T_NATIVE_DOUBLE, sizeof(double), values.data(), where);
      }
      column.values = std::move(values);
      break;
    }
    case H5T_INTEGER: {
      // One unsigned byte is how tvk (and this layer's contract) stores booleans.
      if (H5Tget_size(member_type.get()) == 1 && H5Tget_sign(member_type.get()) == H5T_SGN_NONE) {
        std::vector<std::uint8_t> values(rows);
        if (rows > 0) read_field(dataset, column.name, H5T_NATIVE_UINT8, 1, values.data(), where);
        column.values = std::move(values);
      } else {
        std::vector<std::int64_t> values(rows);
        if (rows > 0) {
          read_field(dataset, column.name, H5T_NATIVE_INT64, sizeof(std::int64_t), values.data(),
                     where);
        }
        column.values = std::move(values);
      }
      break;
    }
    case H5T_STRING: {
      std::vector<std::string> values(rows);
      const htri_t variable = H5Tis_variable_str(member_type.get());
      check_hdf5(static_cast<herr_t>(variable), where, "read the string type");
      if (rows > 0 && variable > 0) {
        Hdf5Handle memory_member = variable_string_type(H5Tget_cset(member_type.get()), where);
        std::vector<char*> pointers(rows, nullptr);
        read_field(dataset, column.name, memory_member.get(), sizeof(char*), pointers.data(),
                   where);
        for (std::size_t row = 0; row < rows; ++row) {
          if (pointers[row] != nullptr) values[row] = pointers[row];
          H5free_memory(pointers[row]);
        }
      } else if (rows > 0) {
        const std::size_t size = H5Tget_size(member_type.get());
        const H5T_str_t padding = H5Tget_strpad(member_type.get());
        std::vector<char> buffer(rows * size);
        read_field(dataset, column.name, member_type.get(), size, buffer.data(), where);
        for (std::size_t row = 0; row < rows; ++row) {
          values[row] = trim_fixed_string(buffer.data() + row * size, size, padding);
        }
      }
      column.values = std::move(values);
      break;
    }
    default:
      throw InputError(where + ": unsupported field type (" + class_name(member_class) +
                       "; expected float, integer or string)");
  }
  column.doc = optional_doc(dataset, "doc:" + column.name, label);
  return column;
}

void list_datasets(hid_t group, const std::string& prefix, int depth,
                   std::vector<std::string>& out) {
  if (depth > 64) return;  // guards against hard-link cycles
  std::vector<std::string> children;
  auto collect = [](hid_t, const char* name, const H5L_info_t*, void* data) -> herr_t {
    static_cast<std::vector<std::string>*>(data)->emplace_back(name);
    return 0;
  };
  if (H5Literate(group, H5_INDEX_NAME, H5_ITER_INC, nullptr, collect, &children) < 0) return;
  for (const std::string& child : children) {
    const hid_t id = H5Oopen(group, child.c_str(), H5P_DEFAULT);
    if (id < 0) continue;  // dangling soft or external link
    const H5I_type_t type = H5Iget_type(id);
    const std::string path = prefix.empty() ? child : prefix + "/" + child;
    if (type == H5I_DATASET) out.push_back(path);
    if (type == H5I_GROUP) list_datasets(id, path, depth + 1, out);
    H5Oclose(id);
  }
}

}  // namespace

ResultsReader::ResultsReader(std::filesystem::path path)
    : path_(std::move(path)), file_(open_hdf5_file_read_only(path_)) {}

Provenance ResultsReader::provenance() const {
  return as_input_error([&] {
    silence_hdf5_error_printing();
    const std::string label = path_.string();
    Hdf5Handle root = checked_handle(H5Gopen2(file_.get(), "/", H5P_DEFAULT), Hdf5Kind::kGroup,
                                     label, "open the root group");
    std::vector<std::string> names;
    auto collect = [](hid_t, const char* name, const H5A_info_t*, void* data) -> herr_t {
      static_cast<std::vector<std::string>*>(data)->emplace_back(name);
      return 0;
    };
    // Creation order when the file tracks it (tvk's files do), else name order.
    if (H5Aiterate2(root.get(), H5_INDEX_CRT_ORDER, H5_ITER_INC, nullptr, collect, &names) < 0) {
      names.clear();
      check_hdf5(H5Aiterate2(root.get(), H5_INDEX_NAME, H5_ITER_INC, nullptr, collect, &names),
                 label, "list root attributes");
    }
    Provenance provenance;
    for (const std::string& name : names) {
      provenance.attributes.emplace_back(
          name, read_attribute(root.get(), name, label + ": attribute '" + name + "'"));
    }
    return provenance;
  });
}

bool ResultsReader::has_dataset(std::string_view name) const {
  try {
    (void)open_hdf5_dataset(file_, path_, name);
    return true;
  } catch (const InputError&) {
    return false;
  }
}

std::vector<std::string> ResultsReader::dataset_names() const {
  silence_hdf5_error_printing();
  std::vector<std::string> names;
  list_datasets(file_.get(), "", 0, names);
  std::sort(names.begin(), names.end());
  return names;
}

Table ResultsReader::table(std::string_view name) const {
  Hdf5Handle dataset = open_hdf5_dataset(file_, path_, name);
  const std::string label = hdf5_object_label(path_, "dataset", name);
  return as_input_error([&] {
    Hdf5Handle type =
        checked_handle(H5Dget_type(dataset.get()), Hdf5Kind::kDatatype, label, "read the type");
    Hdf5Handle space = checked_handle(H5Dget_space(dataset.get()), Hdf5Kind::kDataspace, label,
                                      "read the dataspace");
    const H5T_class_t type_class = H5Tget_class(type.get());
    const int rank = H5Sget_simple_extent_ndims(space.get());
    if (type_class != H5T_COMPOUND || rank != 1) {
      throw InputError(label + ": is not a table (expected a 1-D compound dataset, found a " +
                       class_name(type_class) + " dataset of rank " + std::to_string(rank) + ")");
    }
    hsize_t rows = 0;
    check_hdf5(H5Sget_simple_extent_dims(space.get(), &rows, nullptr), label, "read the shape");
    const int members = H5Tget_nmembers(type.get());
    check_hdf5(members, label, "count fields");
    Table table;
    for (int member = 0; member < members; ++member) {
      table.columns.push_back(read_column(dataset.get(), type.get(), static_cast<unsigned>(member),
                                          static_cast<std::size_t>(rows), label));
    }
    return table;
  });
}

NamedArray ResultsReader::array(std::string_view name) const {
  Hdf5Handle dataset = open_hdf5_dataset(file_, path_, name);
  const std::string label = hdf5_object_label(path_, "dataset", name);
  return as_input_error([&] {
    Hdf5Handle type =
        checked_handle(H5Dget_type(dataset.get()), Hdf5Kind::kDatatype, label, "read the type");
    Hdf5Handle space = checked_handle(H5Dget_space(dataset.get()), Hdf5Kind::kDataspace, label,
                                      "read the dataspace");
    const H5T_class_t type_class = H5Tget_class(type.get());
    if (type_class != H5T_FLOAT && type_class != H5T_INTEGER) {
      throw InputError(label + ": is not a numeric array (found a " + class_name(type_class) +
                       " dataset)");
    }
    const int rank = H5Sget_simple_extent_ndims(space.get());
    check_hdf5(rank, label, "read the rank");
    NamedArray array;
    array.name = std::string(name);
    array.shape.resize(static_cast<std::size_t>(rank));
    if (rank > 0) {
      check_hdf5(H5Sget_simple_extent_dims(space.get(), array.shape.data(), nullptr), label,
                 "read the shape");
    }
    const hssize_t count = H5Sget_simple_extent_npoints(space.get());
    check_hdf5(count < 0 ? -1 : 0, label, "count the values");
    array.data.resize(static_cast<std::size_t>(count));
    if (count > 0) {
      check_hdf5(H5Dread(dataset.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                         array.data.data()),
                 label, "read");
    }
    array.doc = optional_doc(dataset.get(), "doc", label);
    return array;
  });
}

Provenance read_provenance(const std::filesystem::path& path) {
  return ResultsReader(path).provenance();
}

Table read_table(const std::filesystem::path& path, std::string_view name) {
  return ResultsReader(path).table(name);
}

NamedArray read_array(const std::filesystem::path& path, std::string_view name) {
  return ResultsReader(path).array(name);
}

}  // namespace tvk
