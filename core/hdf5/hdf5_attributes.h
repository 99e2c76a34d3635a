#pragma once
//! \file HDF5 attributes as tvk::AttributeValue, and the string datatypes behind them. One
//! implementation for results files (results_reader, results_writer) and logit stores
//! (logit_store, logit_store_writer), so both formats read and write strings, numbers and
//! integer vectors the same way. Every identifier lives in an Hdf5Handle; HDF5 failures throw
//! Hdf5Error naming the attribute. Not thread-safe (serial HDF5).

#include <hdf5.h>

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/hdf5/hdf5_handle.h"
#include "core/results/provenance.h"

namespace tvk {

//! "<object_label>: attribute '<name>'": how messages name one attribute, e.g.
//! "out.h5: attribute 'seed'" or "store.h5: /sequences/001: attribute 'text'".
std::string attribute_label(std::string_view object_label, std::string_view name);

//! A C string datatype of `size` bytes (H5T_VARIABLE for variable length) with character set
//! `cset` and padding `padding`. Failures throw Hdf5Error naming `where`.
Hdf5Handle string_type(std::size_t size, H5T_cset_t cset, H5T_str_t padding,
                       std::string_view where);

//! The text of `size` fixed-length string bytes: NULLTERM and NULLPAD stop at the first NUL,
//! SPACEPAD drops trailing spaces.
std::string trim_fixed_string(const char* data, std::size_t size, H5T_str_t padding);

//! One attribute as read: its value, or, when tvk does not read its type or shape, what it is.
struct AttributeRead {
  std::optional<AttributeValue> value;  //!< empty when the attribute is unsupported
  std::string unsupported;              //!< e.g. "a float of rank 2", when `value` is empty
};

//! Reads attribute `name` of `location`: a string (fixed or variable length, scalar or of one
//! element) becomes std::string, a scalar float double, a scalar integer int64 and a 1-D (or
//! null-dataspace) integer attribute std::vector<int64>; anything else comes back unsupported.
//! HDF5 failures throw Hdf5Error naming `where`.
AttributeRead try_read_attribute(hid_t location, const std::string& name, std::string_view where);

//! try_read_attribute, but an unsupported attribute throws InputError "<where>: unsupported
//! attribute (<what it is>; expected a string, a number or a 1-D integer vector)".
AttributeValue read_attribute(hid_t location, const std::string& name, std::string_view where);

//! How read_all_attributes treats an attribute of a type or shape tvk does not read.
enum class UnsupportedAttributes {
  kThrow,    //!< InputError (as read_attribute) at the first one
  kCollect,  //!< listed in AttributeList::unsupported; the rest are still read
};

//! Every attribute of one object, as read_all_attributes found them.
struct AttributeList {
  Provenance values;                               //!< the supported ones, in listing order
  std::map<std::string, std::string> unsupported;  //!< name -> what it is (kCollect only)
};

//! Reads every attribute of `location` in creation order when the object tracks it (tvk's
//! writers do) and in name order otherwise (h5py's default); attribute `name` is named
//! attribute_label(object_label, name) in messages. A failure to list them throws Hdf5Error
//! "<object_label>: cannot <list_action>".
AttributeList read_all_attributes(hid_t location, std::string_view object_label,
                                  UnsupportedAttributes policy,
                                  std::string_view list_action = "list attributes");

//! Writes `value` as a scalar variable-length UTF-8 string attribute `name` of `location`: h5py
//! reads it as str, and a long value lives in the global heap, not in the 64 KiB object header.
//! `padding` is only recorded in the type (results files have always said NULLPAD, logit stores
//! NULLTERM like h5py); it does not change the value read back. Throws Hdf5Error naming `where`.
void write_string_attribute(hid_t location, const std::string& name, const std::string& value,
                            std::string_view where, H5T_str_t padding = H5T_STR_NULLTERM);

//! Writes `value` as attribute `name` of `location`: a string through write_string_attribute
//! (with `string_padding`), a double as a scalar float64, an integer as a scalar int64 and an
//! integer vector as a 1-D int64 attribute (h5py reads them as float, int and ndarray). Throws
//! Hdf5Error naming attribute_label(object_label, name).
void write_attribute(hid_t location, const std::string& name, const AttributeValue& value,
                     std::string_view object_label, H5T_str_t string_padding = H5T_STR_NULLTERM);

}  // namespace tvk
