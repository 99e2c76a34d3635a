//! \file A per-test temporary directory: created empty on construction, removed (with
//! everything in it) on destruction. Header-only test support.

#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <system_error>
#include <utility>

namespace tvk::test {

class TempDir {
 public:
  //! Creates `path` empty (removing whatever was there).
  explicit TempDir(std::filesystem::path path) : path_(std::move(path)) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  //! `<tmp>/<prefix><pid>_<suite>_<test>` for the running GoogleTest test.
  static TempDir for_current_test(const std::string& prefix) {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    return TempDir(
        std::filesystem::temp_directory_path() /
        (prefix + std::to_string(::getpid()) + "_" + info->test_suite_name() + "_" + info->name()));
  }

  //! `<tmp>/<prefix><pid>_<n>`, n counting up within the process.
  static TempDir numbered(const std::string& prefix) {
    static int counter = 0;
    return TempDir(std::filesystem::temp_directory_path() /
                   (prefix + std::to_string(::getpid()) + "_" + std::to_string(counter++)));
  }

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace tvk::test
