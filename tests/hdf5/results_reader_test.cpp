#include "core/hdf5/results_reader.h"

#include <gtest/gtest.h>
#include <hdf5.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/hdf5/hdf5_handle.h"
#include "core/hdf5/results_writer.h"
#include "tests/support/temp_dir.h"

namespace tvk {
namespace {

class ResultsReaderTest : public ::testing::Test {
 protected:
  test::TempDir temp_ = test::TempDir::for_current_test("tvk_io_");
  const std::filesystem::path dir_ = temp_.path();

  void SetUp() override {
    path_ = dir_ / "results.h5";
    Table points;
    points.columns.push_back({"x", std::vector<double>{1.0, 2.0}, ""});
    write_results_h5(path_, {}, {{"points", points, ""}}, {{"coords/sigma", {0.5, 1.0}, {2}, ""}});
  }

  // Expects `body` to throw InputError whose message contains every one of `parts`.
  template <class Body>
  void expect_input_error(Body&& body, const std::vector<std::string>& parts) {
    try {
      body();
      ADD_FAILURE() << "expected InputError";
    } catch (const InputError& error) {
      for (const std::string& part : parts) {
        EXPECT_NE(std::string(error.what()).find(part), std::string::npos)
            << "'" << part << "' not in: " << error.what();
      }
    }
  }

