#include "core/hdf5/results_reader.h"

#include <hdf5.h>

#include <algorithm>
#include <utility>

#include "core/error.h"
#include "core/hdf5/hdf5_attributes.h"

namespace tvk {

namespace {

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
        Hdf5Handle memory_member =
            string_type(H5T_VARIABLE, H5Tget_cset(member_type.get()), H5T_STR_NULLTERM, where);
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
      throw InputError(where + ": unsupported field type (" + hdf5_class_name(member_class) +
                       "; expected float, integer or string)");
  }
  column.doc = optional_doc(dataset, "doc:" + column.name, label);
  return column;
}

// Dataset `name` of the file with the type and dataspace that table() and array() check first.
struct TypedDataset {
  std::string label;  // "<file>: dataset '<name>'"
  Hdf5Handle dataset, type, space;
  H5T_class_t type_class = H5T_NO_CLASS;
};

// A missing dataset is an InputError from open_hdf5_dataset; the rest throws Hdf5Error, which
// callers turn into InputError (as_input_error).
TypedDataset open_typed_dataset(const Hdf5Handle& file, const std::filesystem::path& path,
                                std::string_view name) {
  TypedDataset found;
  found.dataset = open_hdf5_dataset(file, path, name);
  found.label = hdf5_object_label(path, "dataset", name);
  found.type = checked_handle(H5Dget_type(found.dataset.get()), Hdf5Kind::kDatatype, found.label,
                              "read the type");
  found.space = checked_handle(H5Dget_space(found.dataset.get()), Hdf5Kind::kDataspace, found.label,
                               "read the dataspace");
  found.type_class = H5Tget_class(found.type.get());
  return found;
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
    return read_all_attributes(root.get(), label, UnsupportedAttributes::kThrow,
                               "list root attributes")
        .values;
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
  return as_input_error([&] {
    const TypedDataset found = open_typed_dataset(file_, path_, name);
    const std::string& label = found.label;
    const int rank = H5Sget_simple_extent_ndims(found.space.get());
    if (found.type_class != H5T_COMPOUND || rank != 1) {
      throw InputError(label + ": is not a table (expected a 1-D compound dataset, found a " +
                       hdf5_class_name(found.type_class) + " dataset of rank " +
                       std::to_string(rank) + ")");
    }
    hsize_t rows = 0;
    check_hdf5(H5Sget_simple_extent_dims(found.space.get(), &rows, nullptr), label,
               "read the shape");
    const int members = H5Tget_nmembers(found.type.get());
    check_hdf5(members, label, "count fields");
    Table table;
    for (int member = 0; member < members; ++member) {
      table.columns.push_back(read_column(found.dataset.get(), found.type.get(),
                                          static_cast<unsigned>(member),
                                          static_cast<std::size_t>(rows), label));
    }
    return table;
  });
}

NamedArray ResultsReader::array(std::string_view name) const {
  return as_input_error([&] {
    const TypedDataset found = open_typed_dataset(file_, path_, name);
    const std::string& label = found.label;
    if (found.type_class != H5T_FLOAT && found.type_class != H5T_INTEGER) {
      throw InputError(label + ": is not a numeric array (found a " +
                       hdf5_class_name(found.type_class) + " dataset)");
    }
    NamedArray array;
    array.name = std::string(name);
    array.shape = hdf5_extent(found.space.get(), label);
    const hssize_t count = H5Sget_simple_extent_npoints(found.space.get());
    check_hdf5(count < 0 ? -1 : 0, label, "count the values");
    array.data.resize(static_cast<std::size_t>(count));
    if (count > 0) {
      check_hdf5(H5Dread(found.dataset.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                         array.data.data()),
                 label, "read");
    }
    array.doc = optional_doc(found.dataset.get(), "doc", label);
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
