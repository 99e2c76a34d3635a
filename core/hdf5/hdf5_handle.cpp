#include "core/hdf5/hdf5_handle.h"

#include <algorithm>
#include <system_error>
#include <utility>

#include "core/error.h"

namespace tvk {

Hdf5Handle& Hdf5Handle::operator=(Hdf5Handle&& other) noexcept {
  if (this != &other) {
    reset();
    kind_ = other.kind_;
    id_ = other.release();
  }
  return *this;
}

hid_t Hdf5Handle::release() noexcept {
  return std::exchange(id_, H5I_INVALID_HID);
}

namespace {

herr_t close_id(hid_t id, Hdf5Kind kind) noexcept {
  switch (kind) {
    case Hdf5Kind::kFile:
      return H5Fclose(id);
    case Hdf5Kind::kGroup:
      return H5Gclose(id);
    case Hdf5Kind::kDataset:
      return H5Dclose(id);
    case Hdf5Kind::kDataspace:
      return H5Sclose(id);
    case Hdf5Kind::kDatatype:
      return H5Tclose(id);
    case Hdf5Kind::kAttribute:
      return H5Aclose(id);
    case Hdf5Kind::kPropertyList:
      return H5Pclose(id);
  }
  return -1;
}

std::string failure_message(std::string_view where, std::string_view action) {
  std::string message = std::string(where) + ": cannot " + std::string(action);
  const std::string detail = hdf5_error_detail();
  if (!detail.empty()) message += " (" + detail + ")";
  return message;
}

}  // namespace

void Hdf5Handle::reset() noexcept {
  if (valid()) {
    silence_hdf5_error_printing();
    (void)close_id(release(), kind_);
  }
}

void Hdf5Handle::close(std::string_view where) {
  if (!valid()) return;
  silence_hdf5_error_printing();
  check_hdf5(close_id(release(), kind_), where, "close");
}

void silence_hdf5_error_printing() noexcept {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

std::string hdf5_error_detail() {
  std::string detail;
  // Walking upward visits the innermost (most specific) record first; keep only that one.
  auto visit = [](unsigned n, const H5E_error2_t* record, void* out) -> herr_t {
    if (n == 0 && record != nullptr && record->desc != nullptr) {
      *static_cast<std::string*>(out) = record->desc;
    }
    return 0;
  };
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, visit, &detail);
  return detail;
}

Hdf5Handle checked_handle(hid_t id, Hdf5Kind kind, std::string_view where,
                          std::string_view action) {
  if (id < 0) throw Hdf5Error(failure_message(where, action));
  return Hdf5Handle(id, kind);
}

void check_hdf5(herr_t status, std::string_view where, std::string_view action) {
  if (status < 0) throw Hdf5Error(failure_message(where, action));
}

Hdf5Handle open_hdf5_file_read_only(const std::filesystem::path& path) {
  silence_hdf5_error_printing();
  const std::string name = path.string();
  std::error_code error;
  if (!std::filesystem::exists(path, error)) {
    throw InputError(name + ": no such file");
  }
  if (std::filesystem::is_directory(path, error)) {
    throw InputError(name + ": is a directory, not an HDF5 file");
  }
  if (H5Fis_hdf5(name.c_str()) <= 0) {
    throw InputError(name + ": not an HDF5 file (or unreadable)");
  }
  const hid_t id = H5Fopen(name.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (id < 0) throw InputError(failure_message(name, "open HDF5 file for reading"));
  return Hdf5Handle(id, Hdf5Kind::kFile);
}

std::string hdf5_object_label(const std::filesystem::path& path, std::string_view kind,
                              std::string_view name) {
  return path.string() + ": " + std::string(kind) + " '" + std::string(name) + "'";
}

Hdf5Handle open_hdf5_dataset(const Hdf5Handle& file, const std::filesystem::path& path,
                             std::string_view name) {
  silence_hdf5_error_printing();
  const std::string label = hdf5_object_label(path, "dataset", name);
  if (name.empty()) throw InputError(label + ": empty dataset name");
  // H5Lexists fails (rather than answering false) when an intermediate group is missing, so
  // check every prefix of the path in turn.
  std::size_t start = name.front() == '/' ? 1 : 0;
  while (start <= name.size()) {
    std::size_t slash = name.find('/', start);
    if (slash == std::string_view::npos) slash = name.size();
    const std::string prefix(name.substr(0, slash));
    if (H5Lexists(file.get(), prefix.c_str(), H5P_DEFAULT) <= 0) {
      throw InputError(label + ": does not exist");
    }
    start = slash + 1;
  }
  const std::string name_string(name);
  const hid_t id = H5Oopen(file.get(), name_string.c_str(), H5P_DEFAULT);
  if (id < 0) throw InputError(failure_message(label, "open"));
  // H5Oopen also opens groups and named datatypes; only a dataset may be handed out.
  if (H5Iget_type(id) != H5I_DATASET) {
    H5Oclose(id);
    throw InputError(label + ": is not a dataset (it is a group or a named datatype)");
  }
  return Hdf5Handle(id, Hdf5Kind::kDataset);
}

std::vector<hsize_t> hdf5_extent(hid_t space, std::string_view where) {
  const int rank = H5Sget_simple_extent_ndims(space);
  check_hdf5(rank, where, "read the rank");
  std::vector<hsize_t> extent(static_cast<std::size_t>(rank));
  if (rank > 0) {
    check_hdf5(H5Sget_simple_extent_dims(space, extent.data(), nullptr), where, "read the shape");
  }
  return extent;
}

std::string hdf5_class_name(H5T_class_t type_class) {
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

Hdf5Handle create_property_list(hid_t plist_class, std::string_view where) {
  return checked_handle(H5Pcreate(plist_class), Hdf5Kind::kPropertyList, where,
                        "create property list");
}

Hdf5Handle create_hdf5_file(const std::filesystem::path& path, std::string_view label) {
  Hdf5Handle fcpl = create_property_list(H5P_FILE_CREATE, label);
  check_hdf5(H5Pset_attr_creation_order(fcpl.get(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED),
             label, "track attribute order");
  const std::string name = path.string();
  return checked_handle(H5Fcreate(name.c_str(), H5F_ACC_TRUNC, fcpl.get(), H5P_DEFAULT),
                        Hdf5Kind::kFile, name, "create HDF5 file");
}

Hdf5Handle create_hdf5_file_in_memory(std::string_view label) {
  Hdf5Handle fcpl = create_property_list(H5P_FILE_CREATE, label);
  check_hdf5(H5Pset_attr_creation_order(fcpl.get(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED),
             label, "track attribute order");
  Hdf5Handle fapl = create_property_list(H5P_FILE_ACCESS, label);
  check_hdf5(H5Pset_fapl_core(fapl.get(), std::size_t{1} << 20, /*backing_store=*/0), label,
             "use the in-memory driver");
  // The name only identifies the file inside HDF5 (nothing is written to it).
  const std::string name = "tvk-in-memory:" + std::string(label);
  return checked_handle(H5Fcreate(name.c_str(), H5F_ACC_TRUNC, fcpl.get(), fapl.get()),
                        Hdf5Kind::kFile, label, "create HDF5 file in memory");
}

std::string hdf5_file_image(hid_t file, std::string_view label) {
  check_hdf5(H5Fflush(file, H5F_SCOPE_GLOBAL), label, "flush");
  const ssize_t size = H5Fget_file_image(file, nullptr, 0);
  check_hdf5(size < 0 ? -1 : 0, label, "measure the file image");
  std::string image(static_cast<std::size_t>(size), '\0');
  check_hdf5(H5Fget_file_image(file, image.data(), image.size()) < 0 ? -1 : 0, label,
             "read the file image");
  return image;
}

std::vector<hsize_t> fit_chunk(std::vector<hsize_t> chunk, std::size_t element_size) {
  auto bytes = [&] {
    hsize_t total = element_size;
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

namespace {

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

}  // namespace

Hdf5Handle write_chunked_dataset(hid_t location, const std::string& name, hid_t file_type,
                                 hid_t memory_type, const ChunkedLayout& layout, const void* data,
                                 std::string_view where) {
  const std::vector<hsize_t>& max_shape =
      layout.max_shape.empty() ? layout.shape : layout.max_shape;
  Hdf5Handle space = checked_handle(H5Screate_simple(static_cast<int>(layout.shape.size()),
                                                     layout.shape.data(), max_shape.data()),
                                    Hdf5Kind::kDataspace, where, "create dataspace");
  Hdf5Handle dcpl = compressed_layout(layout.chunk, where);
  Hdf5Handle lcpl = intermediate_groups(where);
  Hdf5Handle dataset = checked_handle(H5Dcreate2(location, name.c_str(), file_type, space.get(),
                                                 lcpl.get(), dcpl.get(), H5P_DEFAULT),
                                      Hdf5Kind::kDataset, where, "create");
  hsize_t elements = 1;
  for (hsize_t extent : layout.shape)
    elements *= extent;
  // An empty dataset has nothing to write (and `data` may be null then).
  if (elements > 0) {
    check_hdf5(H5Dwrite(dataset.get(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), where,
               "write");
  }
  return dataset;
}

}  // namespace tvk
