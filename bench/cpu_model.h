#pragma once
// The processor a benchmark ran on, for its report: figures from different machines of one kind
// (an Intel Xeon or an AMD EPYC, both with AVX-512) differ by far more than run-to-run noise.
#include <fstream>
#include <string>
#include <thread>

namespace tvk::bench {

//! The first "model name" of /proc/cpuinfo and the logical CPUs, e.g. "AMD EPYC, 2 logical
//! CPUs"; "unknown processor, ..." where the file has none.
inline std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line, model = "unknown processor";
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) != 0) continue;
    const std::size_t colon = line.find(':');
    if (colon != std::string::npos && colon + 2 <= line.size()) model = line.substr(colon + 2);
    break;
  }
  return model + ", " + std::to_string(std::thread::hardware_concurrency()) + " logical CPUs";
}

}  // namespace tvk::bench
