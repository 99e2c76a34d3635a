#include "core/hdf5/logit_store_writer.h"

#include <hdf5.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <set>
#include <stdexcept>

#include "core/hdf5/hdf5_attributes.h"
#include "core/hdf5/hdf5_handle.h"
#include "core/hdf5/logit_store.h"
#include "core/results/atomic_file.h"

namespace tvk {

namespace {

// Root attributes the writer derives itself; a caller supplying them would be contradicted.
const std::set<std::string>& writer_owned_names() {
  static const std::set<std::string> names = {"filetype",   "format_version", "dtype",
                                              "num_layers", "num_heads",      "head_dim",
                                              "scale",      "num_sequences"};
  return names;
}

bool has_nul(std::string_view text) {
  return text.find('\0') != std::string_view::npos;
}

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm parts{};
  gmtime_r(&now, &parts);
  char buffer[32];
  const std::size_t size = std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &parts);
  return std::string(buffer, size);
}

// Every argument error is found here, before a file is created.
void validate(const Provenance& extra, std::size_t layers, std::size_t heads, std::size_t head_dim,
              const std::vector<StoreSequenceData>& sequences) {
  if (layers == 0 || heads == 0 || head_dim == 0) {
    throw std::invalid_argument("write_logit_store: layers, heads and head_dim must be >= 1, got " +
                                std::to_string(layers) + ", " + std::to_string(heads) + ", " +
                                std::to_string(head_dim));
  }
  if (sequences.empty()) throw std::invalid_argument("write_logit_store: no sequences");
  std::size_t longest = 0;
  for (std::size_t index = 0; index < sequences.size(); ++index) {
    const StoreSequenceData& sequence = sequences[index];
    const std::string what = "write_logit_store: sequence " + std::to_string(index);
    const std::size_t length = sequence.token_ids.size();
    if (length == 0) throw std::invalid_argument(what + " has no tokens");
    longest = std::max(longest, length);
    if (has_nul(sequence.text)) throw std::invalid_argument(what + ": text contains a NUL byte");
    const std::size_t expected = layers * heads * length * head_dim;
    const std::pair<const char*, const std::vector<float>*> arrays[] = {
        {"q", &sequence.q}, {"k", &sequence.k}, {"v", &sequence.v}};
    for (const auto& [name, values] : arrays) {
      if (values->size() != expected) {
        throw std::invalid_argument(
            what + ": " + name + " has " + std::to_string(values->size()) +
            " values, expected layers*heads*T*head_dim = " + std::to_string(expected));
      }
    }
  }
  std::set<std::string_view> seen;
  for (const auto& [name, value] : extra.attributes) {
    if (name.empty() || has_nul(name)) {
      throw std::invalid_argument("write_logit_store: bad attribute name '" + name + "'");
    }
    if (!seen.insert(name).second) {
      throw std::invalid_argument("write_logit_store: attribute '" + name + "' appears twice");
    }
    if (writer_owned_names().count(name) > 0) {
      throw std::invalid_argument("write_logit_store: attribute '" + name +
                                  "' is set by the writer and may not be given");
    }
    if (const auto* text = std::get_if<std::string>(&value); text != nullptr && has_nul(*text)) {
      throw std::invalid_argument("write_logit_store: attribute '" + name +
                                  "' contains a NUL byte");
    }
  }
  for (const std::string& name : logit_store_provenance_string_names()) {
    if (name == "dtype" || name == "created_utc") continue;
    const AttributeValue* value = extra.find(name);
    if (value == nullptr || !std::holds_alternative<std::string>(*value)) {
      throw std::invalid_argument("write_logit_store: string attribute '" + name +
                                  "' is required (see synthetic_store_provenance)");
    }
  }
  if (const AttributeValue* value = extra.find("created_utc");
      value != nullptr && !std::holds_alternative<std::string>(*value)) {
    throw std::invalid_argument("write_logit_store: attribute 'created_utc' must be a string");
  }
  for (const std::string& name : logit_store_provenance_float_names()) {
    const AttributeValue* value = extra.find(name);
    if (value == nullptr || !std::holds_alternative<double>(*value)) {
      throw std::invalid_argument("write_logit_store: float attribute '" + name +
                                  "' is required (see synthetic_store_provenance)");
    }
  }
  if (const AttributeValue* value = extra.find("max_length")) {
    const auto* max_length = std::get_if<std::int64_t>(value);
    if (max_length == nullptr || *max_length < static_cast<std::int64_t>(longest)) {
      throw std::invalid_argument(
          "write_logit_store: attribute 'max_length' must be an integer >= the longest "
          "sequence (" +
          std::to_string(longest) + ")");
    }
  }
}

