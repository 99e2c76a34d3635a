#pragma once
// The machine's read bandwidth, measured the way a decode step reads its cache: a streaming
// read of `bytes` (as many as the dense 16-bit K+V cache) split over `threads` threads. The
// buffer is kept, so that passes can be timed between the steps they are compared with: on a
// shared host the bandwidth moves with the other tenants' load, and a pass taken beside the
// steps sees the load they saw. The roofline of a decode step is the bytes it must read over
// this bandwidth.
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace tvk::bench {

class ReadBandwidth {
 public:
  //! A buffer of `bytes` bytes (every page touched, so that no pass faults) read by `threads`.
  ReadBandwidth(std::size_t bytes, int threads)
      : data_(std::max<std::size_t>(bytes / sizeof(std::uint64_t), 1024)), arena_(threads) {
    for (std::size_t i = 0; i < data_.size(); ++i)
      data_[i] = i * 0x9e3779b97f4a7c15ull;
  }

  std::size_t bytes() const { return data_.size() * sizeof(std::uint64_t); }

  //! Bytes per second of one timed pass.
  double pass() {
    const auto t0 = std::chrono::steady_clock::now();
    read();
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return static_cast<double>(bytes()) / seconds;
  }

 private:
  void read() {
    const std::size_t words = data_.size();
    const std::size_t chunk = 1 << 16;  // 512 KB per task: each thread streams long runs
    const std::size_t chunks = (words + chunk - 1) / chunk;
    arena_.execute([&] {
      tbb::parallel_for(std::size_t{0}, chunks, [&](std::size_t c) {
        const std::uint64_t* p = data_.data() + c * chunk;
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
        sink_.fetch_add(s0 + s1 + s2 + s3, std::memory_order_relaxed);
      });
    });
  }

  std::vector<std::uint64_t> data_;
  tbb::task_arena arena_;
  std::atomic<std::uint64_t> sink_{0};
};

}  // namespace tvk::bench
