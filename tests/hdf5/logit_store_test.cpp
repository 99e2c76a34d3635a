//! \file Tests of the logit store (format v1): writer/reader round trip, float32 exactness,
//! head_logits against a direct computation, and one clear InputError naming the file and the
//! object for every kind of broken store (missing, not HDF5, truncated, missing or mistyped
//! attributes and datasets, wrong shapes, NaN/inf values, unknown format version).

#include "core/hdf5/logit_store.h"

#include <gtest/gtest.h>
#include <hdf5.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/hdf5/hdf5_handle.h"
#include "core/hdf5/logit_store_writer.h"
#include "core/numerics/binary16.h"
#include "core/results/atomic_file.h"
#include "tests/support/fixtures.h"

namespace tvk {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kLayers = 2, kHeads = 3, kHeadDim = 4;

// Index of element (layer, head, token, channel) in a [L, H, T, d] row-major array.
std::size_t flat(std::size_t layer, std::size_t head, std::size_t token, std::size_t channel,
                 std::size_t length) {
  return ((layer * kHeads + head) * length + token) * kHeadDim + channel;
}

// A sequence of `length` tokens with random q, k, v (values not exactly representable in few
// bits, so float32 exactness is really tested).
StoreSequenceData make_sequence(std::size_t length, unsigned seed) {
  std::mt19937 engine(seed);
  std::normal_distribution<float> normal(0.0f, 1.5f);
  StoreSequenceData sequence;
  sequence.text = "sequence " + std::to_string(seed) + " \xc3\xa9t\xc3\xa9";  // UTF-8
  for (std::size_t token = 0; token < length; ++token)
    sequence.token_ids.push_back(static_cast<std::int64_t>(100 + seed * 31 + token));
  const std::size_t size = kLayers * kHeads * length * kHeadDim;
  for (auto* values : {&sequence.q, &sequence.k, &sequence.v}) {
    values->resize(size);
    for (float& value : *values)
      value = normal(engine);
  }
  return sequence;
}

std::vector<StoreSequenceData> make_sequences(const std::vector<std::size_t>& lengths) {
  std::vector<StoreSequenceData> sequences;
  for (std::size_t index = 0; index < lengths.size(); ++index) {
    sequences.push_back(make_sequence(lengths[index], static_cast<unsigned>(index + 1)));
  }
  return sequences;
}

Provenance test_provenance() {
  Provenance provenance = synthetic_store_provenance("unit test");
  provenance.set("model_name", std::string("test-model"));
  return provenance;
}

// ---- raw HDF5 edits, to break a valid store in one specific way -------------------------------

void edit_file(const fs::path& path, const std::function<void(hid_t)>& edit) {
  silence_hdf5_error_printing();
  Hdf5Handle file(H5Fopen(path.string().c_str(), H5F_ACC_RDWR, H5P_DEFAULT), Hdf5Kind::kFile);
  ASSERT_TRUE(file.valid()) << "cannot reopen " << path;
  edit(file.get());
  file.close(path.string());
}

void delete_link(const fs::path& path, const std::string& name) {
  edit_file(path, [&](hid_t file) { ASSERT_GE(H5Ldelete(file, name.c_str(), H5P_DEFAULT), 0); });
}

void delete_attribute(const fs::path& path, const std::string& object, const std::string& name) {
  edit_file(path, [&](hid_t file) {
    ASSERT_GE(H5Adelete_by_name(file, object.c_str(), name.c_str(), H5P_DEFAULT), 0);
  });
}

// Replaces (or adds) attribute `name` of `object` with raw `data` of `type` and `space`.
void put_attribute(hid_t file, const std::string& object, const std::string& name, hid_t type,
                   hid_t space, const void* data) {
  if (H5Aexists_by_name(file, object.c_str(), name.c_str(), H5P_DEFAULT) > 0) {
    ASSERT_GE(H5Adelete_by_name(file, object.c_str(), name.c_str(), H5P_DEFAULT), 0);
  }
  Hdf5Handle attribute(H5Acreate_by_name(file, object.c_str(), name.c_str(), type, space,
                                         H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                       Hdf5Kind::kAttribute);
  ASSERT_TRUE(attribute.valid());
  ASSERT_GE(H5Awrite(attribute.get(), type, data), 0);
}

void set_int_attribute(const fs::path& path, const std::string& object, const std::string& name,
                       std::int64_t value) {
  edit_file(path, [&](hid_t file) {
    Hdf5Handle space(H5Screate(H5S_SCALAR), Hdf5Kind::kDataspace);
    put_attribute(file, object, name, H5T_NATIVE_INT64, space.get(), &value);
  });
}

void set_int_vector_attribute(const fs::path& path, const std::string& name,
                              const std::vector<std::int64_t>& values) {
  edit_file(path, [&](hid_t file) {
    const hsize_t extent = values.size();
    Hdf5Handle space(H5Screate_simple(1, &extent, nullptr), Hdf5Kind::kDataspace);
    put_attribute(file, "/", name, H5T_NATIVE_INT64, space.get(), values.data());
  });
}

// A fixed-length, null-padded string attribute (what some writers produce instead of h5py's
// variable-length strings).
void set_fixed_string_attribute(const fs::path& path, const std::string& object,
                                const std::string& name, const std::string& value) {
  edit_file(path, [&](hid_t file) {
    Hdf5Handle type(H5Tcopy(H5T_C_S1), Hdf5Kind::kDatatype);
    ASSERT_GE(H5Tset_size(type.get(), value.size() + 3), 0);
    ASSERT_GE(H5Tset_strpad(type.get(), H5T_STR_NULLPAD), 0);
    Hdf5Handle space(H5Screate(H5S_SCALAR), Hdf5Kind::kDataspace);
    std::string padded = value + std::string(3, '\0');
    put_attribute(file, object, name, type.get(), space.get(), padded.data());
  });
}

void set_string_attribute(const fs::path& path, const std::string& object, const std::string& name,
                          const std::string& value) {
  edit_file(path, [&](hid_t file) {
    Hdf5Handle type(H5Tcopy(H5T_C_S1), Hdf5Kind::kDatatype);
    ASSERT_GE(H5Tset_size(type.get(), H5T_VARIABLE), 0);
    ASSERT_GE(H5Tset_cset(type.get(), H5T_CSET_UTF8), 0);
    Hdf5Handle space(H5Screate(H5S_SCALAR), Hdf5Kind::kDataspace);
    const char* data = value.c_str();
    put_attribute(file, object, name, type.get(), space.get(), &data);
  });
}

// Replaces dataset `name` with one of `type` and `shape`, filled from `data` (or the fill
// value when null).
void replace_dataset(const fs::path& path, const std::string& name, hid_t file_type,
                     hid_t memory_type, const std::vector<hsize_t>& shape,
                     const void* data = nullptr) {
  edit_file(path, [&](hid_t file) {
    ASSERT_GE(H5Ldelete(file, name.c_str(), H5P_DEFAULT), 0);
    Hdf5Handle space(H5Screate_simple(static_cast<int>(shape.size()), shape.data(), nullptr),
                     Hdf5Kind::kDataspace);
    Hdf5Handle dataset(H5Dcreate2(file, name.c_str(), file_type, space.get(), H5P_DEFAULT,
                                  H5P_DEFAULT, H5P_DEFAULT),
                       Hdf5Kind::kDataset);
    ASSERT_TRUE(dataset.valid());
    if (data != nullptr) {
      ASSERT_GE(H5Dwrite(dataset.get(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), 0);
    }
  });
}

class LogitStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / ("tvk_store_" + std::to_string(::getpid()) + "_" +
                                        info->test_suite_name() + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  //! A valid store of sequences with lengths 5 and 7.
  fs::path valid_store(const std::string& name = "store.h5") {
    const fs::path path = dir_ / name;
    sequences_ = make_sequences({5, 7});
    write_logit_store(path, test_provenance(), kLayers, kHeads, kHeadDim, sequences_);
    return path;
  }

  //! Expects LogitStore::open(path) to throw InputError whose message names the file and
  //! contains every one of `parts`; returns the message.
  std::string open_error(const fs::path& path, const std::vector<std::string>& parts) {
    try {
      (void)LogitStore::open(path);
    } catch (const InputError& error) {
      const std::string message = error.what();
      EXPECT_NE(message.find(path.string()), std::string::npos) << message;
      for (const std::string& part : parts) {
        EXPECT_NE(message.find(part), std::string::npos) << "'" << part << "' not in: " << message;
      }
      EXPECT_EQ(message.find('\n'), std::string::npos) << message;
      return message;
    } catch (const std::exception& error) {
      ADD_FAILURE() << "expected InputError, got: " << error.what();
      return {};
    }
    ADD_FAILURE() << "LogitStore::open(" << path << ") did not throw";
    return {};
  }

  fs::path dir_;
  std::vector<StoreSequenceData> sequences_;
};

using LogitStoreErrors = LogitStoreTest;
using LogitStoreWriter = LogitStoreTest;

// ---- round trip -------------------------------------------------------------------------------

TEST_F(LogitStoreTest, OpenReportsStructureAndAttributes) {
  const fs::path path = valid_store();
  const LogitStore store = LogitStore::open(path);
  const LogitStoreInfo& info = store.info();
  EXPECT_EQ(store.path(), path);
  EXPECT_EQ(info.format_major, 1);
  EXPECT_EQ(info.format_minor, 0);
  EXPECT_EQ(info.layers, kLayers);
  EXPECT_EQ(info.heads, kHeads);
  EXPECT_EQ(info.head_dim, kHeadDim);
  EXPECT_EQ(info.scale, 0.5);
  ASSERT_EQ(info.sequences.size(), 2u);
  EXPECT_EQ(info.sequences[0].name, "000");
  EXPECT_EQ(info.sequences[1].name, "001");
  EXPECT_EQ(info.sequences[0].length, 5u);
  EXPECT_EQ(info.sequences[1].length, 7u);
  EXPECT_EQ(info.sequences[1].text, sequences_[1].text);

  const Provenance& attributes = info.attributes;
  ASSERT_FALSE(attributes.attributes.empty());
  EXPECT_EQ(attributes.attributes.front().first, "filetype");  // creation order
  EXPECT_EQ(std::get<std::string>(*attributes.find("filetype")), "tvk-logit-store");
  EXPECT_EQ(std::get<std::vector<std::int64_t>>(*attributes.find("format_version")),
            (std::vector<std::int64_t>{1, 0}));
  EXPECT_EQ(std::get<std::string>(*attributes.find("model_name")), "test-model");
  EXPECT_EQ(std::get<std::string>(*attributes.find("dtype")), "float32");
  EXPECT_EQ(std::get<std::int64_t>(*attributes.find("max_length")), 7);
  EXPECT_EQ(std::get<std::int64_t>(*attributes.find("num_sequences")), 2);
  EXPECT_EQ(std::get<double>(*attributes.find("scale")), 0.5);
  const std::string created = std::get<std::string>(*attributes.find("created_utc"));
  EXPECT_EQ(created.size(), 20u) << created;  // 2025-01-01T00:00:00Z
  for (const std::string& name : logit_store_provenance_string_names()) {
    EXPECT_NE(attributes.find(name), nullptr) << name;
  }
}

TEST_F(LogitStoreTest, ReadHeadReturnsFloat32ValuesExactly) {
  const fs::path path = valid_store();
  const LogitStore store = LogitStore::open(path);
  for (std::size_t sequence = 0; sequence < sequences_.size(); ++sequence) {
    const std::size_t length = sequences_[sequence].token_ids.size();
    for (std::size_t layer = 0; layer < kLayers; ++layer) {
      for (std::size_t head = 0; head < kHeads; ++head) {
        const HeadVectors vectors = store.read_head(sequence, layer, head);
        const std::pair<const Eigen::MatrixXd*, const std::vector<float>*> pairs[] = {
            {&vectors.q, &sequences_[sequence].q},
            {&vectors.k, &sequences_[sequence].k},
            {&vectors.v, &sequences_[sequence].v}};
        for (const auto& [matrix, values] : pairs) {
          ASSERT_EQ(matrix->rows(), static_cast<Eigen::Index>(length));
          ASSERT_EQ(matrix->cols(), static_cast<Eigen::Index>(kHeadDim));
          for (std::size_t token = 0; token < length; ++token) {
            for (std::size_t channel = 0; channel < kHeadDim; ++channel) {
              ASSERT_EQ(
                  (*matrix)(static_cast<Eigen::Index>(token), static_cast<Eigen::Index>(channel)),
                  static_cast<double>((*values)[flat(layer, head, token, channel, length)]))
                  << "sequence " << sequence << " layer " << layer << " head " << head << " token "
                  << token << " channel " << channel;
            }
          }
        }
      }
    }
  }
}

TEST_F(LogitStoreTest, HeadLogitsEqualDirectDoubleComputation) {
  const fs::path path = valid_store();
  const LogitStore store = LogitStore::open(path);
  const double scale = store.info().scale;
  const std::size_t length = 7;
  const StoreSequenceData& data = sequences_[1];
  const HeadVectors vectors = store.read_head(1, 1, 2);
  std::vector<double> logits(length);
  for (std::size_t query = 0; query < length; ++query) {
    head_logits(vectors, scale, query, logits);
    for (std::size_t key = 0; key < length; ++key) {
      double dot = 0.0;
      for (std::size_t channel = 0; channel < kHeadDim; ++channel) {
        dot += static_cast<double>(data.q[flat(1, 2, query, channel, length)]) *
               static_cast<double>(data.k[flat(1, 2, key, channel, length)]);
      }
      EXPECT_EQ(logits[key], scale * dot) << "query " << query << " key " << key;
    }
    // And agrees with Eigen's matrix-vector product to rounding.
    const Eigen::VectorXd reference = scale * (vectors.k * vectors.q.row(query).transpose());
    for (std::size_t key = 0; key < length; ++key) {
      EXPECT_NEAR(logits[key], reference(static_cast<Eigen::Index>(key)), 1e-12);
    }
  }
  std::vector<double> wrong_size(length - 1);
  EXPECT_THROW(head_logits(vectors, scale, 0, wrong_size), std::invalid_argument);
  EXPECT_THROW(head_logits(vectors, scale, length, logits), std::invalid_argument);
}

TEST_F(LogitStoreTest, ReadHeadOutOfRangeThrows) {
  const LogitStore store = LogitStore::open(valid_store());
  EXPECT_THROW((void)store.read_head(2, 0, 0), std::out_of_range);
  EXPECT_THROW((void)store.read_head(0, kLayers, 0), std::out_of_range);
  EXPECT_THROW((void)store.read_head(0, 0, kHeads), std::out_of_range);
}

TEST_F(LogitStoreTest, MovedStoreStillReads) {
  LogitStore first = LogitStore::open(valid_store());
  LogitStore second = std::move(first);
  EXPECT_EQ(second.read_head(0, 0, 0).q.rows(), 5);
}

TEST_F(LogitStoreTest, AcceptsFloat64DatasetsAndFixedLengthStrings) {
  const fs::path path = valid_store();
  const std::size_t length = 5;
  std::vector<double> q(kLayers * kHeads * length * kHeadDim);
  for (std::size_t i = 0; i < q.size(); ++i)
    q[i] = 0.1 * static_cast<double>(i) - 1.0 / 3.0;  // not representable in float32
  replace_dataset(path, "/sequences/000/q", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE,
                  {kLayers, kHeads, length, kHeadDim}, q.data());
  set_fixed_string_attribute(path, "/", "model_name", "fixed-name");
  set_fixed_string_attribute(path, "/sequences/000", "text", "fixed text");
  const LogitStore store = LogitStore::open(path);
  EXPECT_EQ(std::get<std::string>(*store.info().attributes.find("model_name")), "fixed-name");
  EXPECT_EQ(store.info().sequences[0].text, "fixed text");
  const HeadVectors vectors = store.read_head(0, 1, 1);
  for (std::size_t token = 0; token < length; ++token) {
    for (std::size_t channel = 0; channel < kHeadDim; ++channel) {
      EXPECT_EQ(vectors.q(static_cast<Eigen::Index>(token), static_cast<Eigen::Index>(channel)),
                q[flat(1, 1, token, channel, length)]);
    }
  }
}

// An IEEE binary16 HDF5 type (h5py writes numpy's float16 so) in the given byte order.
Hdf5Handle binary16_type(H5T_order_t order) {
  Hdf5Handle type(H5Tcopy(H5T_IEEE_F32LE), Hdf5Kind::kDatatype);
  EXPECT_GE(H5Tset_fields(type.get(), 15, 10, 5, 0, 10), 0);
  EXPECT_GE(H5Tset_precision(type.get(), 16), 0);
  EXPECT_GE(H5Tset_size(type.get(), 2), 0);
  EXPECT_GE(H5Tset_ebias(type.get(), 15), 0);
  EXPECT_GE(H5Tset_order(type.get(), order), 0);
  return type;
}

TEST_F(LogitStoreTest, Float16DatasetsAreWidenedExactlyInEitherByteOrder) {
  // Little-endian binary16 is read as raw words and widened by tvk; big-endian goes through
  // HDF5's conversion. Both give the exact values: normals, subnormals, ±0, the largest half.
  const std::size_t length = 7;
  std::vector<std::uint16_t> words(kLayers * kHeads * length * kHeadDim);
  const std::uint16_t specials[] = {0x0000, 0x8000, 0x0001, 0x83ff, 0x0400, 0x7bff, 0xfbff, 0x3c00};
  for (std::size_t i = 0; i < words.size(); ++i) {
    words[i] =
        i < std::size(specials)
            ? specials[i]
            : static_cast<std::uint16_t>((i * 2654435761u) % 0x7c00u | (i % 3 == 0 ? 0x8000u : 0u));
  }
  for (const H5T_order_t order : {H5T_ORDER_LE, H5T_ORDER_BE}) {
    const fs::path path = valid_store();
    const Hdf5Handle file_type = binary16_type(order);
    const Hdf5Handle memory_type = binary16_type(H5T_ORDER_LE);
    replace_dataset(path, "/sequences/001/k", file_type.get(), memory_type.get(),
                    {kLayers, kHeads, length, kHeadDim}, words.data());
    {  // closed before the file is edited again (HDF5 shares an open file's cache)
      const LogitStore store = LogitStore::open(path);
      for (std::size_t layer = 0; layer < kLayers; ++layer) {
        for (std::size_t head = 0; head < kHeads; ++head) {
          const HeadVectors vectors = store.read_head(1, layer, head);
          for (std::size_t token = 0; token < length; ++token) {
            for (std::size_t channel = 0; channel < kHeadDim; ++channel) {
              const double expected =
                  from_binary16(words[flat(layer, head, token, channel, length)]);
              const double got =
                  vectors.k(static_cast<Eigen::Index>(token), static_cast<Eigen::Index>(channel));
              ASSERT_EQ(std::bit_cast<std::uint64_t>(got), std::bit_cast<std::uint64_t>(expected))
                  << "order " << order << " layer " << layer << " head " << head << " token "
                  << token << " channel " << channel;
            }
          }
        }
      }
    }
    // A half infinity is the same error as a float one.
    words[flat(1, 2, 3, 1, length)] = 0xfc00;
    replace_dataset(path, "/sequences/001/k", file_type.get(), memory_type.get(),
                    {kLayers, kHeads, length, kHeadDim}, words.data());
    try {
      (void)LogitStore::open(path).read_head(1, 1, 2);
      ADD_FAILURE() << "a -inf in k was read (order " << order << ")";
    } catch (const InputError& error) {
      EXPECT_NE(std::string(error.what())
                    .find("/sequences/001/k: non-finite value -inf at (layer 1, head 2, token 3, "
                          "channel 1)"),
                std::string::npos)
          << error.what();
    }
    words[flat(1, 2, 3, 1, length)] = 0x3c00;
  }
}

TEST_F(LogitStoreTest, UnknownExtraAttributesDoNotStopOpening) {
  const fs::path path = valid_store();
  edit_file(path, [](hid_t file) {
    const hsize_t extent = 3;
    const double values[3] = {1.0, 2.0, 3.0};
    Hdf5Handle space(H5Screate_simple(1, &extent, nullptr), Hdf5Kind::kDataspace);
    put_attribute(file, "/", "extra_float_vector", H5T_NATIVE_DOUBLE, space.get(), values);
  });
  const LogitStore store = LogitStore::open(path);
  EXPECT_EQ(store.info().attributes.find("extra_float_vector"), nullptr);
  EXPECT_NE(store.info().attributes.find("model_name"), nullptr);
}

// ---- writer -----------------------------------------------------------------------------------

TEST_F(LogitStoreWriter, NamesSequencesInIndexOrderAndLeavesNoTemporary) {
  const fs::path path = dir_ / "many.h5";
  write_logit_store(path, test_provenance(), kLayers, kHeads, kHeadDim,
                    make_sequences({3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5}));
  EXPECT_FALSE(fs::exists(temporary_path(path)));
  const LogitStore store = LogitStore::open(path);
  ASSERT_EQ(store.info().sequences.size(), 11u);
  EXPECT_EQ(store.info().sequences[10].name, "010");
  EXPECT_EQ(store.info().sequences[5].length, 9u);
  EXPECT_EQ(std::get<std::int64_t>(*store.info().attributes.find("max_length")), 9);
}

TEST_F(LogitStoreWriter, RejectsBadArgumentsBeforeCreatingAFile) {
  const fs::path path = dir_ / "bad.h5";
  const auto sequences = make_sequences({4});
  Provenance missing = test_provenance();
  missing.attributes.erase(missing.attributes.begin());  // model_name
  EXPECT_THROW(write_logit_store(path, missing, kLayers, kHeads, kHeadDim, sequences),
               std::invalid_argument);
  Provenance owned = test_provenance();
  owned.set("num_heads", std::int64_t{7});
  EXPECT_THROW(write_logit_store(path, owned, kLayers, kHeads, kHeadDim, sequences),
               std::invalid_argument);
  Provenance short_max = test_provenance();
  short_max.set("max_length", std::int64_t{3});
  EXPECT_THROW(write_logit_store(path, short_max, kLayers, kHeads, kHeadDim, sequences),
               std::invalid_argument);
  EXPECT_THROW(write_logit_store(path, test_provenance(), kLayers, kHeads + 1, kHeadDim, sequences),
               std::invalid_argument);
  EXPECT_THROW(write_logit_store(path, test_provenance(), kLayers, kHeads, kHeadDim, {}),
               std::invalid_argument);
  auto truncated = sequences;
  truncated[0].v.pop_back();
  EXPECT_THROW(write_logit_store(path, test_provenance(), kLayers, kHeads, kHeadDim, truncated),
               std::invalid_argument);
  EXPECT_FALSE(fs::exists(path));
  EXPECT_FALSE(fs::exists(temporary_path(path)));
}

// ---- errors: the file -------------------------------------------------------------------------

TEST_F(LogitStoreErrors, MissingFile) {
  open_error(dir_ / "absent.h5", {"no such file"});
}

TEST_F(LogitStoreErrors, TextFileIsNotHdf5) {
  const fs::path path = dir_ / "notes.h5";
  std::ofstream(path) << "this is not an HDF5 file\n";
  open_error(path, {"not an HDF5 file"});
}

TEST_F(LogitStoreErrors, TruncatedFile) {
  const fs::path valid = valid_store();
  const fs::path path = dir_ / "truncated.h5";
  fs::copy_file(valid, path);
  fs::resize_file(path, fs::file_size(path) / 2);
  open_error(path, {});
}

TEST_F(LogitStoreErrors, Hdf5FileWithoutAttributesIsNotAStore) {
  const fs::path path = dir_ / "empty.h5";
  {
    Hdf5Handle file(H5Fcreate(path.string().c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT),
                    Hdf5Kind::kFile);
    ASSERT_TRUE(file.valid());
  }
  open_error(path, {"attribute 'filetype': missing", "not a tvk logit store"});
}

// ---- errors: root attributes ------------------------------------------------------------------

TEST_F(LogitStoreErrors, WrongFiletype) {
  const fs::path path = valid_store();
  set_string_attribute(path, "/", "filetype", "tvk-results");
  open_error(path, {"attribute 'filetype'", "is 'tvk-results', expected 'tvk-logit-store'"});
}

TEST_F(LogitStoreErrors, UnknownFormatVersion) {
  const fs::path path = valid_store();
  set_int_vector_attribute(path, "format_version", {3, 0});
  open_error(path, {"attribute 'format_version'", "unknown format version 3.0",
                    "(this tvk reads 1.x and 2.x)"});
}

TEST_F(LogitStoreErrors, Version2NeedsItsOwnAttributes) {
  // A v1 store relabelled v2 lacks the decoder attributes: the first missing one is named.
  const fs::path path = valid_store();
  set_int_vector_attribute(path, "format_version", {2, 0});
  open_error(path, {"attribute 'model_package': missing"});
}

TEST_F(LogitStoreErrors, NewerMinorVersionIsRead) {
  const fs::path path = valid_store();
  set_int_vector_attribute(path, "format_version", {1, 3});
  EXPECT_EQ(LogitStore::open(path).info().format_minor, 3);
}

TEST_F(LogitStoreErrors, MissingRequiredAttribute) {
  const fs::path path = valid_store();
  delete_attribute(path, "/", "model_weights_sha256");
  open_error(path, {"attribute 'model_weights_sha256'", "missing"});
  const fs::path second = dir_ / "second.h5";
  write_logit_store(second, test_provenance(), kLayers, kHeads, kHeadDim, make_sequences({2}));
  delete_attribute(second, "/", "head_dim");
  open_error(second, {"attribute 'head_dim'", "missing"});
}

TEST_F(LogitStoreErrors, AttributeOfWrongType) {
  const fs::path path = valid_store();
  set_string_attribute(path, "/", "num_heads", "three");
  open_error(path, {"attribute 'num_heads'", "expected an integer, found a string"});
}

TEST_F(LogitStoreErrors, ScaleThatAFloatCannotHold) {
  // Kernels compute in float: 1e300 would become inf and 1e-320 zero.
  for (const double scale : {1e300, 1e-320, -0.5, 0.0}) {
    const fs::path path = valid_store();
    edit_file(path, [&](hid_t file) {
      Hdf5Handle space(H5Screate(H5S_SCALAR), Hdf5Kind::kDataspace);
      put_attribute(file, "/", "scale", H5T_NATIVE_DOUBLE, space.get(), &scale);
    });
    open_error(path, {"attribute 'scale'", "normal float"});
  }
}

TEST_F(LogitStoreErrors, NonPositiveDimension) {
  const fs::path path = valid_store();
  set_int_attribute(path, "/", "num_layers", 0);
  open_error(path, {"attribute 'num_layers'", "must be >= 1, got 0"});
}

TEST_F(LogitStoreErrors, NumSequencesDisagrees) {
  const fs::path path = valid_store();
  set_int_attribute(path, "/", "num_sequences", 3);
  open_error(path, {"/sequences", "holds 2 sequences but attribute 'num_sequences' is 3"});
}

// ---- errors: groups and datasets --------------------------------------------------------------

TEST_F(LogitStoreErrors, MissingSequencesGroup) {
  const fs::path path = valid_store();
  delete_link(path, "/sequences");
  open_error(path, {"/sequences: missing group"});
}

TEST_F(LogitStoreErrors, GapInSequenceNumbering) {
  const fs::path path = valid_store();
  edit_file(path, [](hid_t file) {
    ASSERT_GE(H5Lmove(file, "/sequences/001", file, "/sequences/002", H5P_DEFAULT, H5P_DEFAULT), 0);
  });
  open_error(path, {"/sequences", "no sequence with index 1"});
}

TEST_F(LogitStoreErrors, SubgroupThatIsNotASequenceIndex) {
  const fs::path path = valid_store();
  edit_file(path, [](hid_t file) {
    ASSERT_GE(H5Lmove(file, "/sequences/001", file, "/sequences/extra", H5P_DEFAULT, H5P_DEFAULT),
              0);
  });
  open_error(path, {"/sequences/extra: not a sequence"});
}

TEST_F(LogitStoreErrors, MissingLengthAttribute) {
  const fs::path path = valid_store();
  delete_attribute(path, "/sequences/001", "length");
  open_error(path, {"/sequences/001: attribute 'length': missing"});
}

TEST_F(LogitStoreErrors, LengthBeyondMaxLength) {
  const fs::path path = valid_store();
  set_int_attribute(path, "/", "max_length", 6);
  open_error(path, {"/sequences/001: attribute 'length'", "exceeds", "max_length 6"});
}

TEST_F(LogitStoreErrors, MissingQDataset) {
  const fs::path path = valid_store();
  delete_link(path, "/sequences/000/q");
  open_error(path, {"/sequences/000/q: missing dataset"});
}

TEST_F(LogitStoreErrors, WrongShapeNamesDatasetAndDimensions) {
  const fs::path path = valid_store();
  replace_dataset(path, "/sequences/001/k", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT,
                  {kLayers, kHeads, 6, kHeadDim});
  const std::string message = open_error(path, {});
  EXPECT_EQ(message, path.string() +
                         ": /sequences/001/k: shape [2,3,6,4] does not match [num_layers=2, "
                         "num_heads=3, length=7, head_dim=4]");
}

TEST_F(LogitStoreErrors, WrongRank) {
  const fs::path path = valid_store();
  replace_dataset(path, "/sequences/000/v", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT,
                  {kLayers * kHeads, 5, kHeadDim});
  open_error(path, {"/sequences/000/v: shape [6,5,4] does not match"});
}

TEST_F(LogitStoreErrors, LengthAttributeDisagreesWithTokenIds) {
  const fs::path path = valid_store();
  set_int_attribute(path, "/sequences/000", "length", 6);
  open_error(path, {"/sequences/000/token_ids: shape [5] does not match [length=6]"});
}

TEST_F(LogitStoreErrors, IntegerDtypeForQ) {
  const fs::path path = valid_store();
  replace_dataset(path, "/sequences/000/q", H5T_STD_I32LE, H5T_NATIVE_INT32,
                  {kLayers, kHeads, 5, kHeadDim});
  open_error(path, {"/sequences/000/q: type integer", "expected a float type"});
}

TEST_F(LogitStoreErrors, DatasetThatIsAGroup) {
  const fs::path path = valid_store();
  edit_file(path, [](hid_t file) {
    ASSERT_GE(H5Ldelete(file, "/sequences/001/v", H5P_DEFAULT), 0);
    Hdf5Handle group(H5Gcreate2(file, "/sequences/001/v", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                     Hdf5Kind::kGroup);
    ASSERT_TRUE(group.valid());
  });
  open_error(path, {"/sequences/001/v: is not a dataset"});
}

// ---- errors: values ---------------------------------------------------------------------------

void expect_read_error(const LogitStore& store, std::size_t sequence, std::size_t layer,
                       std::size_t head, const std::vector<std::string>& parts) {
  try {
    (void)store.read_head(sequence, layer, head);
    ADD_FAILURE() << "read_head did not throw";
  } catch (const InputError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find(store.path().string()), std::string::npos) << message;
    for (const std::string& part : parts) {
      EXPECT_NE(message.find(part), std::string::npos) << "'" << part << "' not in: " << message;
    }
  }
}

TEST_F(LogitStoreErrors, NanInKIsFoundWhenTheHeadIsRead) {
  const fs::path path = dir_ / "nan.h5";
  auto sequences = make_sequences({5, 7});
  sequences[1].k[flat(1, 2, 3, 1, 7)] = std::numeric_limits<float>::quiet_NaN();
  write_logit_store(path, test_provenance(), kLayers, kHeads, kHeadDim, sequences);
  const LogitStore store = LogitStore::open(path);  // structure only: opens
  EXPECT_NO_THROW((void)store.read_head(1, 1, 1));
  EXPECT_NO_THROW((void)store.read_head(0, 1, 2));
  expect_read_error(store, 1, 1, 2,
                    {"/sequences/001/k", "nan", "(layer 1, head 2, token 3, channel 1)"});
}

TEST_F(LogitStoreErrors, InfInKIsFoundWhenTheHeadIsRead) {
  const fs::path path = dir_ / "inf.h5";
  auto sequences = make_sequences({5, 7});
  sequences[0].k[flat(0, 1, 4, 3, 5)] = -std::numeric_limits<float>::infinity();
  write_logit_store(path, test_provenance(), kLayers, kHeads, kHeadDim, sequences);
  const LogitStore store = LogitStore::open(path);
  expect_read_error(store, 0, 0, 1,
                    {"/sequences/000/k", "-inf", "(layer 0, head 1, token 4, channel 3)"});
}

// ---- the real fixture (committed: a missing one fails)
// -----------------------------------------------------------

TEST(LogitStoreFixture, MiniLmStoreHasTheExpectedShape) {
  const fs::path path = fs::path(TVK_SOURCE_DIR) / "tests" / "fixtures" / "minilm_store.h5";
  ASSERT_TRUE(fs::exists(path)) << test::missing_fixture(path);
  const LogitStore store = LogitStore::open(path);
  const LogitStoreInfo& info = store.info();
  EXPECT_EQ(info.layers, 6u);
  EXPECT_EQ(info.heads, 12u);
  EXPECT_EQ(info.head_dim, 32u);
  EXPECT_NEAR(info.scale, 1.0 / std::sqrt(32.0), 1e-15);
  bool has_128 = false, has_256 = false;
  for (std::size_t index = 0; index < info.sequences.size(); ++index) {
    has_128 = has_128 || info.sequences[index].length == 128;
    has_256 = has_256 || info.sequences[index].length == 256;
  }
  EXPECT_TRUE(has_128);
  EXPECT_TRUE(has_256);
  // One head of the first and last sequence reads back finite and of the right shape.
  for (const std::size_t sequence : {std::size_t{0}, info.sequences.size() - 1}) {
    const HeadVectors vectors = store.read_head(sequence, info.layers - 1, info.heads - 1);
    EXPECT_EQ(vectors.q.rows(), static_cast<Eigen::Index>(info.sequences[sequence].length));
    EXPECT_EQ(vectors.k.cols(), 32);
    EXPECT_TRUE(vectors.q.allFinite() && vectors.k.allFinite() && vectors.v.allFinite());
  }
}

// Sets an environment variable for one test and restores the old value (or its absence).
class ScopedEnvironment {
 public:
  ScopedEnvironment(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value, 1);
  }
  ~ScopedEnvironment() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }
  ScopedEnvironment(const ScopedEnvironment&) = delete;
  ScopedEnvironment& operator=(const ScopedEnvironment&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST_F(LogitStoreErrors, FilesThatCrashTheHdf5LibraryAreOneInputError) {
  // Damaged files on which libhdf5 1.10.8 itself crashes or loops (found by make fuzz): the
  // structure is read in a child process first, so each is one InputError naming the file.
  // The child's time limit is 2 s here (30 s by default): one of the files loops until stopped.
  const ScopedEnvironment probe("TVK_HDF5_PROBE_SECONDS", "2");
  const fs::path known = fs::path(TVK_SOURCE_DIR) / "tests" / "fuzz" / "known" / "logit_store";
  ASSERT_TRUE(fs::exists(known)) << known << " (committed crash inputs of make fuzz) is missing";
  std::size_t files = 0, stopped = 0;
  for (const auto& entry : fs::directory_iterator(known)) {
    ++files;
    try {
      (void)LogitStore::open(entry.path());
      ADD_FAILURE() << entry.path() << " opened";
    } catch (const InputError& error) {
      const std::string message = error.what();
      EXPECT_NE(message.find(entry.path().string()), std::string::npos) << message;
      if (message.find("did not finish reading its structure in 2 s") != std::string::npos)
        ++stopped;
    }
  }
  EXPECT_GE(files, 1u);
  EXPECT_GE(stopped, 1u) << "hdf5-H5Aread-slow-conversion should run past the time limit";
}

TEST_F(LogitStoreErrors, ProbeTimeLimitFromTheEnvironmentIsChecked) {
  const fs::path path = valid_store();
  for (const char* bad : {"0", "-1", "3601", "2s", "", "ten"}) {
    const ScopedEnvironment probe("TVK_HDF5_PROBE_SECONDS", bad);
    try {
      (void)LogitStore::open(path);
      ADD_FAILURE() << "TVK_HDF5_PROBE_SECONDS='" << bad << "' accepted";
    } catch (const InputError& error) {
      const std::string message = error.what();
      for (const std::string& part : std::vector<std::string>{
               "TVK_HDF5_PROBE_SECONDS", "'" + std::string(bad) + "'", "1 to 3600"})
        EXPECT_NE(message.find(part), std::string::npos) << message;
    }
  }
  const ScopedEnvironment probe("TVK_HDF5_PROBE_SECONDS", "5");
  EXPECT_EQ(LogitStore::open(path).info().layers, kLayers);
}

// ---- format v2 (decoder stores) ---------------------------------------------------------------

class LogitStoreV2 : public LogitStoreTest {
 protected:
  // The valid v1 store turned into a v2 one: causal, the three query heads sharing KV head 0
  // (the v1 k and v of head 0), stored queries at `positions` of each sequence.
  fs::path v2_store(const std::vector<std::vector<std::int64_t>>& positions) {
    const fs::path path = valid_store();
    set_int_vector_attribute(path, "format_version", {2, 0});
    for (const char* name : {"model_package", "model_package_version", "gguf_file", "quantization"})
      set_string_attribute(path, "/", name, std::string("test ") + name);
    edit_file(path, [](hid_t file) {
      Hdf5Handle space(H5Screate(H5S_SCALAR), Hdf5Kind::kDataspace);
      const double zero = 0.0;
      put_attribute(file, "/", "rounding_max_probability_change", H5T_NATIVE_DOUBLE, space.get(),
                    &zero);
    });
    set_int_attribute(path, "/", "num_kv_heads", 1);
    set_int_attribute(path, "/", "causal", 1);
    set_int_attribute(path, "/", "model_num_layers", 10);
    set_int_vector_attribute(path, "kv_head_of_head", {0, 0, 0});
    set_int_vector_attribute(path, "layer_ids", {3, 7});
    for (std::size_t s = 0; s < sequences_.size(); ++s) {
      const std::string group = "/sequences/00" + std::to_string(s);
      const std::size_t length = sequences_[s].token_ids.size();
      std::vector<std::int64_t> all(length);
      for (std::size_t i = 0; i < length; ++i)
        all[i] = static_cast<std::int64_t>(i);
      edit_file(path, [&](hid_t file) {
        for (const auto& [name, values] :
             {std::pair<const char*, const std::vector<std::int64_t>*>{"positions", &all},
              std::pair<const char*, const std::vector<std::int64_t>*>{"query_positions",
                                                                       &positions[s]}}) {
          const hsize_t extent = values->size();
          Hdf5Handle space(H5Screate_simple(1, &extent, nullptr), Hdf5Kind::kDataspace);
          Hdf5Handle dataset(H5Dcreate2(file, (group + "/" + name).c_str(), H5T_STD_I64LE,
                                        space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                             Hdf5Kind::kDataset);
          ASSERT_GE(H5Dwrite(dataset.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                             values->data()),
                    0);
        }
      });
      const std::size_t queries = positions[s].size();
      std::vector<float> q(kLayers * kHeads * queries * kHeadDim), k, v;
      for (std::size_t l = 0; l < kLayers; ++l)
        for (std::size_t h = 0; h < kHeads; ++h)
          for (std::size_t r = 0; r < queries; ++r)
            for (std::size_t c = 0; c < kHeadDim; ++c)
              // A position out of range (open must refuse it) takes the last token's query.
              q[((l * kHeads + h) * queries + r) * kHeadDim + c] =
                  sequences_[s]
                      .q[flat(l, h, std::min(static_cast<std::size_t>(positions[s][r]), length - 1),
                              c, length)];
      for (std::size_t l = 0; l < kLayers; ++l)
        for (std::size_t t = 0; t < length; ++t)
          for (std::size_t c = 0; c < kHeadDim; ++c) {
            k.push_back(sequences_[s].k[flat(l, 0, t, c, length)]);
            v.push_back(sequences_[s].v[flat(l, 0, t, c, length)]);
          }
      replace_dataset(path, group + "/q", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT,
                      {kLayers, kHeads, queries, kHeadDim}, q.data());
      replace_dataset(path, group + "/k", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT,
                      {kLayers, 1, length, kHeadDim}, k.data());
      replace_dataset(path, group + "/v", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT,
                      {kLayers, 1, length, kHeadDim}, v.data());
    }
    return path;
  }
};

TEST_F(LogitStoreV2, CausalRowsOfGroupedHeadsAtStoredPositions) {
  const std::vector<std::vector<std::int64_t>> positions = {{1, 4}, {0, 3, 6}};
  const LogitStore store = LogitStore::open(v2_store(positions));
  const LogitStoreInfo& info = store.info();
  EXPECT_EQ(info.format_major, 2);
  EXPECT_TRUE(info.causal);
  EXPECT_EQ(info.kv_heads, 1u);
  EXPECT_EQ(info.kv_head_of, (std::vector<std::size_t>{0, 0, 0}));
  EXPECT_EQ(info.layer_ids, (std::vector<std::int64_t>{3, 7}));
  EXPECT_EQ(info.sequences[1].query_positions, (std::vector<std::size_t>{0, 3, 6}));
  const std::size_t length = 7;
  const HeadVectors head = store.read_head(1, 1, 2);
  ASSERT_EQ(head.q.rows(), 3);
  ASSERT_EQ(head.k.rows(), 7);
  for (std::size_t r = 0; r < 3; ++r) {
    // Query row r sees keys 0..position; each logit is scale * q . k_j in double.
    const auto position = static_cast<std::size_t>(positions[1][r]);
    ASSERT_EQ(head.key_count(r), position + 1);
    std::vector<double> logits(position + 1);
    head_logits(head, info.scale, r, logits);
    for (std::size_t j = 0; j <= position; ++j) {
      double dot = 0.0;
      for (std::size_t c = 0; c < kHeadDim; ++c) {
        dot += static_cast<double>(sequences_[1].q[flat(1, 2, position, c, length)]) *
               static_cast<double>(sequences_[1].k[flat(1, 0, j, c, length)]);
      }
      EXPECT_EQ(logits[j], info.scale * dot) << "row " << r << " key " << j;
    }
    std::vector<double> too_many(position + 2);
    EXPECT_THROW(head_logits(head, info.scale, r, too_many), std::invalid_argument);
  }
}

TEST_F(LogitStoreV2, QueryPositionsMustBeAscendingAndInRange) {
  open_error(v2_store({{1, 4}, {0, 3, 7}}),
             {"/sequences/001/query_positions", "entry 2 is 7", "ascending, distinct"});
  open_error(v2_store({{4, 1}, {0}}), {"/sequences/000/query_positions", "entry 1 is 1"});
}

TEST_F(LogitStoreV2, KvHeadMapMustNameKvHeads) {
  const fs::path path = v2_store({{4}, {6}});
  set_int_vector_attribute(path, "kv_head_of_head", {0, 1, 0});
  open_error(path, {"attribute 'kv_head_of_head'", "entry 1 is not a KV head"});
}

}  // namespace
}  // namespace tvk
