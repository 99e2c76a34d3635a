// Fuzz target `row`: the logit-row text reader (core/config/logit_row_reader.h). Clean
// rejection: tvk::InputError. A row it accepts must be what its contract promises: non-empty,
// no NaN or +inf, at least one key not masked.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "core/config/logit_row_reader.h"
#include "core/error.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  try {
    const std::vector<double> row = tvk::read_logit_row(in, "fuzz.txt");
    bool unmasked = false;
    for (const double s : row) {
      if (std::isnan(s) || s == INFINITY) tvk::fuzz::fail("row holds NaN or +inf");
      unmasked = unmasked || s != -INFINITY;
    }
    if (row.empty() || !unmasked) tvk::fuzz::fail("empty or fully masked row accepted");
  } catch (const tvk::InputError&) {
  }
  return 0;
}
