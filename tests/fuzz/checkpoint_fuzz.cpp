// Fuzz target `checkpoint`: checkpoint point files (core/engine/checkpoint.h) and the statistics
// records they hold (PointStatistics::deserialize, PointShare::deserialize, then
// merge_point_shares). Input: 5 bytes that fix the statistics shape (eps, bounds, grid, max_n,
// store_rows), then the payload. The whole input is loaded as a point file (the header and
// checksum checks); the payload is saved and loaded back (so it gets past the checksum) and
// decoded. Clean rejection: tvk::InputError from load, std::runtime_error from the decoders,
// std::invalid_argument from merge_point_shares (a share of another layout).

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "core/engine/checkpoint.h"
#include "core/engine/point_statistics.h"
#include "core/engine/sweep_runner.h"
#include "core/error.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const tvk::CheckpointStore store(tvk::fuzz::scratch_dir() / "run.checkpoint", "fuzz",
                                          false);
  const std::string input(reinterpret_cast<const char*>(data), size);
  tvk::fuzz::write_bytes(store.dir() / "point_0.bin", input);
  try {
    store.load(0);
  } catch (const tvk::InputError&) {
  }
  if (size < 5) return 0;
  tvk::StatisticsShape shape;
  shape.eps = 1 + data[0] % 4;
  shape.bounds = data[1] % 4;
  shape.grid = 1 + data[2] % 8;
  shape.max_n = 1 + data[3] % 64;
  shape.store_rows = data[4] & 1;
  const std::string payload = input.substr(5);
  store.save(1, payload);
  if (store.load(1) != payload) tvk::fuzz::fail("a saved point does not load back");
  try {
    const tvk::PointStatistics stats = tvk::PointStatistics::deserialize(payload, shape);
    tvk::PointStatistics total(shape);
    total.merge(stats);
    if (stats.serialize() != payload) tvk::fuzz::fail("statistics do not serialise back");
  } catch (const std::runtime_error&) {
  }
  try {
    const tvk::PointShare share = tvk::PointShare::deserialize(payload, shape);
    if (share.serialize() != payload) tvk::fuzz::fail("a share does not serialise back");
    tvk::merge_point_shares({share}, shape);
  } catch (const std::runtime_error&) {
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
