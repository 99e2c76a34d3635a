// Fuzz target `logit_store`: the logit-store reader, format v1 and v2 (core/hdf5/logit_store.h).
// The input is written to a file, opened, and a few heads of a few sequences are read and their
// first and last query rows' logits computed. Clean rejection: tvk::InputError.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/hdf5/logit_store.h"
#include "tests/fuzz/fuzz_support.h"

namespace {
// LogitStore::open reads a file's structure in a child it stops after TVK_HDF5_PROBE_SECONDS
// (30 s by default). Here the limit is 2 s (twice that when libFuzzer reruns an input to look for a
// leak), under libFuzzer's -timeout=10 (tests/fuzz/run.sh), so a file libhdf5 loops on ends as the
// InputError a user gets, not as a fuzzer timeout.
[[maybe_unused]] const int kShortProbe = ::setenv("TVK_HDF5_PROBE_SECONDS", "2", 1);
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = tvk::fuzz::scratch_dir() / "store.h5";
  tvk::fuzz::write_bytes(path, std::string_view(reinterpret_cast<const char*>(data), size));
  try {
    const tvk::LogitStore store = tvk::LogitStore::open(path);
    const tvk::LogitStoreInfo& info = store.info();
    const std::size_t sequences = info.sequences.size();
    for (std::size_t s = 0; s < sequences && s<3; s += sequences> 1 ? sequences - 1 : 1) {
      for (std::size_t layer = 0; layer < info.layers && layer < 2; ++layer) {
        for (std::size_t head = 0; head < info.heads && head < 3; head += 2) {
          const tvk::HeadVectors vectors = store.read_head(s, layer, head);
          const auto rows = static_cast<std::size_t>(vectors.q.rows());
          for (std::size_t r = 0; r<rows; r += rows> 1 ? rows - 1 : 1) {
            std::vector<double> logits(vectors.key_count(r));
            tvk::head_logits(vectors, info.scale, r, logits);
          }
        }
      }
    }
  } catch (const tvk::InputError&) {
  }
  return 0;
}
