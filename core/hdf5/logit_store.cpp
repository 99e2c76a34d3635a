#include "core/hdf5/logit_store.h"

#include <hdf5.h>

#include <charconv>
#include <cstdint>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <utility>

#include "core/error.h"
#include "core/hdf5/child_probe.h"
#include "core/hdf5/hdf5_attributes.h"
#include "core/hdf5/store_slab.h"
#include "core/kernels/kernel_set.h"
#include "core/text/text.h"

namespace tvk {

const std::vector<std::string>& logit_store_provenance_string_names() {
  static const std::vector<std::string> names = {
      "model_name",  "model_source", "model_config_sha256", "model_weights_sha256", "tokenizer",
      "text_source", "dtype",        "extraction_command",  "created_utc"};
  return names;
}

const std::vector<std::string>& logit_store_provenance_float_names() {
  static const std::vector<std::string> names = {"verification_max_abs_error",
                                                 "verification_tolerance"};
  return names;
}

namespace {

constexpr const char* kSequencesGroup = "/sequences";

std::string kind_of(const AttributeValue& value) {
  if (std::holds_alternative<std::string>(value)) return "a string";
  if (std::holds_alternative<double>(value)) return "a float";
  if (std::holds_alternative<std::int64_t>(value)) return "an integer";
  return "an integer vector";
}

std::string shape_text(const std::vector<hsize_t>& shape) {
  std::string text = "[";
  for (std::size_t axis = 0; axis < shape.size(); ++axis) {
    if (axis > 0) text += ",";
    text += std::to_string(shape[axis]);
  }
  return text + "]";
}

// Attributes of one object (the root group or a sequence group), read once and then checked
// by name and type. Messages: "<file>: attribute 'x': ..." for the root,
// "<file>: <object>: attribute 'x': ..." for others.
class AttributeSet {
 public:
  AttributeSet(hid_t location, std::string file, std::string object)
      : file_(std::move(file)), object_(std::move(object)) {
    // Unsupported attributes are only an error when required: an unknown extra one must not
    // stop the store from opening.
    attributes_ = read_all_attributes(location, object_label(), UnsupportedAttributes::kCollect);
  }

  const Provenance& values() const { return attributes_.values; }
  Provenance take_values() { return std::move(attributes_.values); }

  std::string label(const std::string& name) const { return attribute_label(object_label(), name); }

  //! The value of a required attribute, or InputError (missing, or of an unsupported kind).
  const AttributeValue& required(const std::string& name, std::string_view missing_note) const {
    if (const AttributeValue* value = attributes_.values.find(name)) return *value;
    if (auto it = attributes_.unsupported.find(name); it != attributes_.unsupported.end()) {
      throw InputError(label(name) + ": unsupported type (" + it->second + ")");
    }
    throw InputError(label(name) + ": missing" + std::string(missing_note));
  }

  std::string string(const std::string& name, std::string_view missing_note = "") const {
    const AttributeValue& value = required(name, missing_note);
    if (const auto* text = std::get_if<std::string>(&value)) return *text;
    throw InputError(label(name) + ": expected a string, found " + kind_of(value));
  }

  std::int64_t integer(const std::string& name) const {
    const AttributeValue& value = required(name, "");
    if (const auto* number = std::get_if<std::int64_t>(&value)) return *number;
    throw InputError(label(name) + ": expected an integer, found " + kind_of(value));
  }

  // An integer >= minimum, as a size.
  std::size_t count(const std::string& name, std::int64_t minimum) const {
    const std::int64_t number = integer(name);
    if (number < minimum) {
      throw InputError(label(name) + ": must be >= " + std::to_string(minimum) + ", got " +
                       std::to_string(number));
    }
    return static_cast<std::size_t>(number);
  }

  // A float attribute; integers are accepted too (h5py writes 0 as an integer).
  double real(const std::string& name) const {
    const AttributeValue& value = required(name, "");
    if (const auto* number = std::get_if<double>(&value)) return *number;
    if (const auto* number = std::get_if<std::int64_t>(&value)) {
      return static_cast<double>(*number);
    }
    throw InputError(label(name) + ": expected a float, found " + kind_of(value));
  }

