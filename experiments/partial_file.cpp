#include "experiments/partial_file.h"

#include <charconv>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>

#include "core/engine/byte_codec.h"
#include "core/engine/checksum.h"
#include "core/error.h"
#include "core/results/atomic_file.h"
#include "tvk/version.h"

namespace tvk {
namespace fs = std::filesystem;

namespace {

// Layout: magic line, the header's fields, the shares (ByteWriter records), then the
// checksum of everything before it. A bump of the magic's number refuses older files.
constexpr char kMagic[] = "tvk-partial 2\n";
constexpr std::size_t kMagicSize = sizeof kMagic - 1;

[[noreturn]] void corrupt(const fs::path& path, const std::string& why) {
  throw InputError(path.string() + ": damaged tvk partial file (" + why + ")");
}

}  // namespace

fs::path partial_path(const fs::path& out_dir, const std::string& name, std::size_t index,
                      std::size_t count) {
  return out_dir /
         (name + ".shard-" + std::to_string(index) + "-of-" + std::to_string(count) + ".tvkpart");
}

void write_partial(const fs::path& path, PartialHeader header,
                   const std::vector<std::string>& shares) {
  header.tvk_version = build::kVersion;
  ByteWriter writer;
  writer.put_record(header.kind);
  writer.put_record(header.config_text);
  writer.put_record(header.config_file);
  writer.put<std::uint64_t>(header.seed);
  writer.put<std::uint64_t>(header.shard_index);
  writer.put<std::uint64_t>(header.shard_count);
  writer.put<std::uint64_t>(header.units);
  writer.put_record(header.fingerprint);
  writer.put_record(header.tvk_version);
  writer.put<std::uint64_t>(shares.size());
  for (const std::string& share : shares)
    writer.put_record(share);
  std::string bytes = kMagic + writer.take();
  const std::uint64_t sum = checksum64({bytes});
  bytes.append(reinterpret_cast<const char*>(&sum), sizeof sum);
  write_atomically(path, [&](const fs::path& temporary) {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) throw std::runtime_error(temporary.string() + ": cannot write partial file");
  });
}

Partial read_partial(const fs::path& path) {
  if (fs::is_directory(path)) throw InputError(path.string() + ": is a folder, not a partial file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path.string() + ": cannot open partial file");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.compare(0, kMagicSize, kMagic) != 0) {
    if (bytes.compare(0, 12, "tvk-partial ") == 0) {
      throw InputError(path.string() + ": a partial file of an older tvk; rerun its shard");
    }
    throw InputError(path.string() + ": not a tvk partial file (written by tvk run --shard)");
  }
  std::uint64_t stored = 0;
  if (bytes.size() < kMagicSize + sizeof stored) corrupt(path, "truncated");
  std::memcpy(&stored, bytes.data() + bytes.size() - sizeof stored, sizeof stored);
  bytes.resize(bytes.size() - sizeof stored);
  if (checksum64({bytes}) != stored) corrupt(path, "checksum mismatch");
  const std::string body = bytes.substr(kMagicSize);
  Partial partial;
  partial.path = path;
  PartialHeader& h = partial.header;
  try {
    ByteReader reader(body, "partial file");
    h.kind = reader.get_record();
    h.config_text = reader.get_record();
    h.config_file = reader.get_record();
    h.seed = reader.get<std::uint64_t>();
    h.shard_index = reader.get<std::uint64_t>();
    h.shard_count = reader.get<std::uint64_t>();
    h.units = reader.get<std::uint64_t>();
    h.fingerprint = reader.get_record();
    h.tvk_version = reader.get_record();
    const auto count = reader.get<std::uint64_t>();
    if (count != h.units) corrupt(path, "share count differs from its unit count");
    for (std::uint64_t i = 0; i < count; ++i)
      partial.shares.push_back(reader.get_record());
    if (!reader.done()) corrupt(path, "bytes after the last share");
  } catch (const InputError&) {
    throw;
  } catch (const std::exception& error) {
    corrupt(path, error.what());
  }
  if (h.shard_count == 0 || h.shard_index >= h.shard_count) corrupt(path, "bad shard index");
  return partial;
}

std::vector<const Partial*> order_partials(const std::vector<Partial>& partials) {
  if (partials.empty()) throw InputError("tvk merge: no partial files given");
  const Partial& first = partials.front();
  auto refuse = [&](const Partial& other, const std::string& what) {
    throw InputError(other.path.string() + ": " + what + " differs from " + first.path.string() +
                     "'s; partials of different runs cannot be merged");
  };
  // By index, not a vector of shard_count slots: a damaged count must not allocate 2^64 of them.
  std::map<std::size_t, const Partial*> by_index;
  for (const Partial& p : partials) {
    if (p.header.kind != first.header.kind) refuse(p, "experiment kind");
    if (p.header.config_text != first.header.config_text) refuse(p, "the config");
    if (p.header.seed != first.header.seed) refuse(p, "the seed");
    if (p.header.tvk_version != first.header.tvk_version) refuse(p, "the tvk version");
    if (p.header.shard_count != first.header.shard_count) refuse(p, "the shard count");
    if (p.header.fingerprint != first.header.fingerprint) refuse(p, "the run fingerprint");
    if (!by_index.emplace(p.header.shard_index, &p).second) {
      throw InputError(p.path.string() + ": shard " + std::to_string(p.header.shard_index) + "/" +
                       std::to_string(p.header.shard_count) + " is given twice");
    }
  }
  if (first.header.tvk_version != build::kVersion) {
    throw InputError(first.path.string() + ": written by tvk " + first.header.tvk_version +
                     ", this is tvk " + build::kVersion);
  }
  std::vector<const Partial*> ordered;
  for (std::size_t i = 0; i < first.header.shard_count; ++i) {
    const auto found = by_index.find(i);
    if (found == by_index.end()) {
      throw InputError("shard " + std::to_string(i) + "/" +
                       std::to_string(first.header.shard_count) +
                       " is missing: every shard's partial file is needed");
    }
    ordered.push_back(found->second);
  }
  return ordered;
}

void parse_shard(const std::string& text, std::size_t& index, std::size_t& count) {
  // from_chars, not stoull: digits beyond 64 bits are a usage error, not an exception.
  auto number = [](const std::string& s, std::size_t& value) {
    const auto [end, error] = std::from_chars(s.data(), s.data() + s.size(), value);
    return !s.empty() && error == std::errc() && end == s.data() + s.size();
  };
  const auto slash = text.find('/');
  const std::string left = text.substr(0, slash),
                    right = slash == std::string::npos ? "" : text.substr(slash + 1);
  if (slash == std::string::npos || !number(left, index) || !number(right, count) || count == 0 ||
      index >= count) {
    throw InputError("--shard: expected i/N with 0 <= i < N (e.g. 0/4), got '" + text + "'");
  }
  if (count > kMaxShards) {
    throw InputError("--shard: N = " + right +
                     " is more shards than `tvk merge` combines (at most " +
                     std::to_string(kMaxShards) + ")");
  }
}

}  // namespace tvk
