// The decode step (core/certified/decode_attention.h): binary16 conversions, kernel sets that
// agree bit for bit, and certificates that hold against exact double attention on adversarial
// synthetic caches (huge and tiny keys, ties, zero queries).
#include "core/certified/decode_attention.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "core/kernels/kernel_set.h"
#include "core/numerics/binary16.h"

namespace tvk {
namespace {

TEST(Binary16, EveryFiniteHalfRoundTrips) {
  for (std::uint32_t h = 0; h < 0x10000u; ++h) {
    if ((h & 0x7c00u) == 0x7c00u) continue;
    ASSERT_EQ(to_binary16(from_binary16(static_cast<std::uint16_t>(h))), h) << h;
  }
  EXPECT_EQ(from_binary16(0x3c00u), 1.0f);
  EXPECT_EQ(to_binary16(65520.0f), 0x7c00u);         // rounds to inf
  EXPECT_EQ(to_binary16(1.0f + 0x1p-11f), 0x3c00u);  // tie to even
  EXPECT_EQ(to_binary16(1.0f + 0x1p-11f + 0x1p-20f), 0x3c01u);
}

// The exact logits λ q·k_j of the first n keys, in double (a float times a binary16 value is
// exact in double).
std::vector<double> exact_logits(const KvCache& cache, std::size_t n, const float* q, float scale) {
  const std::size_t d = cache.dim();
  std::vector<double> s(n);
  for (std::size_t j = 0; j < n; ++j) {
    double dot = 0.0;
    for (std::size_t c = 0; c < d; ++c)
      dot += static_cast<double>(q[c]) * from_binary16(cache.keys()[j * d + c]);
    s[j] = scale * dot;
  }
  return s;
}

// Exact tail mass of everything outside `kept`, in double.
double exact_tail(const KvCache& cache, std::size_t n, const float* q, float scale,
                  const std::vector<std::uint32_t>& kept) {
  const std::vector<double> s = exact_logits(cache, n, q, scale);
  const double top = *std::max_element(s.begin(), s.end());
  std::vector<char> in(n, 0);
  for (auto j : kept)
    in[j] = 1;
  std::vector<double> all, tail;
  for (std::size_t j = 0; j < n; ++j) {
    all.push_back(std::exp(s[j] - top));
    if (!in[j]) tail.push_back(all.back());
  }
  std::sort(all.begin(), all.end());
  std::sort(tail.begin(), tail.end());
  double a = 0.0, t = 0.0;
  for (double x : all)
    a += x;
  for (double x : tail)
    t += x;
  return t / a;
}

// Exact attention over the first n keys, in double: Σ_j softmax(λ q·k)_j v_j.
std::vector<double> exact_output(const KvCache& cache, std::size_t n, const float* q, float scale) {
  const std::size_t d = cache.dim();
  const std::vector<double> s = exact_logits(cache, n, q, scale);
  const double top = *std::max_element(s.begin(), s.end());
  std::vector<double> out(d, 0.0);
  double total = 0.0;
  for (std::size_t j = 0; j < n; ++j) {
    const double w = std::exp(s[j] - top);
    total += w;
    for (std::size_t c = 0; c < d; ++c)
      out[c] += w * from_binary16(cache.values()[j * d + c]);
  }
  for (double& x : out)
    x /= total;
  return out;
}

// ‖out − exact‖₂ for one head's output.
double output_error(const float* out, const std::vector<double>& exact) {
  double err = 0.0;
  for (std::size_t c = 0; c < exact.size(); ++c)
    err += std::pow(static_cast<double>(out[c]) - exact[c], 2.0);
  return std::sqrt(err);
}

KvCache random_cache(std::size_t n, std::size_t d, double key_scale, std::uint32_t seed, bool ties,
                     int bits = 8, bool two_tier = false) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  KvCache cache(d, bits, two_tier);
  std::vector<std::uint16_t> k(d), v(d);
  for (std::size_t j = 0; j < n; ++j) {
    for (std::size_t c = 0; c < d; ++c) {
      const float x = ties && j % 3 ? 0.5f : normal(rng) * static_cast<float>(key_scale);
      k[c] = to_binary16(x);
      v[c] = to_binary16(normal(rng));
    }
    if (j % 17 == 5) std::fill(k.begin(), k.end(), std::uint16_t{0});  // zero keys
    cache.append(k.data(), v.data());
  }
  return cache;
}

// A key summary: int8 codes, int4 codes, or int8 codes in two tiers of nibbles.
struct Summary {
  int bits;
  bool two_tier;
};

class CertifiedDecodeBits : public ::testing::TestWithParam<Summary> {};

TEST_P(CertifiedDecodeBits, TrueTailNeverExceedsTheBoundOnAdversarialCaches) {
  const std::size_t d = 64;
  const int bits = GetParam().bits;
  const bool two_tier = GetParam().two_tier;
  int cases = 0;
  for (double key_scale : {1e-4, 0.3, 2.0, 40.0, 3000.0}) {
    for (bool ties : {false, true}) {
      for (std::size_t n : {1u, 7u, 300u, 2500u}) {
        const KvCache cache =
            random_cache(n, d, key_scale, static_cast<std::uint32_t>(n), ties, bits, two_tier);
        ASSERT_EQ(cache.bits(), bits);
        ASSERT_EQ(cache.two_tier(), two_tier);
        std::mt19937 rng(7);
        std::normal_distribution<float> normal(0.0f, 1.0f);
        std::vector<float> q(3 * d);
        for (std::size_t i = 0; i < q.size(); ++i)
          q[i] = i < d ? 0.0f : from_binary16(to_binary16(normal(rng) * 2.0f));  // head 0: zero
        for (double eps : {0.01, 0.05, 0.3}) {
          std::vector<float> out(3 * d), dense(3 * d);
          std::vector<CertifiedDecodeHead> res(3);
          std::vector<std::vector<std::uint32_t>> kept(3);
          DecodeScratch scratch;
          certified_decode(cache, n, q.data(), 3, 0.125f, eps, out.data(), res.data(), scratch,
                           kept.data());
          dense_decode(cache, n, q.data(), 3, 0.125f, dense.data(), scratch);
          for (std::size_t h = 0; h < 3; ++h) {
            const double tail = exact_tail(cache, n, q.data() + h * d, 0.125f, kept[h]);
            ASSERT_LE(tail, res[h].tau_bound) << key_scale << " n=" << n << " h=" << h;
            ASSERT_LE(res[h].tau_bound, eps);
            ASSERT_EQ(res[h].kept, kept[h].size());
            ASSERT_LE(res[h].refined, two_tier ? n : 0u);
            // The output certificate covers the returned floats against exact attention.
            const auto exact = exact_output(cache, n, q.data() + h * d, 0.125f);
            ASSERT_LE(output_error(out.data() + h * d, exact), res[h].output_bound)
                << key_scale << " n=" << n << " h=" << h << " eps=" << eps;
            ASSERT_TRUE(std::isfinite(res[h].output_bound));
            // The dense step (float, no certificate) stays near exact attention where the
            // logits' float error is small.
            if (key_scale <= 2.0) {
              ASSERT_LE(output_error(dense.data() + h * d, exact), 1e-5 * cache.value_norm_max());
            }
            ++cases;
          }
        }
      }
    }
  }
  EXPECT_EQ(cases, 5 * 2 * 4 * 3 * 3);
}

INSTANTIATE_TEST_SUITE_P(KeyCodes, CertifiedDecodeBits,
                         ::testing::Values(Summary{8, false}, Summary{4, false}, Summary{8, true}),
                         [](const ::testing::TestParamInfo<Summary>& info) {
                           return info.param.two_tier ? std::string("two_tier")
                                                      : "int" + std::to_string(info.param.bits);
                         });

TEST(CertifiedDecode, Int4CodesScoreMoreKeysThanInt8OnTheSameCache) {
  // The same keys, looser codes: every certificate still holds, and the int4 bound (radius up
  // to Δ/2 with Δ = max|k| / 7) excludes fewer keys than the int8 one.
  const std::size_t d = 64, n = 2000;
  const KvCache int8 = random_cache(n, d, 2.0, 5, false, 8);
  const KvCache int4 = random_cache(n, d, 2.0, 5, false, 4);
  std::vector<float> q(d);
  std::mt19937 rng(9);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (auto& x : q)
    x = from_binary16(to_binary16(normal(rng) * 2.0f));
  std::vector<float> out(d);
  CertifiedDecodeHead r8, r4;
  std::vector<std::uint32_t> kept4;
  DecodeScratch scratch;
  certified_decode(int8, n, q.data(), 1, 0.125f, 0.05, out.data(), &r8, scratch);
  certified_decode(int4, n, q.data(), 1, 0.125f, 0.05, out.data(), &r4, scratch, &kept4);
  EXPECT_LE(exact_tail(int4, n, q.data(), 0.125f, kept4), r4.tau_bound);
  EXPECT_LE(output_error(out.data(), exact_output(int4, n, q.data(), 0.125f)), r4.output_bound);
  EXPECT_GT(r4.kept, r8.kept);
  EXPECT_LT(r8.kept, n);
  // Keys are scored ahead of the bound's checks, at most 63 past K.
  for (const CertifiedDecodeHead& r : {r8, r4}) {
    EXPECT_GE(r.scored, r.kept);
    EXPECT_LT(r.scored, r.kept + 64);
  }
  // Bytes a key: 16-bit keys' codes packed to d / 2 + 4 bytes against d + 4; a scored key's
  // 16-bit key and a kept key's value, 2 d bytes each.
  auto rows = [&](const CertifiedDecodeHead& r) {
    return 2.0 * d * static_cast<double>(r.scored + r.kept);
  };
  EXPECT_EQ(r8.bytes - r4.bytes - (rows(r8) - rows(r4)), static_cast<double>(n) * (d / 2.0));
}

TEST(CertifiedDecode, CodeBitsOtherThanEightOrFourAreRefused) {
  EXPECT_THROW(KvCache(64, 2), std::invalid_argument);
  EXPECT_THROW(KvCache(64, 16), std::invalid_argument);
  EXPECT_THROW(KvCache(64, 4, true), std::invalid_argument);  // two tiers split int8 codes
  EXPECT_EQ(KvCache(64, 4).bits(), 4);
}

TEST(CertifiedDecode, TwoTiersReadFewerBytesThanInt8WithTheSameCodes) {
  // The same int8 codes: the first tier bounds every key from their high six bits, the second
  // refines the tiles near the top to the int8 bound. Every certificate holds; the keys far
  // below the top are never refined, and the summary bytes drop below int8's.
  const std::size_t d = 64, n = 4000;
  const KvCache int8 = random_cache(n, d, 2.0, 5, false, 8);
  const KvCache tiers = random_cache(n, d, 2.0, 5, false, 8, true);
  ASSERT_TRUE(std::equal(int8.codes().code_data(), int8.codes().code_data() + n * d,
                         tiers.codes().code_data()));
  std::vector<float> q(2 * d);
  std::mt19937 rng(9);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (auto& x : q)
    x = from_binary16(to_binary16(normal(rng) * 3.0f));
  std::vector<float> out8(2 * d), out2(2 * d);
  CertifiedDecodeHead r8[2], r2[2];
  std::vector<std::uint32_t> kept[2];
  DecodeScratch scratch;
  certified_decode(int8, n, q.data(), 2, 0.125f, 0.05, out8.data(), r8, scratch);
  certified_decode(tiers, n, q.data(), 2, 0.125f, 0.05, out2.data(), r2, scratch, kept);
  for (std::size_t h = 0; h < 2; ++h) {
    EXPECT_LE(exact_tail(tiers, n, q.data() + h * d, 0.125f, kept[h]), r2[h].tau_bound);
    EXPECT_LE(output_error(out2.data() + h * d, exact_output(tiers, n, q.data() + h * d, 0.125f)),
              r2[h].output_bound);
    EXPECT_GT(r2[h].refined, 0u);
    EXPECT_LT(r2[h].refined, n);
    EXPECT_EQ(r2[h].refined % 16, 0u);  // whole tiles (n is a multiple of 16)
    EXPECT_LT(r8[h].scored, n);
    EXPECT_LT(r2[h].bytes, r8[h].bytes);
    EXPECT_EQ(r2[h].bytes, n * (0.75 * d + 4.0) + r2[h].refined * (d / 4.0) +
                               2.0 * d * static_cast<double>(r2[h].scored + r2[h].kept));
  }
}

TEST(CertifiedDecode, CodeTiersAgreeBitForBitWithTheirReference) {
  // The two tiers' kernel at every set against the contract's formula from the int8 codes:
  // the first tier over every tile, the second over a list of tiles (the partial last included).
  for (const std::size_t d : {8u, 16u, 48u, 64u}) {
    for (const std::size_t heads : {1u, 3u, 4u, 5u}) {
      const std::size_t n = 1003, tiles = (n + 15) / 16;
      const KvCache cache =
          random_cache(n, d, 2.0, static_cast<std::uint32_t>(d + heads), false, 8, true);
      std::vector<std::int16_t> p(heads * d);
      for (std::size_t i = 0; i < p.size(); ++i)
        p[i] = static_cast<std::int16_t>(std::lround(std::sin(i * 0.7) * 32767.0));
      std::vector<std::int32_t> first(heads), exact(heads);
      std::vector<float> c(heads), e(heads);
      for (std::size_t h = 0; h < heads; ++h) {
        first[h] = static_cast<std::int32_t>(1000 * h) - 7;
        exact[h] = -static_cast<std::int32_t>(300 * h);
        c[h] = 1e-6f * static_cast<float>(h + 1);
        e[h] = 0.01f * static_cast<float>(h) + 0.1f;
      }
      const std::vector<std::uint32_t> list = {0, 5, 6, 40, static_cast<std::uint32_t>(tiles - 1)};
      // The reference: N_1 and N_2 from the codes m = 4 (u − 32) + l.
      const std::int8_t* m = cache.codes().code_data();
      const float* scales = cache.codes().scale_data();
      std::vector<std::int32_t> want_sums(heads * n);
      std::vector<float> want(heads * n), want_tops(heads * tiles, -INFINITY);
      auto bound = [&](std::size_t h, std::size_t i, std::int32_t dot) {
        return scales[i] * (c[h] * static_cast<float>(dot) + e[h]);
      };
      for (std::size_t h = 0; h < heads; ++h) {
        for (std::size_t i = 0; i < n; ++i) {
          std::int32_t high = 0, low = 0;
          for (std::size_t ch = 0; ch < d; ++ch) {
            high += p[h * d + ch] * ((m[i * d + ch] >> 2) + 32);
            low += p[h * d + ch] * (m[i * d + ch] & 3);
          }
          want_sums[h * n + i] = high;
          const bool listed = std::find(list.begin(), list.end(), i / 16) != list.end();
          want[h * n + i] =
              listed ? bound(h, i, low + 4 * high + exact[h]) : bound(h, i, 4 * high + first[h]);
          float& top = want_tops[h * tiles + i / 16];
          top = std::max(top, want[h * n + i]);
        }
      }
      for (const auto set : kernels::available_kernel_sets()) {
        const auto& k = kernels::kernel_table(set);
        SCOPED_TRACE(std::string(k.name) + " d=" + std::to_string(d) +
                     " heads=" + std::to_string(heads));
        std::vector<std::int32_t> sums(heads * n);
        std::vector<float> upper(heads * n), tile_tops(heads * tiles);
        k.tier_upper(p.data(), heads, 1, cache.first_tier(), nullptr, 0, sums.data(), scales, n, d,
                     first.data(), c.data(), e.data(), upper.data(), tile_tops.data());
        ASSERT_EQ(sums, want_sums);
        k.tier_upper(p.data(), heads, 2, cache.second_tier(), list.data(), list.size(), sums.data(),
                     scales, n, d, exact.data(), c.data(), e.data(), upper.data(),
                     tile_tops.data());
        for (std::size_t i = 0; i < heads * n; ++i)
          ASSERT_EQ(std::bit_cast<std::uint32_t>(upper[i]), std::bit_cast<std::uint32_t>(want[i]))
              << i;
        ASSERT_EQ(tile_tops, want_tops);
      }
    }
  }
}

TEST(CertifiedDecode, KernelSetsAgreeBitForBit) {
  // Every head dimension the cache takes a path for (d % 32, d % 16, d % 8), counts that are
  // not multiples of eight, one to four heads.
  for (const std::size_t d : {8u, 16u, 48u, 64u}) {
    for (const std::size_t heads : {1u, 3u, 4u}) {
      const std::size_t n = 1003;
      // int8 codes, and int4 codes (one per byte in the same tiles) at four heads.
      const int bits = heads == 4 ? 4 : 8;
      const KvCache cache = random_cache(n, d, 2.0, static_cast<std::uint32_t>(d), false, bits);
      std::vector<float> q(heads * d);
      for (std::size_t i = 0; i < q.size(); ++i)
        q[i] = from_binary16(to_binary16(static_cast<float>(std::sin(i * 0.7)) * 3.0f));
      std::vector<std::int16_t> p(heads * d);
      for (std::size_t i = 0; i < p.size(); ++i)
        p[i] = static_cast<std::int16_t>(std::lround(q[i] * 1000.0f));
      const float c[4] = {1e-3f, 2e-3f, 5e-4f, 1e-3f}, e[4] = {0.11f, 0.22f, 0.3f, 0.9f};
      const auto& generic = kernels::kernel_table(kernels::KernelSet::kGeneric);
      // The reference of code_upper: exact integer dots, the bound's formula as written.
      std::vector<float> want(heads * n);
      for (std::size_t h = 0; h < heads; ++h) {
        for (std::size_t i = 0; i < n; ++i) {
          std::int32_t dot = 0;
          for (std::size_t ch = 0; ch < d; ++ch)
            dot += p[h * d + ch] * cache.codes().code_data()[i * d + ch];
          want[h * n + i] = cache.codes().scale_data()[i] * (c[h] * static_cast<float>(dot) + e[h]);
        }
      }
      std::vector<float> logits_a(heads * n), logits_b(heads * n);
      generic.half_logits(q.data(), heads, cache.keys(), nullptr, n, d, 0.125f, logits_a.data());
      for (const auto set : kernels::available_kernel_sets()) {
        const auto& other = kernels::kernel_table(set);
        SCOPED_TRACE(std::string(other.name) + " d=" + std::to_string(d) +
                     " heads=" + std::to_string(heads));
        other.half_logits(q.data(), heads, cache.keys(), nullptr, n, d, 0.125f, logits_b.data());
        std::vector<float> upper(heads * n), tops(heads);
        other.code_upper(p.data(), heads, cache.code_tiles(), cache.codes().scale_data(), n, d, c,
                         e, upper.data(), tops.data());
        for (std::size_t i = 0; i < heads * n; ++i) {
          ASSERT_EQ(std::bit_cast<std::uint32_t>(logits_a[i]),
                    std::bit_cast<std::uint32_t>(logits_b[i]));
          ASSERT_EQ(std::bit_cast<std::uint32_t>(upper[i]), std::bit_cast<std::uint32_t>(want[i]))
              << i;
        }
        for (std::size_t h = 0; h < heads; ++h)
          ASSERT_EQ(tops[h], *std::max_element(want.begin() + h * n, want.begin() + (h + 1) * n));

        // Gathered rows give the same scores as the contiguous ones.
        std::vector<std::uint32_t> rows;
        for (std::uint32_t j = 0; j < n; j += 3)
          rows.push_back(j);
        std::vector<float> gathered(rows.size());
        other.half_logits(q.data(), 1, cache.keys(), rows.data(), rows.size(), d, 0.125f,
                          gathered.data());
        for (std::size_t i = 0; i < rows.size(); ++i)
          ASSERT_EQ(gathered[i], logits_a[rows[i]]);

        // The keys near the top with their buckets, the far keys' weight, and the selection
        // of a bucket range; near = 100 lists some keys, near = 256 every key.
        std::vector<std::uint16_t> buckets(n + 16);
        std::vector<std::uint32_t> listed(n + 16);
        for (const std::uint32_t near : {100u, 256u}) {
          std::vector<std::uint32_t> far_weights(256, 0);
          for (std::uint32_t b = near; b < 256; ++b)
            far_weights[b] = (b << 14) + b * b + 7;  // distinct, < 2^23: a lost term shows
          std::vector<std::uint32_t> want_listed;
          std::vector<std::uint16_t> want_buckets;
          std::uint64_t want_far = 0;
          for (std::size_t j = 0; j < n; ++j) {
            const float units = (tops[0] - upper[j]) * 64.0f;
            const auto b = static_cast<std::uint16_t>(units < 255.0f ? units : 255.0f);
            want_far += far_weights[b];
            if (b >= near) continue;
            want_listed.push_back(static_cast<std::uint32_t>(j));
            want_buckets.push_back(b);
          }
          std::uint64_t far = 1;
          const std::size_t m =
              other.near_buckets(upper.data(), n, tops[0], 64.0f, 255, near, far_weights.data(),
                                 listed.data(), buckets.data(), &far);
          ASSERT_EQ(m, want_listed.size()) << "near " << near;
          ASSERT_EQ(std::vector<std::uint32_t>(listed.begin(), listed.begin() + m), want_listed);
          ASSERT_EQ(std::vector<std::uint16_t>(buckets.begin(), buckets.begin() + m), want_buckets);
          ASSERT_EQ(far, want_far);
        }
        {
          // Far weights constant on runs of 16 buckets from near, the last run from near + 496
          // on (the contract a kernel may use to look them up), with a grid that spreads the
          // keys over the near buckets, the runs and the last run.
          const std::uint32_t near = 256, last = 1023;
          std::vector<std::uint32_t> far_weights(last + 1, 0);
          for (std::uint32_t b = near; b <= last; ++b)
            far_weights[b] = (std::min<std::uint32_t>((b - near) / 16, 31) << 17) + 5 * b % 16 + 11;
          for (std::uint32_t b = near; b <= last; ++b)  // constant on each run
            far_weights[b] = far_weights[near + 16 * std::min<std::uint32_t>((b - near) / 16, 31)];
          const float low = *std::min_element(upper.begin(), upper.begin() + n);
          const float grid = 1300.0f / (tops[0] - low);
          std::uint64_t want_far = 0;
          std::size_t want_listed = 0, in_runs = 0, in_last = 0;
          for (std::size_t j = 0; j < n; ++j) {
            const float units = (tops[0] - upper[j]) * grid;
            const auto b = static_cast<std::uint32_t>(units < 1023.0f ? units : 1023.0f);
            want_far += far_weights[b];
            want_listed += b < near;
            in_runs += b >= near && b < near + 496;
            in_last += b >= near + 496;
          }
          ASSERT_GT(want_listed, 0u);
          ASSERT_GT(in_runs, 0u);
          ASSERT_GT(in_last, 0u);
          std::uint64_t far = 1;
          std::vector<std::uint16_t> run_buckets(n + 16);
          std::vector<std::uint32_t> run_listed(n + 16);
          const std::size_t m =
              other.near_buckets(upper.data(), n, tops[0], grid, last, near, far_weights.data(),
                                 run_listed.data(), run_buckets.data(), &far);
          ASSERT_EQ(m, want_listed);
          ASSERT_EQ(far, want_far);
        }
        ASSERT_EQ(std::vector<std::uint16_t>(buckets.begin(), buckets.begin() + n), [&] {
          std::vector<std::uint16_t> every(n);
          for (std::size_t j = 0; j < n; ++j) {
            const float units = (tops[0] - upper[j]) * 64.0f;
            every[j] = static_cast<std::uint16_t>(units < 255.0f ? units : 255.0f);
          }
          return every;
        }());
        std::vector<std::uint32_t> selected(n + 1), want_selected;
        for (std::uint32_t j = 0; j < n; ++j)
          if (buckets[j] >= 3 && buckets[j] <= 40) want_selected.push_back(j);
        selected.resize(other.select_buckets(buckets.data(), n, 3, 40, selected.data()));
        ASSERT_EQ(selected, want_selected);

        // Softmax weights, their sum, the block maximum and P·V for every head at once.
        std::vector<float> ea(heads * n), eb(heads * n), acc_a(heads * d, 0.0f),
            acc_b(heads * d, 0.0f);
        for (std::size_t h = 0; h < heads; ++h) {
          const float* x = logits_a.data() + h * n;
          ASSERT_EQ(other.max_floats(x, n), *std::max_element(x, x + n));
          const float sa = generic.exp_floats(x, n, 3.0f, ea.data() + h * n);
          const float sb = other.exp_floats(x, n, 3.0f, eb.data() + h * n);
          ASSERT_EQ(sa, sb);
          double sum = 0.0;
          for (std::size_t i = 0; i < n; ++i) {
            ASSERT_EQ(ea[h * n + i], eb[h * n + i]);
            ASSERT_NEAR(ea[h * n + i], std::exp(static_cast<double>(x[i]) - 3.0),
                        1e-6 * std::exp(x[i] - 3.0) + 1e-37);
            sum += ea[h * n + i];
          }
          ASSERT_NEAR(sa, sum, 1e-5 * sum);
        }
        generic.half_accumulate(ea.data(), heads, cache.values(), nullptr, n, d, acc_a.data());
        other.half_accumulate(ea.data(), heads, cache.values(), nullptr, n, d, acc_b.data());
        for (std::size_t i = 0; i < heads * d; ++i)
          ASSERT_EQ(acc_a[i], acc_b[i]);
        // One head at a time gives the same bits as all heads at once.
        for (std::size_t h = 0; h < heads; ++h) {
          std::vector<float> single(d, 0.0f);
          other.half_accumulate(ea.data() + h * n, 1, cache.values(), nullptr, n, d, single.data());
          for (std::size_t ch = 0; ch < d; ++ch)
            ASSERT_EQ(single[ch], acc_a[h * d + ch]);
        }
      }
    }
  }
}

TEST(CertifiedDecode, KeysFarBelowTheTopAreScoredWhenTheyHoldTheTail) {
  // One key 14 logits above 4000 others: the others sit past the listed buckets (12 logits) yet
  // hold about 3.3e-3 of the mass, more than eps = 1e-3, so the row is selected again with
  // every key listed and some of them are scored.
  const std::size_t d = 8, n = 4001;
  KvCache cache(d);
  std::vector<std::uint16_t> k(d, 0), v(d, 0);
  for (std::size_t j = 0; j < n; ++j) {
    k[0] = to_binary16(j == 0 ? 16.0f : 2.0f + 0.25f * static_cast<float>(j % 5));
    v[1] = to_binary16(static_cast<float>(j % 7) - 3.0f);
    cache.append(k.data(), v.data());
  }
  std::vector<float> q(d, 0.0f);
  q[0] = 1.0f;
  std::vector<float> out(d);
  CertifiedDecodeHead res;
  std::vector<std::uint32_t> kept;
  DecodeScratch scratch;
  certified_decode(cache, n, q.data(), 1, 1.0f, 1e-3, out.data(), &res, scratch, &kept);
  EXPECT_LE(exact_tail(cache, n, q.data(), 1.0f, kept), res.tau_bound);
  EXPECT_LE(res.tau_bound, 1e-3);
  EXPECT_GT(res.scored, 1u);
  EXPECT_LT(res.scored, n);  // the lowest of the far keys stay out
  EXPECT_LE(output_error(out.data(), exact_output(cache, n, q.data(), 1.0f)), res.output_bound);
}

TEST(CertifiedDecode, CertificatesHoldAtEveryHeadDimension) {
  for (const std::size_t d : {8u, 16u, 48u}) {
    const std::size_t n = 1500;
    const KvCache cache = random_cache(n, d, 1.5, 11, false);
    std::mt19937 rng(3);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<float> q(2 * d);
    for (auto& x : q)
      x = from_binary16(to_binary16(normal(rng) * 3.0f));
    std::vector<float> out(2 * d), dense(2 * d);
    std::vector<CertifiedDecodeHead> res(2);
    std::vector<std::vector<std::uint32_t>> kept(2);
    DecodeScratch scratch;
    certified_decode(cache, n, q.data(), 2, 0.25f, 0.05, out.data(), res.data(), scratch,
                     kept.data());
    dense_decode(cache, n, q.data(), 2, 0.25f, dense.data(), scratch);
    for (std::size_t h = 0; h < 2; ++h) {
      EXPECT_LE(exact_tail(cache, n, q.data() + h * d, 0.25f, kept[h]), res[h].tau_bound);
      EXPECT_LE(res[h].tau_bound, 0.05);
      EXPECT_LT(res[h].scored, n) << "d=" << d;  // these rows are peaked enough to save keys
      const auto exact = exact_output(cache, n, q.data() + h * d, 0.25f);
      EXPECT_LE(output_error(out.data() + h * d, exact), res[h].output_bound);
      // Peaked rows, moderate logits: the bound is far below the 2 max‖v‖ of O5.
      EXPECT_LT(res[h].output_bound, cache.value_norm_max());
      EXPECT_LE(output_error(dense.data() + h * d, exact), 1e-5 * cache.value_norm_max());
    }
  }
}

}  // namespace
}  // namespace tvk
