// Fuzz target `config`: the YAML config reader and Hydra-style overrides, then every experiment
// kind's reader. Input: YAML text, then optionally NUL-separated override strings
// ("<yaml>\0model.sigma=2\0+x=1"). Clean rejection: tvk::InputError.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/config/config_document.h"
#include "core/error.h"
#include "experiments/experiment_kind.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t split = input.find('\0');
  const std::string_view yaml = input.substr(0, split);
  std::optional<tvk::ConfigDocument> document;
  try {
    document.emplace(tvk::ConfigDocument::parse(yaml, "fuzz.yaml"));
  } catch (const tvk::InputError&) {
    return 0;
  }
  std::size_t at = split;
  for (int overrides = 0; at != std::string_view::npos && overrides < 4; ++overrides) {
    const std::size_t next = input.find('\0', at + 1);
    const std::string_view text = input.substr(
        at + 1, next == std::string_view::npos ? std::string_view::npos : next - at - 1);
    at = next;
    try {
      document->apply_override(text);
    } catch (const tvk::InputError&) {
    }
  }
  try {
    tvk::experiment_kind_of(*document);
  } catch (const tvk::InputError&) {
  }
  bool valid = false;
  for (const tvk::ExperimentKind& kind : tvk::experiment_kinds()) {
    try {
      kind.results_name(*document);
      kind.describe(*document);
      valid = true;
    } catch (const tvk::InputError&) {
    }
  }
  // A valid config's resolved text (what partial and results files keep, and tvk merge reads
  // back) parses back to the same tree. (Not checked for invalid ones: a key longer than YAML's
  // 1024-character limit for implicit keys is re-emitted as one, but no kind accepts such a key.)
  if (valid) {
    const std::string emitted = document->to_yaml();
    try {
      if (tvk::ConfigDocument::parse(emitted, "emitted.yaml").to_yaml() != emitted) {
        tvk::fuzz::fail("to_yaml of a valid config does not parse back to the same text");
      }
    } catch (const tvk::InputError&) {
      tvk::fuzz::fail("to_yaml of a valid config is not a valid config");
    }
  }
  return 0;
}
