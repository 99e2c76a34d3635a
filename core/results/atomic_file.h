#pragma once
//! \file Atomic file writing: a file appears under its name complete or not at all.

#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

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

//! Writes `bytes` to `path` atomically (temporary file, checked write and close, rename). A
//! failure (a full disk, a folder in the way) throws std::filesystem::filesystem_error naming
//! `path`, "cannot write <what>", and the system's reason; no file is left behind.
void write_file_atomically(const std::filesystem::path& path, const std::string& bytes,
                           const std::string& what);

//! The files of one set of results (an .h5 and its CSVs), all or none: each path added is
//! removed again when the set is destroyed before commit(), e.g. when a later file of the set
//! fails to write (a full disk), so no .h5 is left without its .csv.
class ResultFiles {
 public:
  ResultFiles() = default;
  ResultFiles(const ResultFiles&) = delete;
  ResultFiles& operator=(const ResultFiles&) = delete;
  ~ResultFiles() {
    if (committed_) return;
    std::error_code ignored;
    for (const auto& path : written_)
      std::filesystem::remove(path, ignored);
  }
  //! Writes one file of the set with `write(path)` and remembers it.
  template <class Write>
  void write(const std::filesystem::path& path, Write&& write_file) {
    write_file(path);
    written_.push_back(path);
  }
  void commit() { committed_ = true; }

 private:
  std::vector<std::filesystem::path> written_;
  bool committed_ = false;
};

}  // namespace tvk
