#include "experiments/partial_file.h"

#include <cstring>
#include <fstream>
#include <iterator>

#include "core/error.h"
#include "tvk/version.h"

namespace tvk {
namespace fs = std::filesystem;

namespace {

constexpr char kMagic[] = "tvk-partial 1\n";

void put_u64(std::string& out, std::uint64_t value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof value);
}
void put_text(std::string& out, const std::string& text) {
  put_u64(out, text.size());
  out += text;
}

struct Reader {
  const std::string& bytes;
  const fs::path& path;
  std::size_t offset = 0;
  std::uint64_t u64() {
    std::uint64_t value = 0;
    if (offset + sizeof value > bytes.size()) truncated();
    std::memcpy(&value, bytes.data() + offset, sizeof value);
    offset += sizeof value;
    return value;
  }
  std::string text() {
    const std::uint64_t size = u64();
    if (size > bytes.size() - offset) truncated();
    std::string value = bytes.substr(offset, size);
    offset += size;
    return value;
  }
  [[noreturn]] void truncated() const {
    throw InputError(path.string() + ": truncated or corrupt tvk partial file");
  }
};

}  // namespace

fs::path partial_path(const fs::path& out_dir, const std::string& name, std::size_t index,
                      std::size_t count) {
  return out_dir /
         (name + ".shard-" + std::to_string(index) + "-of-" + std::to_string(count) + ".tvkpart");
}

void write_partial(const fs::path& path, PartialHeader header,
                   const std::vector<PointShare>& shares) {
  header.tvk_version = build::kVersion;
  std::string bytes = kMagic;
  put_text(bytes, header.kind);
  put_text(bytes, header.config_text);
  put_text(bytes, header.config_file);
  put_u64(bytes, header.seed);
  put_u64(bytes, header.shard_index);
  put_u64(bytes, header.shard_count);
  put_u64(bytes, header.points);
  put_text(bytes, header.tvk_version);
  put_u64(bytes, shares.size());
  for (const PointShare& share : shares)
    put_text(bytes, share.serialize());
  fs::path temporary = path;
  temporary += ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) throw std::runtime_error(temporary.string() + ": cannot write");
  }
  fs::rename(temporary, path);
}

Partial read_partial(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path.string() + ": cannot open partial file");
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.compare(0, sizeof kMagic - 1, kMagic) != 0) {
    throw InputError(path.string() + ": not a tvk partial file (written by tvk run --shard)");
  }
  Reader reader{bytes, path, sizeof kMagic - 1};
  Partial partial;
  partial.path = path;
  PartialHeader& h = partial.header;
  h.kind = reader.text();
  h.config_text = reader.text();
  h.config_file = reader.text();
  h.seed = reader.u64();
  h.shard_index = reader.u64();
  h.shard_count = reader.u64();
  h.points = reader.u64();
  h.tvk_version = reader.text();
  const std::uint64_t count = reader.u64();
  for (std::uint64_t i = 0; i < count; ++i)
    partial.shares.push_back(reader.text());
  if (reader.offset != bytes.size() || count != h.points) reader.truncated();
  return partial;
}

void parse_shard(const std::string& text, std::size_t& index, std::size_t& count) {
  const auto slash = text.find('/');
  auto digits = [](const std::string& s) {
    return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
  };
  const std::string left = text.substr(0, slash),
                    right = slash == std::string::npos ? "" : text.substr(slash + 1);
  if (slash == std::string::npos || !digits(left) || !digits(right) || std::stoull(right) == 0 ||
      std::stoull(left) >= std::stoull(right)) {
    throw InputError("--shard: expected i/N with 0 <= i < N (e.g. 0/4), got '" + text + "'");
  }
  index = std::stoull(left);
  count = std::stoull(right);
}

}  // namespace tvk
