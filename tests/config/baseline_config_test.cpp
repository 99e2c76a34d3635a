//! \file The baseline search types (quest, streaming, oracle_topk, top_p) read from a certified
//! config: their keys, their defaults as `tvk validate` describes them, and one clear error at the
//! key's file:line:column for a missing or bad budget, a key of another type, an empty window.

#include <gtest/gtest.h>

#include <string>

#include "core/config/certified_config.h"
#include "core/config/config_document.h"
#include "core/error.h"

namespace tvk {
namespace {

const std::string kHead =
    "kind: certified\nname: x\nsource: {type: qkv, family: clustered, rows: 4, seed: 1}\n"
    "eps: 0.1\n";

CertifiedConfig config_of(const std::string& yaml) {
  return read_certified_config(ConfigDocument::parse(yaml, "c.yaml"));
}

std::string error_of(const std::string& yaml) {
  try {
    config_of(yaml);
  } catch (const InputError& error) {
    return error.what();
  }
  return "no error";
}

TEST(BaselineConfig, KeysAndDefaults) {
  const CertifiedConfig config = config_of(
      kHead +
      "searches:\n  - {type: quest, budget: 0.25}\n  - {name: q8, type: quest, page: 8, "
      "budget: 64}\n"
      "  - {type: streaming}\n  - {name: s2, type: streaming, sinks: 2, window: 30}\n"
      "  - {type: oracle_topk}\n  - {type: top_p}\n  - {name: t8, type: top_p, bits: 8, group: "
      "0, p: 0.85}\n");
  ASSERT_EQ(config.searches.size(), 7u);
  EXPECT_EQ(config.searches[0].search->details(),
            "pages of 16, budget 0.25 of n, last page kept, every layer it runs on (Quest keeps "
            "its first two layers dense), uncertified");
  EXPECT_EQ(config.searches[1].search->cells()->block, 8u);
  EXPECT_EQ(config.searches[2].search->details(), "4 sinks, window 252, uncertified");
  EXPECT_EQ(config.searches[3].search->details(), "2 sinks, window 30, uncertified");
  EXPECT_EQ(config.searches[4].search->details(), "exact k_eps from every score");
  EXPECT_EQ(config.searches[5].search->details(),
            "int4, scale per 8 channels, p 1 - eps, uncertified");
  EXPECT_EQ(config.searches[6].search->details(), "int8, scale per key, p 0.85, uncertified");
}

TEST(BaselineConfig, ErrorsNameTheKey) {
  EXPECT_EQ(error_of(kHead + "searches:\n  - {type: quest}\n"),
            "c.yaml:6:5: searches[0].budget: quest needs a token budget: a whole number of tokens "
            ">= 1 or a fraction of n in (0, 1)");
  EXPECT_EQ(error_of(kHead + "searches:\n  - {type: quest, budget: 0}\n"),
            "c.yaml:6:27: searches[0].budget: must be a number in (0, 1e+15], got '0'");
  EXPECT_EQ(error_of(kHead + "searches:\n  - {type: quest, budget: -0.5}\n"),
            "c.yaml:6:27: searches[0].budget: must be a number in (0, 1e+15], got '-0.5'");
  EXPECT_EQ(error_of(kHead + "searches:\n  - {type: quest, budget: 1.5}\n"),
            "c.yaml:6:27: searches[0].budget: must be a whole number of tokens >= 1 or a fraction "
            "of n in (0, 1)");
  EXPECT_EQ(error_of(kHead + "searches:\n  - {type: quest, budget: 64, window: 4}\n"),
            "c.yaml:6:39: searches[0].window: is not a key of search type quest (it applies to "
            "streaming)");
  EXPECT_EQ(error_of(kHead + "searches:\n  - {type: quest, budget: 64, pages: 4}\n"),
            "c.yaml:6:31: searches[0].pages: unknown key (did you mean searches[0].page?)");
  EXPECT_EQ(error_of(kHead + "searches:\n  - {type: streaming, sinks: 0, window: 0}\n"),
            "c.yaml:6:41: searches[0].window: sinks + window must be >= 1");
  EXPECT_EQ(error_of(kHead + "searches:\n  - {type: top_p, bits: 2}\n"),
            "c.yaml:6:25: searches[0].bits: unknown quantizer bits '2' (known: 4, 8)");
  EXPECT_EQ(error_of(kHead + "searches:\n  - {type: top_p, p: 0}\n"),
            "c.yaml:6:22: searches[0].p: must be a number in (0, 1], got '0'");
  EXPECT_EQ(error_of(kHead + "searches:\n  - {type: oracle_topk, k0: 1}\n"),
            "c.yaml:6:29: searches[0].k0: is not a key of search type oracle_topk (it applies to "
            "delta_k)");
}

TEST(BaselineConfig, AQuantizerGroupMustDivideD) {
  // d defaults to 64: 48 leaves a remainder, 128 is larger than d; both were one scale per key.
  EXPECT_EQ(error_of(kHead + "searches:\n  - {type: quantized, group: 48}\n"),
            "c.yaml:6:30: searches[0].group: 48 does not divide d = 64 (source[0].d); give a "
            "divisor of d, or 0 for one scale per key");
  EXPECT_NE(
      error_of(kHead + "searches:\n  - {type: top_p, group: 128}\n").find("128 does not divide"),
      std::string::npos);
  // top_p's default group (8) against d = 12, located at the search.
  EXPECT_EQ(error_of("kind: certified\nname: x\nsource: {type: qkv, family: clustered, d: 12, "
                     "rows: 4, seed: 1}\neps: 0.1\nsearches:\n  - {type: top_p}\n"),
            "c.yaml:6:5: searches[0].group: 8 does not divide d = 12 (source[0].d); give a divisor "
            "of d, or 0 for one scale per key");
  EXPECT_EQ(error_of(kHead + "searches:\n  - {type: quantized, group: 16}\n  - {type: top_p, "
                             "group: 0}\n"),
            "no error");
}

}  // namespace
}  // namespace tvk
