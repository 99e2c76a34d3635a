#pragma once
//! \file Reading a logit store: the per-head query, key and value vectors of real (or synthetic)
//! transformer attention, stored in HDF5 so that any attention row's logits can be recomputed.
//!
//! Store format v1 (written by experiments/bert/ and by write_logit_store):
//! - root attributes: `filetype` = "tvk-logit-store", `format_version` = int64 [1, 0], the
//!   provenance strings `model_name`, `model_source`, `model_config_sha256`,
//!   `model_weights_sha256`, `tokenizer`, `text_source`, `dtype`, `extraction_command`,
//!   `created_utc`, the integers `max_length`, `num_layers`, `num_heads`, `head_dim`,
//!   `num_sequences` and the floats `scale` (1/sqrt(head_dim)), `verification_max_abs_error`,
//!   `verification_tolerance`;
//! - group `/sequences` with one subgroup per sequence, named by its zero-padded index ("000",
//!   "001", ...), holding attributes `length` (T) and `text` and datasets `token_ids` (int [T])
//!   and `q`, `k`, `v` (float32 or float64, [num_layers, num_heads, T, head_dim]).
//! The logits of query i of (sequence, layer, head) are s_j = scale * q[l,h,i,:] . k[l,h,j,:].
//!
//! Store format v2 (decoder models, written by experiments/llm/): v1's root attributes, with
//! `num_heads` the query heads, plus `num_kv_heads`, `kv_head_of_head` (int64 [num_heads]: the
//! KV head each query head reads, grouped-query attention), `causal` (0/1), `layer_ids` (int64
//! [num_layers]: the model layer of each stored layer), `model_num_layers`, the strings
//! `model_package`, `model_package_version`, `gguf_file`, `quantization` and the float
//! `rounding_max_probability_change`; `dtype` may be float16. Each sequence adds `positions`
//! (int64 [T]) and `query_positions` (int64 [Q], ascending: the positions whose queries are
//! stored), and holds q [L, H, Q, d] and k, v [L, H_kv, T, d]. The logits of stored query r
//! (position i = query_positions[r]) of head h are s_j = scale * q[l,h,r,:] .
//! k[l,kv_head_of_head[h],j,:] for j = 0..i when causal (every j otherwise).
//!
//! Every problem with the file is a tvk::InputError "<file>: <object>: <what>". Not thread-safe:
//! Debian's libhdf5 is a serial build, so callers keep all store access on one thread.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>
#include "core/numerics/eigen.h"

#include "core/hdf5/hdf5_handle.h"
#include "core/results/provenance.h"

namespace tvk {

//! The `filetype` root attribute of every logit store.
inline constexpr std::string_view kLogitStoreFiletype = "tvk-logit-store";
//! The format version write_logit_store writes; open() reads every minor of this major.
inline constexpr std::int64_t kLogitStoreFormatMajor = 1;
inline constexpr std::int64_t kLogitStoreFormatMinor = 0;
//! The newest format open() reads (v2: decoder stores, causal rows, grouped KV heads).
inline constexpr std::int64_t kLogitStoreNewestMajor = 2;

//! Root attributes every v1 store must have that are plain provenance strings (the writer
//! cannot know them; write_logit_store requires them from its caller).
const std::vector<std::string>& logit_store_provenance_string_names();
//! Root attributes every v1 store must have that are provenance floats.
const std::vector<std::string>& logit_store_provenance_float_names();

//! One sequence of a store, as listed by the structure check.
struct StoreSequence {
  std::string name;    //!< subgroup name under /sequences, e.g. "007"
  std::size_t length;  //!< number of tokens T (>= 1)
  std::string text;    //!< the source text of the sequence
  //! Positions whose queries are stored, ascending (v1: every position 0..T-1).
  std::vector<std::size_t> query_positions;
};

//! What open() found: the root attributes and the validated dimensions.
struct LogitStoreInfo {
  Provenance attributes;  //!< every root attribute, in creation order (name order otherwise)
  std::size_t layers;     //!< num_layers
  std::size_t heads;      //!< num_heads (query heads)
  std::size_t kv_heads;   //!< num_kv_heads (v1: num_heads)
  std::vector<std::size_t> kv_head_of;   //!< the KV head of each query head (v1: identity)
  bool causal = false;                   //!< query i sees keys 0..i (v2 decoder stores)
  std::vector<std::int64_t> layer_ids;   //!< model layer of each stored layer (v1: 0..L-1)
  std::size_t head_dim;                  //!< head_dim (d)
  double scale;                          //!< the logit scale, normally 1/sqrt(head_dim)
  std::vector<StoreSequence> sequences;  //!< in index order
  std::int64_t format_major;
  std::int64_t format_minor;
};

//! q, k, v of one (sequence, layer, head) as double matrices, row = token: q holds the stored
//! queries (Q x head_dim), k and v every key of the head's KV head (T x head_dim).
struct HeadVectors {
  Eigen::MatrixXd q, k, v;
  std::vector<std::size_t> query_positions;  //!< position of each row of q (ascending)
  bool causal = false;                       //!< query r sees keys 0..query_positions[r]

  //! Keys query row r sees: query_positions[r] + 1 when causal, else every key.
  std::size_t key_count(std::size_t r) const {
    return causal ? query_positions[r] + 1 : static_cast<std::size_t>(k.rows());
  }
};

//! An open, structurally validated logit store. Move-only: it owns the HDF5 file handle.
class LogitStore {
 public:
  //! Opens and validates the whole structure (not the values): filetype, format_version (major
  //! 1 or 2), the required root attributes and their types, and for every sequence its
  //! attributes and the datasets token_ids [T] (integer) and q, k, v [L, H, T, d] (float)
  //! matching the root attributes and `length`. Throws InputError naming the file and the
  //! object, e.g. "store.h5: /sequences/001/k: shape [6,12,40,32] does not match
  //! [num_layers=6, num_heads=12, length=41, head_dim=32]"; a missing, non-HDF5 or truncated
  //! file is one InputError naming the file.
  static LogitStore open(const std::filesystem::path& path);

  LogitStore(LogitStore&&) noexcept = default;
  LogitStore& operator=(LogitStore&&) noexcept = default;
  LogitStore(const LogitStore&) = delete;
  LogitStore& operator=(const LogitStore&) = delete;
  ~LogitStore() = default;

  //! The path given to open().
  const std::filesystem::path& path() const { return path_; }
  //! The validated structure.
  const LogitStoreInfo& info() const { return info_; }

  //! Reads one head of one sequence (the [layer, head, :, :] hyperslab of each of q, k, v),
  //! converted to double. NaN or inf in the data is an InputError naming the dataset and the
  //! (layer, head, token, channel); an index out of range is std::out_of_range. Not
  //! thread-safe (serial HDF5): callers serialise.
  HeadVectors read_head(std::size_t sequence, std::size_t layer, std::size_t head) const;

 private:
  LogitStore(std::filesystem::path path, Hdf5Handle file, LogitStoreInfo info);

  std::filesystem::path path_;
  Hdf5Handle file_;
  LogitStoreInfo info_;
};

//! Logits of stored query row `query` of a head: out[j] = scale * (k_j . q_query) for the
//! head.key_count(query) keys it sees, each dot product accumulated in double in channel order
//! (no reassociation, so the result is the same as a plain loop). Throws std::invalid_argument
//! when out.size() != key_count(query), q and k disagree in shape, or query >= Q.
void head_logits(const HeadVectors& head, double scale, std::size_t query, std::span<double> out);

}  // namespace tvk
