// Fuzz target `partial`: shard partial files (experiments/partial_file.h read_partial, then
// order_partials) and the certified kind's work-item slots inside them
// (experiments/certified/item_result.h deserialize_item) and the other kinds' point shares
// (PointShare::deserialize). The input is read as a partial file twice: as it is (the magic and
// checksum checks), and with its checksum appended (so a mutated body gets past the checksum to
// the decoder); the seeds are partial files without their last 8 bytes. Clean rejection:
// tvk::InputError from the partial-file functions, std::runtime_error from the decoders.

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/engine/checksum.h"
#include "core/engine/sweep_runner.h"
#include "core/error.h"
#include "experiments/certified/item_result.h"
#include "experiments/partial_file.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

void decode_shares(const tvk::Partial& partial) {
  for (const std::string& share : partial.shares) {
    // The slot of 2 query rows, 3 exact values and 2 search records per row, 2 searches.
    try {
      const tvk::certified::ItemResult item = tvk::certified::deserialize_item(share, 2, 3, 2, 2);
      if (tvk::certified::serialize_item(item) != share) {
        tvk::fuzz::fail("a work item does not serialise back");
      }
    } catch (const std::runtime_error&) {
    }
    try {
      tvk::PointShare::deserialize(share, tvk::StatisticsShape{2, 1, 4, 16, false});
    } catch (const std::runtime_error&) {
    }
  }
}

void read(const std::string& name, const std::string& bytes) {
  const auto path = tvk::fuzz::scratch_dir() / name;
  tvk::fuzz::write_bytes(path, bytes);
  std::vector<tvk::Partial> partials;
  try {
    partials.push_back(tvk::read_partial(path));
  } catch (const tvk::InputError&) {
    return;
  }
  decode_shares(partials.front());
  try {
    tvk::order_partials(partials);
  } catch (const tvk::InputError&) {
  }
  partials.push_back(partials.front());
  partials.back().header.shard_index =
      (partials.back().header.shard_index + 1) % partials.back().header.shard_count;
  try {
    tvk::order_partials(partials);
  } catch (const tvk::InputError&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  read("raw.tvkpart", bytes);
  const std::uint64_t sum = tvk::checksum64({bytes});
  bytes.append(reinterpret_cast<const char*>(&sum), sizeof sum);
  read("summed.tvkpart", bytes);
  return 0;
}
