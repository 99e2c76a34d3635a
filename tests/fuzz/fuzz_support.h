#pragma once
//! \file Shared by the fuzz targets (tests/fuzz/*_fuzz.cpp): a per-process scratch folder for
//! targets whose entry point reads a file, and the libFuzzer entry point's declaration. Each
//! target returns normally for input tvk rejects cleanly (tvk::InputError, or the exception
//! type its API documents); anything else escaping, a crash or a sanitizer report is a finding.

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <system_error>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace tvk::fuzz {

//! `<tmp>/tvk-fuzz-<pid>`, created on first use and removed at exit.
inline const std::filesystem::path& scratch_dir() {
  struct Dir {
    std::filesystem::path path =
        std::filesystem::temp_directory_path() / ("tvk-fuzz-" + std::to_string(::getpid()));
    Dir() { std::filesystem::create_directories(path); }
    ~Dir() {
      std::error_code ignored;
      std::filesystem::remove_all(path, ignored);
    }
  };
  static const Dir dir;
  return dir.path;
}

//! Writes `bytes` to `path` (truncating it).
inline void write_bytes(const std::filesystem::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

//! A finding that is not a crash (a broken invariant): abort so libFuzzer keeps the input.
[[noreturn]] inline void fail(const char* what) {
  std::fprintf(stderr, "tvk fuzz: invariant broken: %s\n", what);
  std::abort();
}

}  // namespace tvk::fuzz
