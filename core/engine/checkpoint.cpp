#include "core/engine/checkpoint.h"

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <ostream>
#include <sstream>
#include <system_error>

#include "core/engine/checksum.h"
#include "core/error.h"

namespace tvk {
namespace fs = std::filesystem;

namespace {

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_atomically(const fs::path& path, const std::string& bytes) {
  fs::path temporary = path;
  temporary += ".tmp";
  // A full disk is the system's error on the path (one line, exit 2), not an internal one.
  auto fail = [&](int error) {
    std::error_code ignored;
    fs::remove(temporary, ignored);
    throw fs::filesystem_error("cannot write checkpoint", path,
                               std::error_code(error, std::generic_category()));
  };
  std::FILE* stream = std::fopen(temporary.c_str(), "wb");
  if (stream == nullptr) fail(errno);
  const bool written = std::fwrite(bytes.data(), 1, bytes.size(), stream) == bytes.size();
  const int write_errno = errno;
  if (std::fclose(stream) != 0 || !written) fail(written ? errno : write_errno);
  fs::rename(temporary, path);
}

}  // namespace

std::string fingerprint_of(const std::string& text) {
  return checksum_hex({text});
}

CheckpointStore::CheckpointStore(fs::path dir, std::string fingerprint, bool resume)
    : dir_(std::move(dir)), fingerprint_(fingerprint) {
  const fs::path manifest = dir_ / "manifest.txt";
  if (resume && fs::exists(manifest)) {
    const std::string found = read_file(manifest);
    if (found != fingerprint) {
      throw InputError(
          dir_.string() +
          ": the checkpoint belongs to a different config, seed, input store or tvk version; "
          "rerun without --resume to start over");
    }
    for (const auto& entry : fs::directory_iterator(dir_)) {
      if (entry.path().extension() == ".bin") ++resumed_;
    }
    return;
  }
  fs::remove_all(dir_);
  fs::create_directories(dir_);
  write_atomically(manifest, fingerprint);
}

std::string CheckpointStore::point_checksum(std::size_t point, const std::string& bytes) const {
  return checksum_hex({fingerprint_, std::to_string(point), bytes});
}

fs::path CheckpointStore::point_path(std::size_t point) const {
  return dir_ / ("point_" + std::to_string(point) + ".bin");
}

// A point file is this header line, then the payload. The checksum (XXH3-64 of the run's
// fingerprint, the point index and the payload) catches a changed byte, and also a file copied
// from another point or another run, which a checksum of the payload alone would accept.
constexpr char kPointMagic[] = "tvk-checkpoint-point 2 ";
constexpr std::size_t kHeaderSize = sizeof kPointMagic - 1 + 16 + 1;  // magic, hex, newline

std::optional<std::string> CheckpointStore::load(std::size_t point) const {
  const fs::path path = point_path(point);
  if (!fs::exists(path)) return std::nullopt;
  std::string bytes = read_file(path);
  const std::string magic = kPointMagic;
  if (bytes.size() < kHeaderSize || bytes.compare(0, magic.size(), magic) != 0 ||
      bytes[kHeaderSize - 1] != '\n') {
    throw InputError(path.string() + ": damaged checkpoint (no valid header)");
  }
  const std::string stored = bytes.substr(magic.size(), 16);
  bytes.erase(0, kHeaderSize);
  if (point_checksum(point, bytes) != stored) {
    throw InputError(path.string() +
                     ": damaged checkpoint, or one of another point or run (checksum mismatch)");
  }
  return bytes;
}

void CheckpointStore::save(std::size_t point, const std::string& bytes) const {
  write_atomically(point_path(point), kPointMagic + point_checksum(point, bytes) + "\n" + bytes);
}

std::vector<char> CheckpointStore::restore_saved(
    std::size_t count, const std::function<void(std::size_t, const std::string&)>& restore,
    const std::string& noun, std::ostream& log) const {
  std::vector<char> restored(count, 0);
  std::size_t loaded = 0;
  for (std::size_t i = 0; i < count; ++i) {
    try {
      if (auto bytes = load(i)) {
        restore(i, *bytes);
        restored[i] = 1;
        ++loaded;
      }
    } catch (const std::exception& error) {
      // A damaged item is recomputed: the data do not depend on where they came from.
      log << "tvk: " << error.what() << "; recomputing " << noun << " " << i << "\n";
    }
  }
  if (loaded > 0) {
    log << "resuming: " << loaded << " of " << count << " " << noun << "s loaded from "
        << dir_.string() << "\n";
  }
  return restored;
}

void CheckpointStore::remove() const {
  fs::remove_all(dir_);
}

}  // namespace tvk
