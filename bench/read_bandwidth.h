#pragma once
// The machine's read bandwidth, measured the way a decode step reads its cache: a streaming
// read of `bytes` (as many as the dense 16-bit K+V cache) split over `threads` threads, the
// median of `repeats` passes after one untimed pass. The roofline of a decode step is the bytes
// it must read over this bandwidth.
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace tvk::bench {

//! Bytes per second of a streaming read of `bytes` bytes by `threads` threads.
inline double read_bandwidth(std::size_t bytes, int threads, int repeats = 7) {
  const std::size_t words = std::max<std::size_t>(bytes / sizeof(std::uint64_t), 1024);
  std::vector<std::uint64_t> data(words);
  for (std::size_t i = 0; i < words; ++i)
    data[i] = i * 0x9e3779b97f4a7c15ull;  // touched: every page is mapped before timing
  tbb::task_arena arena(threads);
  const std::size_t chunk = 1 << 16;  // 512 KB per task: each thread streams long runs
  const std::size_t chunks = (words + chunk - 1) / chunk;
  std::atomic<std::uint64_t> sink{0};
  auto pass = [&] {
    arena.execute([&] {
      tbb::parallel_for(std::size_t{0}, chunks, [&](std::size_t c) {
        const std::uint64_t* p = data.data() + c * chunk;
        const std::size_t len = std::min(chunk, words - c * chunk);
        std::uint64_t s0 = 0, s1 = 0, s2 = 0,
                      s3 = 0;  // four chains: the loads, not the adds, bound it
        std::size_t i = 0;
        for (; i + 4 <= len; i += 4) {
          s0 += p[i];
          s1 += p[i + 1];
          s2 += p[i + 2];
          s3 += p[i + 3];
        }
        for (; i < len; ++i)
          s0 += p[i];
        sink.fetch_add(s0 + s1 + s2 + s3, std::memory_order_relaxed);
      });
    });
  };
  pass();
  std::vector<double> seconds;
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    pass();
    seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(seconds.begin(), seconds.end());
  return static_cast<double>(words * sizeof(std::uint64_t)) / seconds[seconds.size() / 2];
}

}  // namespace tvk::bench
