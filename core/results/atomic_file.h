#pragma once
//! \file Atomic file writing: a file appears under its name complete or not at all.

#include <filesystem>
#include <system_error>

namespace tvk {

//! `path` with ".tmp" appended: where the writers put the file until it is complete.
std::filesystem::path temporary_path(const std::filesystem::path& path);

//! Runs `write(tmp)` with tmp = temporary_path(path), then renames tmp onto `path`; on any
//! exception removes tmp and rethrows, so no half-written file is ever left behind. `write` must
//! have closed the file (and reported a failing close) before it returns.
template <class Write>
void write_atomically(const std::filesystem::path& path, Write&& write) {
  const std::filesystem::path tmp = temporary_path(path);
  try {
    write(tmp);
    std::filesystem::rename(tmp, path);
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    throw;
  }
}

}  // namespace tvk
