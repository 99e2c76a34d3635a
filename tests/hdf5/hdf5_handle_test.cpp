#include "core/hdf5/hdf5_handle.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <utility>

#include "core/error.h"
#include "tests/support/temp_dir.h"

namespace tvk {
namespace {

class Hdf5HandleTest : public ::testing::Test {
 protected:
  test::TempDir temp_ = test::TempDir::for_current_test("tvk_io_");
  const std::filesystem::path dir_ = temp_.path();
};

bool is_open(hid_t id) {
  return H5Iis_valid(id) > 0;
}

TEST_F(Hdf5HandleTest, ClosesOnDestruction) {
  hid_t id = H5I_INVALID_HID;
  {
    Hdf5Handle space(H5Screate(H5S_SCALAR), Hdf5Kind::kDataspace);
    id = space.get();
    EXPECT_TRUE(space.valid());
    EXPECT_TRUE(is_open(id));
  }
  EXPECT_FALSE(is_open(id));
}

TEST_F(Hdf5HandleTest, MoveTransfersOwnership) {
  Hdf5Handle first(H5Tcopy(H5T_NATIVE_DOUBLE), Hdf5Kind::kDatatype);
  const hid_t id = first.get();
  Hdf5Handle second = std::move(first);
  EXPECT_FALSE(first.valid());  // NOLINT(bugprone-use-after-move): moved-from state is defined
  EXPECT_EQ(second.get(), id);
  EXPECT_EQ(second.kind(), Hdf5Kind::kDatatype);
  Hdf5Handle third(H5Pcreate(H5P_DATASET_CREATE), Hdf5Kind::kPropertyList);
  const hid_t plist = third.get();
  third = std::move(second);  // closes the property list it held
  EXPECT_FALSE(is_open(plist));
  EXPECT_TRUE(is_open(id));
  third.reset();
  EXPECT_FALSE(is_open(id));
  EXPECT_FALSE(third.valid());
}

TEST_F(Hdf5HandleTest, ReleaseGivesUpOwnership) {
  hid_t id = H5I_INVALID_HID;
  {
    Hdf5Handle space(H5Screate(H5S_SCALAR), Hdf5Kind::kDataspace);
    id = space.release();
  }
  EXPECT_TRUE(is_open(id));
  H5Sclose(id);
}

TEST_F(Hdf5HandleTest, EveryKindCloses) {
  const std::string file_name = (dir_ / "kinds.h5").string();
  Hdf5Handle file(H5Fcreate(file_name.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT),
                  Hdf5Kind::kFile);
  ASSERT_TRUE(file.valid());
  Hdf5Handle group(H5Gcreate2(file.get(), "g", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                   Hdf5Kind::kGroup);
  Hdf5Handle space(H5Screate(H5S_SCALAR), Hdf5Kind::kDataspace);
  Hdf5Handle dataset(H5Dcreate2(group.get(), "d", H5T_NATIVE_DOUBLE, space.get(), H5P_DEFAULT,
                                H5P_DEFAULT, H5P_DEFAULT),
                     Hdf5Kind::kDataset);
  Hdf5Handle attribute(
      H5Acreate2(dataset.get(), "a", H5T_NATIVE_INT64, space.get(), H5P_DEFAULT, H5P_DEFAULT),
      Hdf5Kind::kAttribute);
  const hid_t ids[] = {group.get(), dataset.get(), attribute.get()};
  for (hid_t id : ids)
    EXPECT_TRUE(is_open(id));
  attribute.close("attribute");
  dataset.close("dataset");
  group.close("group");
  for (hid_t id : ids)
    EXPECT_FALSE(is_open(id));
  EXPECT_NO_THROW(file.close(file_name));
  EXPECT_FALSE(file.valid());
}

TEST_F(Hdf5HandleTest, FailedCloseThrowsNamingTheObject) {
  Hdf5Handle space(H5Screate(H5S_SCALAR), Hdf5Kind::kDataspace);
  H5Sclose(space.get());  // closed behind the handle's back: its own close must now fail
  try {
    space.close("out.h5: dataset 'points'");
    FAIL() << "expected Hdf5Error";
  } catch (const Hdf5Error& error) {
    EXPECT_NE(std::string(error.what()).find("out.h5: dataset 'points': cannot close"),
              std::string::npos)
        << error.what();
  }
  EXPECT_FALSE(space.valid());
}

TEST_F(Hdf5HandleTest, CheckedCallsThrowWithDetailAndPrintNothing) {
  const std::string missing = (dir_ / "no" / "such" / "file.h5").string();
  // The raw H5Fopen below runs before any tvk call could silence HDF5 (in a process of its own
  // under ctest), so silence first, as every tvk entry point does.
  silence_hdf5_error_printing();
  ::testing::internal::CaptureStderr();
  try {
    (void)checked_handle(H5Fopen(missing.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), Hdf5Kind::kFile,
                         missing, "open");
    ADD_FAILURE() << "expected Hdf5Error";
  } catch (const Hdf5Error& error) {
    const std::string message = error.what();
    EXPECT_EQ(message.rfind(missing + ": cannot open (", 0), 0u) << message;
    EXPECT_NE(message.find("unable to open file"), std::string::npos) << message;
  }
  EXPECT_THROW(check_hdf5(-1, "where", "do it"), Hdf5Error);
  EXPECT_NO_THROW(check_hdf5(0, "where", "do it"));
  // One clear message: HDF5's own error-stack dump must not reach the terminal.
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
}

TEST_F(Hdf5HandleTest, OpenReadOnlyRejectsMissingAndForeignFiles) {
  const std::filesystem::path missing = dir_ / "missing.h5";
  try {
    (void)open_hdf5_file_read_only(missing);
    FAIL() << "expected InputError";
  } catch (const InputError& error) {
    EXPECT_EQ(std::string(error.what()), missing.string() + ": no such file");
  }
  const std::filesystem::path text = dir_ / "text.h5";
  std::ofstream(text) << "not hdf5\n";
  try {
    (void)open_hdf5_file_read_only(text);
    FAIL() << "expected InputError";
  } catch (const InputError& error) {
    EXPECT_NE(std::string(error.what()).find(text.string() + ": not an HDF5 file"),
              std::string::npos)
        << error.what();
  }
  EXPECT_THROW((void)open_hdf5_file_read_only(dir_), InputError);
}

TEST_F(Hdf5HandleTest, OpenDatasetNamesMissingPaths) {
  const std::filesystem::path path = dir_ / "d.h5";
  {
    Hdf5Handle file(H5Fcreate(path.string().c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT),
                    Hdf5Kind::kFile);
    Hdf5Handle group(H5Gcreate2(file.get(), "g", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                     Hdf5Kind::kGroup);
    Hdf5Handle space(H5Screate(H5S_SCALAR), Hdf5Kind::kDataspace);
    Hdf5Handle dataset(H5Dcreate2(group.get(), "x", H5T_NATIVE_DOUBLE, space.get(), H5P_DEFAULT,
                                  H5P_DEFAULT, H5P_DEFAULT),
                       Hdf5Kind::kDataset);
  }
  Hdf5Handle file = open_hdf5_file_read_only(path);
  EXPECT_TRUE(open_hdf5_dataset(file, path, "g/x").valid());
  EXPECT_TRUE(open_hdf5_dataset(file, path, "/g/x").valid());
  for (const char* name : {"y", "g/y", "h/x", "g/x/z"}) {
    try {
      (void)open_hdf5_dataset(file, path, name);
      ADD_FAILURE() << "expected InputError for " << name;
    } catch (const InputError& error) {
      EXPECT_EQ(std::string(error.what()).rfind(path.string() + ": dataset '" + name + "'", 0), 0u)
          << error.what();
    }
  }
  try {
    (void)open_hdf5_dataset(file, path, "g");
    FAIL() << "expected InputError";
  } catch (const InputError& error) {
    EXPECT_NE(std::string(error.what()).find("is not a dataset"), std::string::npos);
  }
}

}  // namespace
}  // namespace tvk