  std::vector<std::int64_t> integer_vector(const std::string& name) const {
    const AttributeValue& value = required(name, "");
    if (const auto* numbers = std::get_if<std::vector<std::int64_t>>(&value)) return *numbers;
    throw InputError(label(name) + ": expected a 1-D integer vector, found " + kind_of(value));
  }

 private:
  std::string object_label() const { return object_ == "/" ? file_ : file_ + ": " + object_; }

  std::string file_, object_;
  AttributeList attributes_;
};

// Opens `name` under `location` and checks that it is an object of `expected` type; the
// label names it in messages ("store.h5: /sequences/001/q").
Hdf5Handle open_object(hid_t location, const std::string& name, const std::string& label,
                       H5I_type_t expected) {
  const std::string what = expected == H5I_GROUP ? "group" : "dataset";
  const htri_t exists = H5Lexists(location, name.c_str(), H5P_DEFAULT);
  check_hdf5(static_cast<herr_t>(exists), label, "look for it");
  if (exists == 0) throw InputError(label + ": missing " + what);
  const hid_t id = H5Oopen(location, name.c_str(), H5P_DEFAULT);
  if (id < 0) check_hdf5(-1, label, "open");
  const H5I_type_t type = H5Iget_type(id);
  if (type != expected) {
    H5Oclose(id);
    throw InputError(label + ": is not a " + what + " (it is a " +
                     (type == H5I_GROUP     ? std::string("group")
                      : type == H5I_DATASET ? std::string("dataset")
                                            : std::string("named datatype")) +
                     ")");
  }
  return Hdf5Handle(id, expected == H5I_GROUP ? Hdf5Kind::kGroup : Hdf5Kind::kDataset);
}

struct DatasetShape {
  H5T_class_t type_class;
  std::size_t type_size;
  std::vector<hsize_t> shape;
};

DatasetShape dataset_shape(hid_t dataset, const std::string& label) {
  Hdf5Handle type =
      checked_handle(H5Dget_type(dataset), Hdf5Kind::kDatatype, label, "read the type");
  Hdf5Handle space =
      checked_handle(H5Dget_space(dataset), Hdf5Kind::kDataspace, label, "read the dataspace");
  return {H5Tget_class(type.get()), H5Tget_size(type.get()), hdf5_extent(space.get(), label)};
}

// Checks token_ids: integer, [T].
void check_token_ids(hid_t group, const std::string& group_label, std::size_t length) {
  const std::string label = group_label + "/token_ids";
  Hdf5Handle dataset = open_object(group, "token_ids", label, H5I_DATASET);
  const DatasetShape found = dataset_shape(dataset.get(), label);
  if (found.type_class != H5T_INTEGER) {
    throw InputError(label + ": type " + hdf5_class_name(found.type_class) + ", expected integer");
  }
  if (found.shape.size() != 1 || found.shape[0] != length) {
    throw InputError(label + ": shape " + shape_text(found.shape) +
                     " does not match [length=" + std::to_string(length) + "]");
  }
}

// Checks q, k or v: float, [L, heads, rows, d] (v1: heads = num_heads, rows = T; v2: q has
// num_heads and Q rows, k and v num_kv_heads and T).
void check_vectors(hid_t group, const std::string& group_label, const char* name,
                   const LogitStoreInfo& info, std::size_t heads, std::size_t length,
                   const char* rows_name) {
  const std::string label = group_label + "/" + name;
  Hdf5Handle dataset = open_object(group, name, label, H5I_DATASET);
  const DatasetShape found = dataset_shape(dataset.get(), label);
  if (found.type_class != H5T_FLOAT) {
    throw InputError(label + ": type " + hdf5_class_name(found.type_class) + " (" +
                     std::to_string(found.type_size) + " bytes), expected a float type");
  }
  const std::vector<hsize_t> expected = {info.layers, heads, length, info.head_dim};
  if (found.shape != expected) {
    const bool kv = heads != info.heads || (info.kv_heads != info.heads && name[0] != 'q');
    throw InputError(label + ": shape " + shape_text(found.shape) + " does not match [num_layers=" +
                     std::to_string(info.layers) + ", " + (kv ? "num_kv_heads=" : "num_heads=") +
                     std::to_string(heads) + ", " + rows_name + "=" + std::to_string(length) +
                     ", head_dim=" + std::to_string(info.head_dim) + "]");
  }
}

// An integer dataset's values, [count].
std::vector<std::int64_t> read_integers(hid_t group, const char* name, const std::string& label,
                                        std::size_t expected_size, const std::string& size_note) {
  Hdf5Handle dataset = open_object(group, name, label, H5I_DATASET);
  const DatasetShape found = dataset_shape(dataset.get(), label);
  if (found.type_class != H5T_INTEGER) {
    throw InputError(label + ": type " + hdf5_class_name(found.type_class) + ", expected integer");
  }
  if (found.shape.size() != 1 || (expected_size != 0 && found.shape[0] != expected_size) ||
      found.shape[0] == 0) {
    throw InputError(label + ": shape " + shape_text(found.shape) + " does not match " + size_note);
  }
  std::vector<std::int64_t> values(found.shape[0]);
  check_hdf5(H5Dread(dataset.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()),
             label, "read");
  return values;
}

// v2: positions [T], 0..T-1 in order (RoPE positions of a single unpadded sequence).
void check_positions(hid_t group, const std::string& group_label, std::size_t length) {
  const std::string label = group_label + "/positions";
  const auto positions =
      read_integers(group, "positions", label, length, "[length=" + std::to_string(length) + "]");
  for (std::size_t i = 0; i < positions.size(); ++i) {
    if (positions[i] != static_cast<std::int64_t>(i)) {
      throw InputError(label + ": entry " + std::to_string(i) + " is " +
                       std::to_string(positions[i]) + ", expected " + std::to_string(i) +
                       " (one sequence, positions 0..T-1)");
    }
  }
}

// v2: query_positions [Q], ascending, distinct, in 0..T-1.
std::vector<std::size_t> read_query_positions(hid_t group, const std::string& group_label,
                                              std::size_t length) {
  const std::string label = group_label + "/query_positions";
  const auto values = read_integers(group, "query_positions", label, 0, "[Q] with Q >= 1");
  std::vector<std::size_t> positions;
  for (std::size_t r = 0; r < values.size(); ++r) {
    if (values[r] < 0 || values[r] >= static_cast<std::int64_t>(length) ||
        (r > 0 && values[r] <= values[r - 1])) {
      throw InputError(label + ": entry " + std::to_string(r) + " is " + std::to_string(values[r]) +
                       "; positions must be ascending, distinct and in 0.." +
                       std::to_string(length - 1));
    }
    positions.push_back(static_cast<std::size_t>(values[r]));
  }
  return positions;
}

// v2's root attributes beyond v1's: grouped KV heads, causality, stored layers, provenance.
void read_v2_attributes(const AttributeSet& attributes, LogitStoreInfo& info) {
  for (const char* name : {"model_package", "model_package_version", "gguf_file", "quantization"})
    (void)attributes.string(name);
  (void)attributes.real("rounding_max_probability_change");
  const std::size_t model_layers = attributes.count("model_num_layers", 1);
  info.kv_heads = attributes.count("num_kv_heads", 1);
  const std::int64_t causal = attributes.integer("causal");
  if (causal != 0 && causal != 1) {
    throw InputError(attributes.label("causal") + ": must be 0 or 1, got " +
                     std::to_string(causal));
  }
  info.causal = causal == 1;
  const std::vector<std::int64_t> kv_of = attributes.integer_vector("kv_head_of_head");
  if (kv_of.size() != info.heads) {
    throw InputError(attributes.label("kv_head_of_head") + ": has " + std::to_string(kv_of.size()) +
                     " entries, num_heads is " + std::to_string(info.heads));
  }
  info.kv_head_of.clear();
  for (std::int64_t kv : kv_of) {
    if (kv < 0 || kv >= static_cast<std::int64_t>(info.kv_heads)) {
      throw InputError(attributes.label("kv_head_of_head") + ": entry " + std::to_string(kv) +
                       " is not a KV head (num_kv_heads " + std::to_string(info.kv_heads) + ")");
    }
    info.kv_head_of.push_back(static_cast<std::size_t>(kv));
  }
  info.layer_ids = attributes.integer_vector("layer_ids");
  if (info.layer_ids.size() != info.layers) {
    throw InputError(attributes.label("layer_ids") + ": has " +
                     std::to_string(info.layer_ids.size()) + " entries, num_layers is " +
                     std::to_string(info.layers));
  }
  for (std::size_t l = 0; l < info.layers; ++l) {
    if (info.layer_ids[l] < 0 || info.layer_ids[l] >= static_cast<std::int64_t>(model_layers) ||
        (l > 0 && info.layer_ids[l] <= info.layer_ids[l - 1])) {
      throw InputError(attributes.label("layer_ids") + ": must be ascending model layers in 0.." +
                       std::to_string(model_layers - 1));
    }
  }
}

// The sequence index a subgroup name stands for ("007" -> 7), or nullopt.
std::optional<std::size_t> sequence_index(const std::string& name) {
  if (name.empty() || name.size() > 18) return std::nullopt;
  std::size_t index = 0;
  const auto [end, error] = std::from_chars(name.data(), name.data() + name.size(), index);
  if (error != std::errc() || end != name.data() + name.size()) return std::nullopt;
  return index;
}

// The /sequences subgroup names in index order; every name must be an index and together they
// must be 0..N-1, so a lost or renamed sequence is caught here rather than silently skipped.
std::vector<std::string> sequence_names(hid_t sequences, const std::string& label) {
  std::vector<std::string> names;
  auto collect = [](hid_t, const char* name, const H5L_info_t*, void* data) -> herr_t {
    static_cast<std::vector<std::string>*>(data)->emplace_back(name);
    return 0;
  };
  check_hdf5(H5Literate(sequences, H5_INDEX_NAME, H5_ITER_INC, nullptr, collect, &names), label,
             "list the sequences");
  std::vector<std::pair<std::size_t, std::string>> indexed;
  for (const std::string& name : names) {
    const auto index = sequence_index(name);
    if (!index) {
      throw InputError(label + "/" + name +
                       ": not a sequence (subgroups of /sequences are named by their index: "
                       "000, 001, ...)");
    }
    indexed.emplace_back(*index, name);
  }
  std::stable_sort(indexed.begin(), indexed.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (std::size_t position = 0; position < indexed.size(); ++position) {
    if (indexed[position].first < position) {
      throw InputError(label + "/" + indexed[position].second + ": duplicate sequence index " +
                       std::to_string(indexed[position].first) + " (also " + label + "/" +
                       indexed[position - 1].second + ")");
    }
    if (indexed[position].first > position) {
      throw InputError(label + ": no sequence with index " + std::to_string(position) +
                       " (the next one is " + indexed[position].second + ")");
    }
  }
  std::vector<std::string> ordered;
  ordered.reserve(indexed.size());
  for (auto& entry : indexed)
    ordered.push_back(std::move(entry.second));
  return ordered;
}

LogitStoreInfo read_structure(hid_t file, const std::string& file_label) {
  Hdf5Handle root = checked_handle(H5Gopen2(file, "/", H5P_DEFAULT), Hdf5Kind::kGroup, file_label,
                                   "open the root group");
  AttributeSet attributes(root.get(), file_label, "/");

  // The file type first: any other complaint about a file that is not a store would mislead.
  const std::string filetype = attributes.string("filetype", " (not a tvk logit store)");
  if (filetype != kLogitStoreFiletype) {
    throw InputError(attributes.label("filetype") + ": is '" + filetype + "', expected '" +
                     std::string(kLogitStoreFiletype) + "' (not a tvk logit store)");
  }
  const std::vector<std::int64_t> version = attributes.integer_vector("format_version");
  if (version.size() != 2) {
    throw InputError(attributes.label("format_version") + ": expected [major, minor], got " +
                     std::to_string(version.size()) + " values");
  }
  if (version[0] < kLogitStoreFormatMajor || version[0] > kLogitStoreNewestMajor) {
    throw InputError(attributes.label("format_version") + ": unknown format version " +
                     std::to_string(version[0]) + "." + std::to_string(version[1]) +
                     " (this tvk reads 1.x and 2.x)");
  }
  const bool v2 = version[0] == 2;

  LogitStoreInfo info{};
  info.format_major = version[0];
  info.format_minor = version[1];
  for (const std::string& name : logit_store_provenance_string_names()) {
    (void)attributes.string(name);
  }
  for (const std::string& name : logit_store_provenance_float_names()) {
    (void)attributes.real(name);
  }
  const std::string dtype = attributes.string("dtype");
  if (dtype != "float32" && dtype != "float64" && !(v2 && dtype == "float16")) {
    throw InputError(attributes.label("dtype") + ": is '" + dtype + "', expected " +
                     (v2 ? "'float16', 'float32' or 'float64'" : "'float32' or 'float64'"));
  }
  info.layers = attributes.count("num_layers", 1);
  info.heads = attributes.count("num_heads", 1);
  info.kv_heads = info.heads;
  if (v2) read_v2_attributes(attributes, info);
  info.head_dim = attributes.count("head_dim", 1);
  const std::size_t max_length = attributes.count("max_length", 1);
  const std::size_t num_sequences = attributes.count("num_sequences", 1);
  info.scale = attributes.real("scale");
  // Kernels and the decode step compute in float: a scale a float cannot hold (1e300 becomes
  // inf, 1e-320 becomes 0) is bad input here, not a wrong result later.
  if (!(info.scale >= std::numeric_limits<float>::min() &&
        info.scale <= std::numeric_limits<float>::max())) {
    throw InputError(attributes.label("scale") + ": must be > 0 and a normal float (" +
                     format_shortest(std::numeric_limits<float>::min()) + " to " +
                     format_shortest(std::numeric_limits<float>::max()) + "), got " +
                     format_shortest(info.scale));
  }

  const std::string sequences_label = file_label + ": " + kSequencesGroup;
  Hdf5Handle sequences = open_object(file, kSequencesGroup, sequences_label, H5I_GROUP);
  const std::vector<std::string> names = sequence_names(sequences.get(), sequences_label);
  if (names.size() != num_sequences) {
    throw InputError(sequences_label + ": holds " + std::to_string(names.size()) +
                     " sequences but attribute 'num_sequences' is " +
                     std::to_string(num_sequences));
  }
  for (const std::string& name : names) {
    const std::string object = std::string(kSequencesGroup) + "/" + name;
    const std::string label = file_label + ": " + object;
    Hdf5Handle group = open_object(sequences.get(), name, label, H5I_GROUP);
    AttributeSet sequence_attributes(group.get(), file_label, object);
    StoreSequence sequence{
        name, sequence_attributes.count("length", 1), sequence_attributes.string("text"), {}};
    if (sequence.length > max_length) {
      throw InputError(sequence_attributes.label("length") + ": " +
                       std::to_string(sequence.length) + " exceeds the root attribute max_length " +
                       std::to_string(max_length));
    }
    check_token_ids(group.get(), label, sequence.length);
    if (v2) {
      check_positions(group.get(), label, sequence.length);
      sequence.query_positions = read_query_positions(group.get(), label, sequence.length);
    } else {
      for (std::size_t i = 0; i < sequence.length; ++i)
        sequence.query_positions.push_back(i);
    }
    check_vectors(group.get(), label, "q", info, info.heads, sequence.query_positions.size(),
                  v2 ? "queries" : "length");
    for (const char* dataset : {"k", "v"}) {
      check_vectors(group.get(), label, dataset, info, info.kv_heads, sequence.length, "length");
    }
    info.sequences.push_back(std::move(sequence));
  }
  info.attributes = attributes.take_values();
  // v1: each head is its own KV head, stored layer l is model layer l. Built once the datasets'
  // shapes have confirmed num_layers and num_heads: a damaged count must not size them first.
  if (!v2) {
    for (std::size_t h = 0; h < info.heads; ++h)
      info.kv_head_of.push_back(h);
    for (std::size_t l = 0; l < info.layers; ++l)
      info.layer_ids.push_back(static_cast<std::int64_t>(l));
  }
  return info;
}

}  // namespace

LogitStore::LogitStore(std::filesystem::path path, Hdf5Handle file, LogitStoreInfo info)
    : path_(std::move(path)), file_(std::move(file)), info_(std::move(info)) {}

LogitStore LogitStore::open(const std::filesystem::path& path) {
  // libhdf5 1.10 can crash, or loop, on a damaged file's metadata (the inputs are in
  // tests/fuzz/known/logit_store/): the structure is read in a child first.
  probe_in_child(path, probe_seconds_from_environment(), [&] {
    silence_hdf5_error_printing();
    Hdf5Handle file = open_hdf5_file_read_only(path);
    (void)read_structure(file.get(), path.string());
  });
  Hdf5Handle file = open_hdf5_file_read_only(path);
  LogitStoreInfo info = as_input_error([&] {
    silence_hdf5_error_printing();
    return read_structure(file.get(), path.string());
  });
  return LogitStore(path, std::move(file), std::move(info));
}

HeadVectors LogitStore::read_head(std::size_t sequence, std::size_t layer, std::size_t head) const {
  if (sequence >= info_.sequences.size() || layer >= info_.layers || head >= info_.heads) {
    throw std::out_of_range(path_.string() + ": read_head(sequence " + std::to_string(sequence) +
                            ", layer " + std::to_string(layer) + ", head " + std::to_string(head) +
                            ") is out of range (" + std::to_string(info_.sequences.size()) +
                            " sequences, " + std::to_string(info_.layers) + " layers, " +
                            std::to_string(info_.heads) + " heads)");
  }
  const StoreSequence& entry = info_.sequences[sequence];
  const std::string object = std::string(kSequencesGroup) + "/" + entry.name;
  return as_input_error([&] {
    silence_hdf5_error_printing();
    HeadVectors vectors;
    vectors.query_positions = entry.query_positions;
    vectors.causal = info_.causal;
    struct Target {
      const char* name;
      Eigen::MatrixXd* matrix;
      std::size_t head, rows;
    };
    const std::size_t kv_head = info_.kv_head_of[head];
    const Target targets[] = {{"q", &vectors.q, head, entry.query_positions.size()},
                              {"k", &vectors.k, kv_head, entry.length},
                              {"v", &vectors.v, kv_head, entry.length}};
    for (const auto& [name, target, slab_head, rows] : targets) {
      const std::string dataset_path = object + "/" + name;
      const std::string label = path_.string() + ": " + dataset_path;
      Hdf5Handle dataset = checked_handle(H5Dopen2(file_.get(), dataset_path.c_str(), H5P_DEFAULT),
                                          Hdf5Kind::kDataset, label, "open");
      read_head_slab(dataset.get(), label, layer, slab_head, rows, info_.head_dim, *target);
    }
    return vectors;
  });
}

void head_logits(const HeadVectors& head, double scale, std::size_t query, std::span<double> out) {
  const Eigen::Index keys = head.k.rows();
  const Eigen::Index channels = head.k.cols();
  if (head.q.cols() != channels) {
    throw std::invalid_argument("head_logits: q has " + std::to_string(head.q.cols()) +
                                " channels but k has " + std::to_string(channels));
  }
  if (query >= static_cast<std::size_t>(head.q.rows())) {
    throw std::invalid_argument("head_logits: query " + std::to_string(query) +
                                " is out of range (" + std::to_string(head.q.rows()) + " queries)");
  }
  const std::size_t seen =
      head.query_positions.empty() ? static_cast<std::size_t>(keys) : head.key_count(query);
  if (seen > static_cast<std::size_t>(keys)) {
    throw std::invalid_argument("head_logits: query " + std::to_string(query) + " sees " +
                                std::to_string(seen) + " keys of " + std::to_string(keys));
  }
  if (out.size() != seen) {
    throw std::invalid_argument("head_logits: output has " + std::to_string(out.size()) +
                                " slots for " + std::to_string(seen) + " keys");
  }
  // Eigen is column-major: q(query, c) is q.data()[query + c · rows], k's column c starts at
  // k.data() + c · keys. Each key's sum runs over channels 0..d−1 in order.
  kernels::active_kernels().channel_logits(
      head.q.data() + query, static_cast<std::size_t>(head.q.rows()), head.k.data(),
      static_cast<std::size_t>(keys), seen, static_cast<std::size_t>(channels), scale, out.data());
}

}  // namespace tvk
