#pragma once
//! \file Reading one head of a logit store's q, k or v dataset ([L, heads, rows, d]) into doubles,
//! exactly whatever the stored float type (core/hdf5/logit_store.cpp reads every head so).

#include <hdf5.h>

#include <cstddef>
#include <string>

#include "core/numerics/eigen.h"

namespace tvk {

//! out = the [layer, head, :, :] hyperslab of `dataset` (rows x head_dim, row = token), widened
//! exactly to double: little-endian IEEE binary16 from its raw words (HDF5 1.10 widens half
//! precision bit by bit in software, which took most of the time of reading a decoder store),
//! other 16- and 32-bit floats read as float, anything wider through HDF5's conversion to
//! double. InputError "<label>: non-finite value ... at (layer, head, token, channel)" for a
//! NaN or infinity; HDF5 failures name `label`.
void read_head_slab(hid_t dataset, const std::string& label, std::size_t layer, std::size_t head,
                    std::size_t rows, std::size_t head_dim, Eigen::MatrixXd& out);

}  // namespace tvk