  std::filesystem::path path_;
};

TEST_F(ResultsReaderTest, MissingFileNamesTheFile) {
  const std::filesystem::path missing = dir_ / "missing.h5";
  expect_input_error([&] { (void)read_table(missing, "points"); },
                     {missing.string(), "no such file"});
  expect_input_error([&] { (void)read_provenance(missing); }, {missing.string()});
}

TEST_F(ResultsReaderTest, CorruptFileIsInputError) {
  const std::filesystem::path text = dir_ / "text.h5";
  std::ofstream(text) << "this is not HDF5";
  expect_input_error([&] { (void)read_table(text, "points"); },
                     {text.string(), "not an HDF5 file"});
  // A truncated results file: the signature is there, the rest is gone.
  const std::filesystem::path truncated = dir_ / "truncated.h5";
  std::filesystem::copy_file(path_, truncated);
  std::filesystem::resize_file(truncated, 600);
  try {
    (void)read_table(truncated, "points");
    ADD_FAILURE() << "expected InputError";
  } catch (const InputError& error) {
    EXPECT_NE(std::string(error.what()).find(truncated.string()), std::string::npos)
        << error.what();
  }
}

TEST_F(ResultsReaderTest, MissingDatasetNamesFileAndDataset) {
  expect_input_error([&] { (void)read_table(path_, "rows"); },
                     {path_.string(), "dataset 'rows'", "does not exist"});
  expect_input_error([&] { (void)read_array(path_, "coords/eps"); },
                     {path_.string(), "dataset 'coords/eps'", "does not exist"});
  expect_input_error([&] { (void)read_array(path_, "nope/eps"); },
                     {path_.string(), "dataset 'nope/eps'"});
}

TEST_F(ResultsReaderTest, WrongTypeNamesFileAndDataset) {
  expect_input_error([&] { (void)read_table(path_, "coords/sigma"); },
                     {path_.string(), "dataset 'coords/sigma'", "is not a table"});
  expect_input_error([&] { (void)read_array(path_, "points"); },
                     {path_.string(), "dataset 'points'", "is not a numeric array"});
  expect_input_error([&] { (void)read_array(path_, "coords"); },
                     {path_.string(), "'coords'", "is not a dataset"});
}

TEST_F(ResultsReaderTest, ListsDatasets) {
  ResultsReader reader(path_);
  EXPECT_EQ(reader.path(), path_);
  EXPECT_EQ(reader.dataset_names(), (std::vector<std::string>{"coords/sigma", "points"}));
  EXPECT_TRUE(reader.has_dataset("points"));
  EXPECT_TRUE(reader.has_dataset("coords/sigma"));
  EXPECT_FALSE(reader.has_dataset("coords"));
  EXPECT_FALSE(reader.has_dataset("rows"));
  EXPECT_EQ(reader.table("points").rows(), 2u);
}

// A file as another tool might write it: int32, float32, space-padded and variable-length
// string fields, a fixed-length string attribute and an unsupported 2-D float attribute.
void write_foreign_file(const std::filesystem::path& path) {
  Hdf5Handle file(H5Fcreate(path.string().c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT),
                  Hdf5Kind::kFile);
  ASSERT_TRUE(file.valid());
  struct Row {
    std::int32_t count;
    float value;
    char padded[4];
    const char* text;
  };
  Hdf5Handle padded(H5Tcopy(H5T_C_S1), Hdf5Kind::kDatatype);
  H5Tset_size(padded.get(), 4);
  H5Tset_strpad(padded.get(), H5T_STR_SPACEPAD);
  Hdf5Handle variable(H5Tcopy(H5T_C_S1), Hdf5Kind::kDatatype);
  H5Tset_size(variable.get(), H5T_VARIABLE);
  Hdf5Handle row_type(H5Tcreate(H5T_COMPOUND, sizeof(Row)), Hdf5Kind::kDatatype);
  H5Tinsert(row_type.get(), "count", HOFFSET(Row, count), H5T_NATIVE_INT32);
  H5Tinsert(row_type.get(), "value", HOFFSET(Row, value), H5T_NATIVE_FLOAT);
  H5Tinsert(row_type.get(), "padded", HOFFSET(Row, padded), padded.get());
  H5Tinsert(row_type.get(), "text", HOFFSET(Row, text), variable.get());
  Row rows[2] = {{-3, 0.5f, {'a', 'b', ' ', ' '}, "first"}, {7, 2.25f, {'c', 'd', 'e', 'f'}, ""}};
  const hsize_t extent = 2;
  Hdf5Handle space(H5Screate_simple(1, &extent, nullptr), Hdf5Kind::kDataspace);
  Hdf5Handle dataset(H5Dcreate2(file.get(), "table", row_type.get(), space.get(), H5P_DEFAULT,
                                H5P_DEFAULT, H5P_DEFAULT),
                     Hdf5Kind::kDataset);
  ASSERT_GE(H5Dwrite(dataset.get(), row_type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, rows), 0);

  Hdf5Handle fixed(H5Tcopy(H5T_C_S1), Hdf5Kind::kDatatype);
  H5Tset_size(fixed.get(), 8);
  H5Tset_strpad(fixed.get(), H5T_STR_NULLTERM);
  Hdf5Handle scalar(H5Screate(H5S_SCALAR), Hdf5Kind::kDataspace);
  Hdf5Handle attribute(
      H5Acreate2(file.get(), "label", fixed.get(), scalar.get(), H5P_DEFAULT, H5P_DEFAULT),
      Hdf5Kind::kAttribute);
  const char label[8] = {'h', 'e', 'l', 'l', 'o', '\0', '\0', '\0'};
  ASSERT_GE(H5Awrite(attribute.get(), fixed.get(), label), 0);
}

TEST_F(ResultsReaderTest, ReadsForeignTypes) {
  const std::filesystem::path path = dir_ / "foreign.h5";
  write_foreign_file(path);
  const Table table = read_table(path, "table");
  EXPECT_EQ(to_canonical_text(table),
            "count:i64,value:f64,padded:str,text:str\n"
            "-3,0.5,ab,first\n"
            "7,2.25,cdef,\n");
  const Provenance provenance = read_provenance(path);
  ASSERT_EQ(provenance.attributes.size(), 1u);
  EXPECT_EQ(std::get<std::string>(provenance.attributes[0].second), "hello");
}

TEST_F(ResultsReaderTest, UnsupportedAttributeNamesIt) {
  const std::filesystem::path path = dir_ / "matrix_attribute.h5";
  {
    Hdf5Handle file(H5Fcreate(path.string().c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT),
                    Hdf5Kind::kFile);
    const hsize_t dims[2] = {2, 2};
    Hdf5Handle space(H5Screate_simple(2, dims, nullptr), Hdf5Kind::kDataspace);
    Hdf5Handle attribute(
        H5Acreate2(file.get(), "matrix", H5T_NATIVE_DOUBLE, space.get(), H5P_DEFAULT, H5P_DEFAULT),
        Hdf5Kind::kAttribute);
    const double values[4] = {1, 2, 3, 4};
    ASSERT_GE(H5Awrite(attribute.get(), H5T_NATIVE_DOUBLE, values), 0);
  }
  expect_input_error([&] { (void)read_provenance(path); },
                     {path.string(), "attribute 'matrix'", "unsupported"});
}

}  // namespace
}  // namespace tvk
