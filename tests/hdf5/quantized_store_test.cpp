//! \file The quantized key summaries and search (THEORY §8) on the committed logit stores
//! (tests/fixtures/minilm_store.h5, smollm2_store.h5): on every (sequence, layer, head) the
//! logit bounds contain the exact kernel's logit and a long double reference for every query
//! row and visible key (int8 and int4, one scale per key and groups of 8), and the search's
//! certificate holds against the full row. In tests/hdf5 (not tests/core/certified) because
//! it reads stores (tvk_io). The measurement on smollm2 (means, not checks) is the program
//! bench/quantized_store_bench.cpp.

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "core/certified/quantized_keys.h"
#include "core/certified/quantized_search.h"
#include "core/certified/row_major_scorer.h"
#include "core/certified/search.h"
#include "core/hdf5/logit_store.h"
#include "core/kernels/kernel_set.h"
#include "core/rows/tail_profile.h"

namespace {

namespace fs = std::filesystem;
using tvk::QuantizedKeys;
using tvk::QuantizerOptions;

const fs::path kFixtures = fs::path(TVK_SOURCE_DIR) / "tests" / "fixtures";

struct Head {
  std::vector<double> keys, queries;
  std::vector<std::size_t> key_count;  // per query row
  std::size_t d;
  double scale;
};

template <class F>
void for_each_head(const fs::path& path, F&& f) {
  const tvk::LogitStore store = tvk::LogitStore::open(path);
  const auto& info = store.info();
  for (std::size_t s = 0; s < info.sequences.size(); ++s) {
    for (std::size_t l = 0; l < info.layers; ++l) {
      for (std::size_t h = 0; h < info.heads; ++h) {
        const tvk::HeadVectors v = store.read_head(s, l, h);
        Head head{tvk::row_major(v.k), tvk::row_major(v.q), {}, info.head_dim, info.scale};
        for (std::size_t r = 0; r < static_cast<std::size_t>(v.q.rows()); ++r)
          head.key_count.push_back(v.key_count(r));
        f(head, s, l, h);
      }
    }
  }
}

void check_bounds(const fs::path& path, std::size_t query_stride) {
  std::size_t checked = 0;
  for_each_head(path, [&](const Head& head, std::size_t s, std::size_t l, std::size_t h) {
    const std::size_t n = head.keys.size() / head.d, d = head.d;
    std::vector<double> lo(n), hi(n), exact(n);
    for (int bits : {8, 4}) {
      for (std::size_t group : {std::size_t{0}, std::size_t{8}}) {
        const QuantizedKeys codes = QuantizedKeys::build(head.keys.data(), n, d, {bits, group});
        for (std::size_t r = 0; r < head.key_count.size(); r += query_stride) {
          const double* q = head.queries.data() + r * d;
          const std::size_t count = head.key_count[r];
          codes.logit_bounds(q, head.scale, count, lo.data(), hi.data());
          tvk::kernels::active_kernels().key_logits(q, head.keys.data(), count, d, head.scale,
                                                    exact.data());
          for (std::size_t j = 0; j < count; ++j) {
            long double ref = 0.0L;
            for (std::size_t c = 0; c < d; ++c)
              ref +=
                  static_cast<long double>(q[c]) * static_cast<long double>(head.keys[j * d + c]);
            ref *= static_cast<long double>(head.scale);
            const bool ok = lo[j] <= exact[j] && exact[j] <= hi[j] &&
                            static_cast<long double>(lo[j]) <= ref &&
                            ref <= static_cast<long double>(hi[j]);
            ASSERT_TRUE(ok) << path.filename() << " seq " << s << " layer " << l << " head " << h
                            << " bits " << bits << " group " << group << " row " << r << " key "
                            << j << ": " << lo[j] << " " << exact[j] << " " << hi[j];
            ++checked;
          }
        }
      }
    }
  });
  EXPECT_GT(checked, 0u);
}

TEST(QuantizedStore, BoundsHoldOnEveryMiniLmHead) {
  check_bounds(kFixtures / "minilm_store.h5", 1);
}

TEST(QuantizedStore, BoundsHoldOnEverySmolLm2Head) {
  check_bounds(kFixtures / "smollm2_store.h5", 1);
}

TEST(QuantizedStore, SearchCertifiesStoreRows) {
  for (const char* name : {"minilm_store.h5", "smollm2_store.h5"}) {
    for_each_head(kFixtures / name, [&](const Head& head, std::size_t s, std::size_t l,
                                        std::size_t h) {
      const std::size_t n = head.keys.size() / head.d, d = head.d;
      const tvk::RowMajorScorer scorer(head.keys, d, head.scale);
      const QuantizedKeys codes = QuantizedKeys::build(head.keys.data(), n, d, {8, 0});
      tvk::QuantizedSearchScratch scratch;
      for (std::size_t r = 0; r < head.key_count.size(); r += 7) {
        const double* q = head.queries.data() + r * d;
        const std::size_t count = head.key_count[r];
        const std::vector<double> logits = scorer.all(q, count);
        for (double eps : {0.01, 0.05, 0.1}) {
          tvk::QuantizedSearchOptions options;
          options.eps = eps;
          options.bytes = {d, d};
          options.sinks = (r / 7) % 2 ? 4 : 0;
          options.recent = (r / 7) % 3 == 1 ? 16 : 0;
          const tvk::SearchResult result =
              tvk::quantized_search(codes, count, scorer, q, head.scale, options, scratch);
          const std::string where = std::string(name) + " seq " + std::to_string(s) + " layer " +
                                    std::to_string(l) + " head " + std::to_string(h) + " row " +
                                    std::to_string(r) + " eps " + std::to_string(eps);
          ASSERT_LE(result.bound, eps) << where;
          ASSERT_LE(tvk::kept_set_tau(logits, result.kept_keys), result.bound) << where;
          ASSERT_LE(result.kept, result.scored) << where;
          ASSERT_EQ(result.bytes,
                    static_cast<double>(result.summaries_read) * codes.bytes_per_key() +
                        options.bytes.keys(result.scored) + options.bytes.values(result.kept))
              << where;
          for (std::size_t p = 0; p < result.kept; ++p)
            ASSERT_EQ(result.kept_logits[p], logits[result.kept_keys[p]]) << where;
        }
      }
    });
  }
}

}  // namespace
