#pragma once
//! \file Writing logit stores (format v1, see core/hdf5/logit_store.h) from C++: for tests and
//! for synthetic q/K/V experiments. Real stores come from the Python extractor in
//! experiments/bert/; both produce files LogitStore::open accepts.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/results/provenance.h"

namespace tvk {

//! One sequence to store. q, k and v are [layers, heads, T, head_dim] row-major, T =
//! token_ids.size(). Values are written as given (NaN included): the reader checks them.
struct StoreSequenceData {
  std::string text;
  std::vector<std::int64_t> token_ids;
  std::vector<float> q, k, v;
};

//! Writes a format-v1 logit store atomically (`<path>.tmp`, then rename; the .tmp is removed on
//! failure). The writer sets `filetype`, `format_version`, `dtype` ("float32"), `num_layers`,
//! `num_heads`, `head_dim`, `scale` (1/sqrt(head_dim)) and `num_sequences`; `extra_attributes`
//! must supply the other provenance attributes of the format (the strings of
//! logit_store_provenance_string_names() but `dtype`, and the floats of
//! logit_store_provenance_float_names()) except `created_utc` (now, when absent) and
//! `max_length` (the longest sequence, when absent), and may add more. Sequences are named 000,
//! 001, ... (wider when there are more than 1000); q, k, v are float32, one chunk per (layer, head)
//! (split along tokens above 1 MiB), shuffle + deflate 4. Bad arguments (no sequences, zero
//! dimensions, a size that does not match, a missing or mistyped required attribute, an attribute
//! the writer owns, a NUL byte in a string) throw std::invalid_argument before any file is created;
//! HDF5 or file-system failures throw Hdf5Error or std::filesystem::filesystem_error. Not
//! thread-safe (serial HDF5).
void write_logit_store(const std::filesystem::path& path, const Provenance& extra_attributes,
                       std::size_t layers, std::size_t heads, std::size_t head_dim,
                       const std::vector<StoreSequenceData>& sequences);

//! Provenance for a store that does not come from a model (tests, synthetic q/K/V): every
//! required string is `description` (model_name "synthetic"; hashes and tokenizer "none"),
//! the verification floats are 0, so write_logit_store accepts it as `extra_attributes`.
Provenance synthetic_store_provenance(const std::string& description);

}  // namespace tvk
