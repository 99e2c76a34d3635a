#include "core/io/hdf5_handle.h"

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

}  // namespace tvk