// Zero-padded to at least 3 digits, and wide enough that name order is index order.
std::string sequence_name(std::size_t index, std::size_t count) {
  std::size_t width = 3;
  for (std::size_t limit = 1000; limit < count; limit *= 10)
    ++width;
  std::string digits = std::to_string(index);
  return std::string(width - std::min(width, digits.size()), '0') + digits;
}

void write_sequence(hid_t sequences, const std::string& name, const StoreSequenceData& sequence,
                    std::size_t layers, std::size_t heads, std::size_t head_dim,
                    const std::string& file_label) {
  const std::string object_label = file_label + ": /sequences/" + name;
  Hdf5Handle group =
      checked_handle(H5Gcreate2(sequences, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                     Hdf5Kind::kGroup, object_label, "create group");
  const std::size_t length = sequence.token_ids.size();
  write_attribute(group.get(), "length", static_cast<std::int64_t>(length), object_label);
  write_attribute(group.get(), "text", sequence.text, object_label);
  const ChunkedLayout tokens{{length}, {}, fit_chunk({length}, sizeof(std::int64_t))};
  write_chunked_dataset(group.get(), "token_ids", H5T_STD_I64LE, H5T_NATIVE_INT64, tokens,
                        sequence.token_ids.data(), object_label + "/token_ids");
  // One chunk per (layer, head): what read_head reads (split along tokens above 1 MiB).
  const ChunkedLayout vectors{
      {layers, heads, length, head_dim}, {}, fit_chunk({1, 1, length, head_dim}, sizeof(float))};
  const std::pair<const char*, const std::vector<float>*> arrays[] = {
      {"q", &sequence.q}, {"k", &sequence.k}, {"v", &sequence.v}};
  for (const auto& [dataset, values] : arrays) {
    write_chunked_dataset(group.get(), dataset, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, vectors,
                          values->data(), object_label + "/" + dataset);
  }
}

}  // namespace

void write_logit_store(const std::filesystem::path& path, const Provenance& extra_attributes,
                       std::size_t layers, std::size_t heads, std::size_t head_dim,
                       const std::vector<StoreSequenceData>& sequences) {
  validate(extra_attributes, layers, heads, head_dim, sequences);
  silence_hdf5_error_printing();

  Provenance root;
  root.set("filetype", std::string(kLogitStoreFiletype));
  root.set("format_version",
           std::vector<std::int64_t>{kLogitStoreFormatMajor, kLogitStoreFormatMinor});
  for (const auto& [name, value] : extra_attributes.attributes)
    root.set(name, value);
  if (root.find("created_utc") == nullptr) root.set("created_utc", utc_now());
  if (root.find("max_length") == nullptr) {
    std::size_t longest = 0;
    for (const StoreSequenceData& sequence : sequences)
      longest = std::max(longest, sequence.token_ids.size());
    root.set("max_length", static_cast<std::int64_t>(longest));
  }
  root.set("dtype", std::string("float32"));
  root.set("num_layers", static_cast<std::int64_t>(layers));
  root.set("num_heads", static_cast<std::int64_t>(heads));
  root.set("head_dim", static_cast<std::int64_t>(head_dim));
  root.set("scale", 1.0 / std::sqrt(static_cast<double>(head_dim)));
  root.set("num_sequences", static_cast<std::int64_t>(sequences.size()));

  const std::string label = path.string();
  write_atomically(path, [&](const std::filesystem::path& tmp) {
    Hdf5Handle file = create_hdf5_file(tmp, label);
    for (const auto& [name, value] : root.attributes)
      write_attribute(file.get(), name, value, label);
    {
      Hdf5Handle group = checked_handle(
          H5Gcreate2(file.get(), "/sequences", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
          Hdf5Kind::kGroup, label + ": /sequences", "create group");
      for (std::size_t index = 0; index < sequences.size(); ++index) {
        write_sequence(group.get(), sequence_name(index, sequences.size()), sequences[index],
                       layers, heads, head_dim, label);
      }
    }
    // Every other handle is closed by now, so H5Fclose really flushes; a failure (disk full)
    // must surface here, not vanish in a destructor.
    file.close(label);
  });
}

Provenance synthetic_store_provenance(const std::string& description) {
  Provenance provenance;
  provenance.set("model_name", std::string("synthetic"));
  provenance.set("model_source", description);
  provenance.set("model_config_sha256", std::string("none"));
  provenance.set("model_weights_sha256", std::string("none"));
  provenance.set("tokenizer", std::string("none"));
  provenance.set("text_source", description);
  provenance.set("extraction_command", description);
  provenance.set("verification_max_abs_error", 0.0);
  provenance.set("verification_tolerance", 0.0);
  return provenance;
}

}  // namespace tvk
