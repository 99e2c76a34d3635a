//! \file The `searches:` of a certified config: every search type, cell kind and Δk bound is a
//! registered name, an unknown one gets a did-you-mean naming the closest registered entry at
//! its file:line:column and key, and `tvk validate` describes each search as its type does.

#include "core/config/certified_config.h"

#include <gtest/gtest.h>

#include <string>

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

TEST(CertifiedConfigSearches, UnknownNamesGetTheClosestRegisteredOne) {
  EXPECT_EQ(error_of(kHead + "searches:\n  - {type: deltak}\n"),
            "c.yaml:6:12: searches[0].type: unknown search type 'deltak' (did you mean "
            "delta_k?)");
  EXPECT_EQ(error_of(kHead + "searches:\n  - {type: delta_k, delta_bound: b3_gpa}\n"),
            "c.yaml:6:34: searches[0].delta_bound: unknown Δk bound 'b3_gpa' (did you mean "
            "b3_gap?)");
  EXPECT_EQ(error_of(kHead + "searches:\n  - {type: mc_search, cells: cluster}\n"),
            "c.yaml:6:30: searches[0].cells: unknown cells kind 'cluster' (did you mean "
            "clusters?)");
  EXPECT_EQ(error_of(kHead + "searches:\n  - {type: mc_search, bound: boxx}\n"),
            "c.yaml:6:30: searches[0].bound: unknown upper bound 'boxx' (did you mean box?)");
  EXPECT_EQ(error_of(kHead + "searches:\n  - {type: mc_search, kept: top}\n"),
            "c.yaml:6:29: searches[0].kept: unknown kept set 'top' (did you mean topk?)");
}

TEST(CertifiedConfigSearches, KeysBelongToTheirTypeAndCellKind) {
  EXPECT_EQ(error_of(kHead + "searches:\n  - {type: delta_k, block: 4}\n"),
            "c.yaml:6:28: searches[0].block: is not a key of search type delta_k (it applies "
            "to mc_search, b5)");
  EXPECT_EQ(error_of(kHead + "searches:\n  - {type: b5, cells: clusters}\n"),
            "c.yaml:6:23: searches[0].cells: b5 runs on position blocks (cells: blocks), got "
            "'clusters'");
  EXPECT_EQ(error_of(kHead + "searches:\n  - {type: mc_search, cells: clusters, block: 4}\n"),
            "c.yaml:6:47: searches[0].block: is used only with cells: blocks");
  EXPECT_EQ(error_of(kHead + "searches:\n  - {type: mc_search, cells: blocks, iterations: 2}\n"),
            "c.yaml:6:50: searches[0].iterations: is used only with cells: clusters");
  EXPECT_EQ(error_of(kHead + "searches:\n  - {type: delta_k, k0: 0}\n"),
            "c.yaml:6:25: searches[0].k0: must be >= 1, got 0");
}

TEST(CertifiedConfigSearches, ValidateDescribesEachSearchAsItsTypeDoes) {
  const std::string text = describe(config_of(kHead));
  EXPECT_NE(text.find("# searches: mc_clusters (mc_search, 16 clusters, min bound, kept topk); "
                      "mc_blocks (mc_search, blocks of 16, min bound, kept topk); b5 (b5, blocks "
                      "of 16, min bound, kept scored); delta_k (delta_k, b2, k0 1, step 8)\n"),
            std::string::npos)
      << text;
  const CertifiedConfig config =
      config_of(kHead +
                "searches:\n  - {name: d, type: delta_k, delta_bound: b3_equal, k0: 4, delta_k: "
                "2}\n  - {type: mc_search, cells: clusters, clusters: 5, iterations: 3, bound: "
                "box, kept: scored}\n");
  ASSERT_EQ(config.searches.size(), 2u);
  EXPECT_EQ(config.searches[0].name, "d");
  EXPECT_EQ(config.searches[0].search->details(), "b3_equal, k0 4, step 2");
  EXPECT_EQ(config.searches[1].name, "mc_search");
  EXPECT_EQ(config.searches[1].search->details(), "5 clusters, box bound, kept scored");
  EXPECT_EQ(config.searches[1].search->cells()->iterations, 3u);
}

TEST(CertifiedConfigSources, SizesAndMagnitudesThatCannotRunAreRefusedWhereRead) {
  // These passed validation and then ran out of memory or overflowed mid-run.
  auto source = [](const std::string& keys) {
    return "kind: certified\nname: x\nsource: {type: qkv, family: clustered, rows: 4, seed: 1, " +
           keys + "}\neps: 0.1\n";
  };
  EXPECT_NE(error_of(source("n: 1000000000")).find("source.n: must be in 1..1000000"),
            std::string::npos);
  EXPECT_NE(error_of(source("d: 100000")).find("source.d: must be in 1..4096"), std::string::npos);
  EXPECT_NE(
      error_of(source("value_noise: 1e300")).find("source.value_noise: must be in [0, 1e+06]"),
      std::string::npos);
  EXPECT_NE(error_of(source("strength: 1e300")).find("source.strength: must be in"),
            std::string::npos);
  EXPECT_EQ(error_of(source("n: 1000, d: 64, value_noise: 10")), "no error");
}

}  // namespace
}  // namespace tvk
