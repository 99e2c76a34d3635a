#include "core/hdf5/hdf5_attributes.h"

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "core/error.h"

namespace tvk {

std::string attribute_label(std::string_view object_label, std::string_view name) {
  return std::string(object_label) + ": attribute '" + std::string(name) + "'";
}

Hdf5Handle string_type(std::size_t size, H5T_cset_t cset, H5T_str_t padding,
                       std::string_view where) {
  Hdf5Handle type = checked_handle(H5Tcopy(H5T_C_S1), Hdf5Kind::kDatatype, where, "copy type");
  check_hdf5(H5Tset_size(type.get(), size), where, "set string size");
  check_hdf5(H5Tset_strpad(type.get(), padding), where, "set string padding");
  check_hdf5(H5Tset_cset(type.get(), cset), where, "set character set");
  return type;
}

std::string trim_fixed_string(const char* data, std::size_t size, H5T_str_t padding) {
  std::string_view text(data, size);
  if (padding == H5T_STR_SPACEPAD) {
    const std::size_t end = text.find_last_not_of(' ');
    return std::string(end == std::string_view::npos ? std::string_view()
                                                     : text.substr(0, end + 1));
  }
  return std::string(text.substr(0, std::min(text.find('\0'), text.size())));
}

AttributeRead try_read_attribute(hid_t location, const std::string& name, std::string_view where) {
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
      Hdf5Handle memory_type =
          string_type(H5T_VARIABLE, H5Tget_cset(type.get()), H5T_STR_NULLTERM, where);
      char* data = nullptr;
      check_hdf5(H5Aread(attribute.get(), memory_type.get(), &data), where, "read");
      std::string value = data == nullptr ? std::string() : std::string(data);
      H5free_memory(data);
      return {std::move(value), {}};
    }
    const std::size_t size = H5Tget_size(type.get());
    std::string buffer(size, '\0');
    check_hdf5(H5Aread(attribute.get(), type.get(), buffer.data()), where, "read");
    return {trim_fixed_string(buffer.data(), size, H5Tget_strpad(type.get())), {}};
  }
  if (type_class == H5T_FLOAT && scalar) {
    double value = 0.0;
    check_hdf5(H5Aread(attribute.get(), H5T_NATIVE_DOUBLE, &value), where, "read");
    return {value, {}};
  }
  if (type_class == H5T_INTEGER && scalar) {
    std::int64_t value = 0;
    check_hdf5(H5Aread(attribute.get(), H5T_NATIVE_INT64, &value), where, "read");
    return {value, {}};
  }
  if (type_class == H5T_INTEGER && (space_class == H5S_NULL || rank == 1)) {
    std::vector<std::int64_t> values(count > 0 ? static_cast<std::size_t>(count) : 0);
    if (!values.empty()) {
      check_hdf5(H5Aread(attribute.get(), H5T_NATIVE_INT64, values.data()), where, "read");
    }
    return {std::move(values), {}};
  }
  return {std::nullopt, "a " + hdf5_class_name(type_class) + " of rank " + std::to_string(rank)};
}

namespace {

[[noreturn]] void throw_unsupported(std::string_view where, const std::string& what) {
  throw InputError(std::string(where) + ": unsupported attribute (" + what +
                   "; expected a string, a number or a 1-D integer vector)");
}

}  // namespace

AttributeValue read_attribute(hid_t location, const std::string& name, std::string_view where) {
  AttributeRead read = try_read_attribute(location, name, where);
  if (!read.value) throw_unsupported(where, read.unsupported);
  return std::move(*read.value);
}

AttributeList read_all_attributes(hid_t location, std::string_view object_label,
                                  UnsupportedAttributes policy, std::string_view list_action) {
  std::vector<std::string> names;
  auto collect = [](hid_t, const char* name, const H5A_info_t*, void* data) -> herr_t {
    static_cast<std::vector<std::string>*>(data)->emplace_back(name);
    return 0;
  };
  // The creation-order index fails on objects that do not track it; fall back to name order.
  if (H5Aiterate2(location, H5_INDEX_CRT_ORDER, H5_ITER_INC, nullptr, collect, &names) < 0) {
    names.clear();
    check_hdf5(H5Aiterate2(location, H5_INDEX_NAME, H5_ITER_INC, nullptr, collect, &names),
               object_label, list_action);
  }
  AttributeList list;
  for (const std::string& name : names) {
    const std::string where = attribute_label(object_label, name);
    AttributeRead read = try_read_attribute(location, name, where);
    if (read.value) {
      list.values.attributes.emplace_back(name, std::move(*read.value));
    } else if (policy == UnsupportedAttributes::kThrow) {
      throw_unsupported(where, read.unsupported);
    } else {
      list.unsupported[name] = std::move(read.unsupported);
    }
  }
  return list;
}

void write_string_attribute(hid_t location, const std::string& name, const std::string& value,
                            std::string_view where, H5T_str_t padding) {
  Hdf5Handle type = string_type(H5T_VARIABLE, H5T_CSET_UTF8, padding, where);
  Hdf5Handle space =
      checked_handle(H5Screate(H5S_SCALAR), Hdf5Kind::kDataspace, where, "create dataspace");
  Hdf5Handle attribute = checked_handle(
      H5Acreate2(location, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
      Hdf5Kind::kAttribute, where, "create attribute");
  const char* data = value.c_str();
  check_hdf5(H5Awrite(attribute.get(), type.get(), &data), where, "write attribute");
}

void write_attribute(hid_t location, const std::string& name, const AttributeValue& value,
                     std::string_view object_label, H5T_str_t string_padding) {
  const std::string where = attribute_label(object_label, name);
  if (const auto* text = std::get_if<std::string>(&value)) {
    write_string_attribute(location, name, *text, where, string_padding);
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

}  // namespace tvk
