#pragma once
//! \file RAII ownership of HDF5 C API identifiers (hid_t) and error translation.
//! Every identifier tvk opens lives in an Hdf5Handle, which closes it with the function that
//! matches its kind; every failing H5 call becomes an exception whose message names the file and
//! the object. The HDF5 library's own error-stack printing is silenced so that users see one
//! message, not a page of stack frames. Not thread-safe: Debian's libhdf5 is a serial build, so
//! callers keep all HDF5 work on one thread. Also the pieces every reader and writer of this
//! layer shares: datatype-class names for messages, file creation and chunked, shuffled and
//! deflated datasets (attributes live in hdf5_attributes.h).

#include <hdf5.h>

#include <cstddef>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace tvk {

//! An HDF5 call failed for a reason that is not the user's input (disk full, permissions,
//! library error). The message names the file and object, e.g.
//! "out.h5.tmp: dataset 'points': cannot write (No space left on device)".
class Hdf5Error : public std::runtime_error {
 public:
  explicit Hdf5Error(const std::string& message) : std::runtime_error(message) {}
};

//! What an identifier refers to; selects the close function.
enum class Hdf5Kind {
  kFile,          //!< H5Fclose
  kGroup,         //!< H5Gclose
  kDataset,       //!< H5Dclose
  kDataspace,     //!< H5Sclose
  kDatatype,      //!< H5Tclose
  kAttribute,     //!< H5Aclose
  kPropertyList,  //!< H5Pclose
};

//! Move-only owner of one HDF5 identifier. An empty handle holds H5I_INVALID_HID.
class Hdf5Handle {
 public:
  //! An empty handle.
  Hdf5Handle() noexcept = default;
  //! Takes ownership of `id` (which must be valid, i.e. >= 0) of the given kind.
  Hdf5Handle(hid_t id, Hdf5Kind kind) noexcept : id_(id), kind_(kind) {}
  ~Hdf5Handle() { reset(); }

  Hdf5Handle(const Hdf5Handle&) = delete;
  Hdf5Handle& operator=(const Hdf5Handle&) = delete;
  Hdf5Handle(Hdf5Handle&& other) noexcept : id_(other.release()), kind_(other.kind_) {}
  Hdf5Handle& operator=(Hdf5Handle&& other) noexcept;

  //! The identifier, for passing to H5 calls; ownership stays here.
  hid_t get() const noexcept { return id_; }
  //! The kind given at construction.
  Hdf5Kind kind() const noexcept { return kind_; }
  //! True when an identifier is held.
  bool valid() const noexcept { return id_ >= 0; }
  explicit operator bool() const noexcept { return valid(); }

  //! Gives up ownership without closing; returns the identifier.
  hid_t release() noexcept;
  //! Closes the identifier (if any), ignoring a failure: for destructors and unwinding.
  void reset() noexcept;
  //! Closes the identifier and throws Hdf5Error naming `where` if the close fails. Use it for
  //! files being written: H5Fclose flushes, so a full disk surfaces here.
  void close(std::string_view where);

 private:
  hid_t id_ = H5I_INVALID_HID;
  Hdf5Kind kind_ = Hdf5Kind::kFile;
};

//! Turns off HDF5's automatic error-stack printing for the calling thread (it is per thread
//! in thread-safe builds, global otherwise). Cheap; every function of this layer calls it.
void silence_hdf5_error_printing() noexcept;

//! The innermost description on the calling thread's HDF5 error stack (e.g. "unable to open
//! file: ... errno = 2, error message = 'No such file or directory'"), or "" when empty.
std::string hdf5_error_detail();

//! Wraps the result of an H5 create/open call: throws Hdf5Error
//! "<where>: cannot <action> (<detail>)" when `id` < 0, otherwise returns the owning handle.
Hdf5Handle checked_handle(hid_t id, Hdf5Kind kind, std::string_view where, std::string_view action);

//! Throws Hdf5Error "<where>: cannot <action> (<detail>)" when `status` < 0.
void check_hdf5(herr_t status, std::string_view where, std::string_view action);

//! Opens an existing HDF5 file read-only. Throws InputError naming the file when it does not
//! exist, is not an HDF5 file or cannot be opened.
Hdf5Handle open_hdf5_file_read_only(const std::filesystem::path& path);

