// A model of the certified decode step's gathers (core/certified/decode_selection.cpp and the
// output's half_accumulate): random 128-byte rows (d = 64 binary16 values, on 128-byte
// boundaries) of a 256 MB cache (more than SmolLM2's dense cache at n = 8192, 188.7 MB; each
// iteration reads other rows, so none are left in L3), read with the prefetch schemes the step
// has used. Its prefetch distances were chosen with it. Run, with the decode benchmark's threads:
//   build/bench/gather_bench --benchmark_filter='threads:2'
// items_per_second counts the rows of every thread: a thread reads a row in threads / that.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/memory/row_aligned_allocator.h"

namespace {

constexpr std::size_t kRowBytes = 128;
constexpr std::size_t kRows = std::size_t{1} << 21;  // a power of two: rows wrap by a mask
constexpr std::size_t kCacheBytes = kRows * kRowBytes;
constexpr std::size_t kGathered = 65'536;  // rows a thread reads per iteration

const std::uint8_t* cache() {
  static const std::vector<std::uint8_t, tvk::RowAlignedAllocator<std::uint8_t>> bytes(
      kCacheBytes, 1);  // touched: every page is mapped before timing
  return bytes.data();
}

std::vector<std::uint32_t> random_rows(std::uint64_t seed) {
  std::vector<std::uint32_t> rows(kGathered);
  for (auto& row : rows) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    row = static_cast<std::uint32_t>((seed >> 33) & (kRows - 1));
  }
  return rows;
}

template <int Locality>
inline void prefetch_row(const std::uint8_t* row) {
  __builtin_prefetch(row, 0, Locality);
  __builtin_prefetch(row + 64, 0, Locality);
}

// Reads row i after asking for rows into L1 `near` rows ahead and into L2 `far` ahead (0: none);
// with `burst`, the L1 requests come `near` rows at a time, as the chunks of the step before.
void gather(benchmark::State& state, std::size_t near, std::size_t far, bool burst) {
  const std::uint8_t* base = cache();
  const std::vector<std::uint32_t> rows =
      random_rows(1 + static_cast<std::uint64_t>(state.thread_index()));
  std::size_t shift = 0;  // moves every row each iteration
  auto at = [&](std::size_t i) {
    return base + ((static_cast<std::size_t>(rows[i]) + shift) & (kRows - 1)) * kRowBytes;
  };
  std::uint64_t sum = 0;
  for (auto _ : state) {
    shift += 0x9e3779b9;
    for (std::size_t i = 0; i < kGathered; ++i) {
      if (far != 0 && i + far < kGathered) prefetch_row<1>(at(i + far));
      if (burst) {
        if (i % near == 0)
          for (std::size_t j = i + near; j < i + 2 * near && j < kGathered; ++j)
            prefetch_row<3>(at(j));
      } else if (i + near < kGathered) {
        prefetch_row<3>(at(i + near));
      }
      const std::uint8_t* row = at(i);
      std::uint64_t first, second;
      __builtin_memcpy(&first, row, sizeof first);
      __builtin_memcpy(&second, row + 64, sizeof second);
      sum += first + second;
    }
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(kGathered));
}

}  // namespace

BENCHMARK_CAPTURE(gather, l1_burst_16, 16, 0, true)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK_CAPTURE(gather, l1_32, 32, 0, false)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK_CAPTURE(gather, l1_16_l2_96, 16, 96, false)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK_CAPTURE(gather, l1_8_l2_96, 8, 96, false)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK_MAIN();
