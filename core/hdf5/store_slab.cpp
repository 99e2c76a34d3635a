#include "core/hdf5/store_slab.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "core/error.h"
#include "core/hdf5/hdf5_handle.h"
#include "core/numerics/binary16.h"

namespace tvk {
namespace {

// True for IEEE binary16 stored little-endian (numpy's and torch's float16). Such data are read
// as raw 16-bit words and widened by from_binary16 (exact): HDF5 1.10 widens half precision
// bit by bit in software, which took most of the time of reading a decoder store.
bool is_little_endian_binary16(hid_t type) {
  if (H5Tget_class(type) != H5T_FLOAT || H5Tget_size(type) != 2) return false;
  std::size_t sign = 0, exponent = 0, exponent_bits = 0, mantissa = 0, mantissa_bits = 0;
  if (H5Tget_fields(type, &sign, &exponent, &exponent_bits, &mantissa, &mantissa_bits) < 0)
    return false;
  return H5Tget_order(type) == H5T_ORDER_LE && H5Tget_precision(type) == 16 &&
         H5Tget_offset(type) == 0 && sign == 15 && exponent == 10 && exponent_bits == 5 &&
         mantissa == 0 && mantissa_bits == 10 && H5Tget_ebias(type) == 15 &&
         H5Tget_norm(type) == H5T_NORM_IMPLIED;
}

// Reads the [layer, head, :, :] hyperslab of one of q, k, v (T x d, row = token) as
// memory_type into a vector of Raw.
template <class Raw>
std::vector<Raw> read_raw_slab(hid_t dataset, hid_t memory_type, const std::string& label,
                               std::size_t layer, std::size_t head, std::size_t length,
                               std::size_t head_dim) {
  Hdf5Handle file_space =
      checked_handle(H5Dget_space(dataset), Hdf5Kind::kDataspace, label, "read the dataspace");
  const hsize_t start[4] = {layer, head, 0, 0};
  const hsize_t count[4] = {1, 1, length, head_dim};
  check_hdf5(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start, nullptr, count, nullptr),
             label, "select a head");
  const hsize_t memory_shape[2] = {length, head_dim};
  Hdf5Handle memory_space = checked_handle(H5Screate_simple(2, memory_shape, nullptr),
                                           Hdf5Kind::kDataspace, label, "create a dataspace");
  std::vector<Raw> buffer(length * head_dim);
  check_hdf5(H5Dread(dataset, memory_type, memory_space.get(), file_space.get(), H5P_DEFAULT,
                     buffer.data()),
             label, "read");
  return buffer;
}

// The slab's values (float or double) checked finite and widened exactly into `out`.
template <class Scalar>
void finish_slab(const std::vector<Scalar>& buffer, const std::string& label, std::size_t layer,
                 std::size_t head, std::size_t length, std::size_t head_dim, Eigen::MatrixXd& out) {
  for (std::size_t index = 0; index < buffer.size(); ++index) {
    if (!std::isfinite(buffer[index])) {
      const double value = static_cast<double>(buffer[index]);
      throw InputError(label + ": non-finite value " +
                       std::string(std::isnan(value) ? "nan" : (value > 0 ? "inf" : "-inf")) +
                       " at (layer " + std::to_string(layer) + ", head " + std::to_string(head) +
                       ", token " + std::to_string(index / head_dim) + ", channel " +
                       std::to_string(index % head_dim) + ")");
    }
  }
  using RowMajor = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  out = Eigen::Map<const RowMajor>(buffer.data(), static_cast<Eigen::Index>(length),
                                   static_cast<Eigen::Index>(head_dim))
            .template cast<double>();
}

}  // namespace

void read_head_slab(hid_t dataset, const std::string& label, std::size_t layer, std::size_t head,
                    std::size_t rows, std::size_t head_dim, Eigen::MatrixXd& out) {
  Hdf5Handle type =
      checked_handle(H5Dget_type(dataset), Hdf5Kind::kDatatype, label, "read the type");
  if (is_little_endian_binary16(type.get())) {
    const std::vector<std::uint16_t> words =
        read_raw_slab<std::uint16_t>(dataset, type.get(), label, layer, head, rows, head_dim);
    std::vector<float> values(words.size());
    std::transform(words.begin(), words.end(), values.begin(), from_binary16);
    finish_slab(values, label, layer, head, rows, head_dim, out);
  } else if (H5Tget_size(type.get()) <= sizeof(float)) {
    finish_slab(read_raw_slab<float>(dataset, H5T_NATIVE_FLOAT, label, layer, head, rows, head_dim),
                label, layer, head, rows, head_dim, out);
  } else {
    finish_slab(
        read_raw_slab<double>(dataset, H5T_NATIVE_DOUBLE, label, layer, head, rows, head_dim),
        label, layer, head, rows, head_dim, out);
  }
}

}  // namespace tvk
