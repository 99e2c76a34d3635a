#include "core/results/atomic_file.h"

#include <cerrno>
#include <cstdio>
#include <system_error>

namespace tvk {

std::filesystem::path temporary_path(const std::filesystem::path& path) {
  std::filesystem::path tmp = path;
  tmp += ".tmp";
  return tmp;
}

void write_file_atomically(const std::filesystem::path& path, const std::string& bytes,
                           const std::string& what) {
  write_atomically(path, [&](const std::filesystem::path& tmp) {
    auto fail = [&](int error) {
      throw std::filesystem::filesystem_error("cannot write " + what, path,
                                              std::error_code(error, std::generic_category()));
    };
    std::FILE* stream = std::fopen(tmp.string().c_str(), "wb");
    if (stream == nullptr) fail(errno);
    const bool written = std::fwrite(bytes.data(), 1, bytes.size(), stream) == bytes.size();
    const int write_errno = errno;
    // fclose flushes: a full disk may only show here.
    if (std::fclose(stream) != 0 || !written) fail(written ? errno : write_errno);
  });
}

}  // namespace tvk