//! Opens dataset `name` (may contain '/') in an open file. Throws InputError
//! "<file>: dataset '<name>': does not exist" (or names the object that is not a dataset).
Hdf5Handle open_hdf5_dataset(const Hdf5Handle& file, const std::filesystem::path& path,
                             std::string_view name);

//! "<file>: <kind> '<name>'" (e.g. "out.h5: dataset 'points'"), the prefix of messages about one
//! object.
std::string hdf5_object_label(const std::filesystem::path& path, std::string_view kind,
                              std::string_view name);

//! The extent of dataspace `space`, one entry per axis (empty for a scalar). Throws Hdf5Error
//! naming `where` when it cannot be read.
std::vector<hsize_t> hdf5_extent(hid_t space, std::string_view where);

//! The name of a datatype class in messages: "integer", "float", "string", "compound", "enum",
//! "array", "variable-length sequence", "opaque", "bitfield", "reference", "time" or "unknown".
std::string hdf5_class_name(H5T_class_t type_class);

//! Runs `body` and returns its result; an Hdf5Error it throws is rethrown as InputError with the
//! same message. For readers: a failing H5 call while reading means a corrupt or unexpected
//! file, which is bad input (exit code 2), not a library fault.
template <class Body>
auto as_input_error(Body&& body) {
  try {
    return body();
  } catch (const Hdf5Error& error) {
    throw InputError(error.what());
  }
}

//! H5Pcreate(plist_class) as an owning handle; throws Hdf5Error naming `where` on failure.
Hdf5Handle create_property_list(hid_t plist_class, std::string_view where);

//! Creates (truncating) the HDF5 file `path` with attribute creation order tracked and indexed,
//! so that readers list root attributes in the order they were written. Failures throw
//! Hdf5Error: property-list failures name `label`, the create itself names `path`.
Hdf5Handle create_hdf5_file(const std::filesystem::path& path, std::string_view label);

//! Creates an HDF5 file in memory (the core driver, no backing file) with create_hdf5_file's
//! attribute order; hdf5_file_image() then gives its bytes. Results files are built this way
//! and written to disk by tvk itself, so a full disk is a clean error rather than an HDF5
//! close that fails half-way (HDF5 1.10 then crashes at exit flushing the half-closed file).
Hdf5Handle create_hdf5_file_in_memory(std::string_view label);

//! The complete bytes of an open file (flushed first); throws Hdf5Error naming `label`.
std::string hdf5_file_image(hid_t file, std::string_view label);

//! Upper bound on the bytes of one chunk tvk writes: big enough for deflate to work well, small
//! enough that a reader of one row (or one attention head) does not decompress megabytes.
inline constexpr std::size_t kMaxChunkBytes = std::size_t{1} << 20;
//! Deflate level of every dataset tvk writes.
inline constexpr unsigned kDeflateLevel = 4;

//! `chunk` (one entry per axis, each >= 1) with its largest axis halved, rounding up, until a
//! chunk of `element_size`-byte elements fits in kMaxChunkBytes.
std::vector<hsize_t> fit_chunk(std::vector<hsize_t> chunk, std::size_t element_size);

//! Extent and chunking of a dataset for write_chunked_dataset.
struct ChunkedLayout {
  std::vector<hsize_t> shape;      //!< the extent written
  std::vector<hsize_t> max_shape;  //!< maximum extent (may hold H5S_UNLIMITED); empty: `shape`
  std::vector<hsize_t> chunk;      //!< one entry per axis, each >= 1 and <= its maximum extent
};

//! Creates dataset `name` (may contain '/'; missing groups are created) under `location`, of
//! file type `file_type`, chunked as `layout` says with shuffle + deflate kDeflateLevel, and
//! writes `data` (elements of `memory_type`, row-major) when the shape holds at least one
//! element. Returns the open dataset, e.g. for attributes. Failures throw Hdf5Error naming
//! `where`.
Hdf5Handle write_chunked_dataset(hid_t location, const std::string& name, hid_t file_type,
                                 hid_t memory_type, const ChunkedLayout& layout, const void* data,
                                 std::string_view where);

}  // namespace tvk
