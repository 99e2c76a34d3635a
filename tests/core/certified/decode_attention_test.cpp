// The decode step (core/certified/decode_attention.h): binary16 conversions, kernel sets that
// agree bit for bit, and certificates that hold against exact double attention on adversarial
// synthetic caches (huge and tiny keys, ties, zero queries).
#include "core/certified/decode_attention.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
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

// Exact tail mass of everything outside `kept` and the exact output, in double.
double exact_tail(const KvCache& cache, std::size_t n, const float* q, float scale,
                  const std::vector<std::uint32_t>& kept) {
  const std::size_t d = cache.dim();
  std::vector<double> s(n);
  for (std::size_t j = 0; j < n; ++j) {
    double dot = 0.0;
    for (std::size_t c = 0; c < d; ++c)
      dot += static_cast<double>(q[c]) * from_binary16(cache.keys()[j * d + c]);
    s[j] = scale * dot;
  }
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

KvCache random_cache(std::size_t n, std::size_t d, double key_scale, std::uint32_t seed,
                     bool ties) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  KvCache cache(d);
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

TEST(CertifiedDecode, TrueTailNeverExceedsTheBoundOnAdversarialCaches) {
  const std::size_t d = 64;
  int cases = 0;
  for (double key_scale : {1e-4, 0.3, 2.0, 40.0, 3000.0}) {
    for (bool ties : {false, true}) {
      for (std::size_t n : {1u, 7u, 300u, 2500u}) {
        const KvCache cache = random_cache(n, d, key_scale, static_cast<std::uint32_t>(n), ties);
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
            double err = 0.0;
            for (std::size_t c = 0; c < d; ++c)
              err += std::pow(out[h * d + c] - dense[h * d + c], 2.0);
            ASSERT_LE(std::sqrt(err), res[h].output_bound + 1e-4 * cache.value_norm_max());
            ++cases;
          }
        }
      }
    }
  }
  EXPECT_EQ(cases, 5 * 2 * 4 * 3 * 3);
}

TEST(CertifiedDecode, KernelSetsAgreeBitForBit) {
  const std::size_t d = 64, n = 1000;
  const KvCache cache = random_cache(n, d, 2.0, 3, false);
  std::vector<float> q(3 * d);
  for (std::size_t i = 0; i < q.size(); ++i)
    q[i] = from_binary16(to_binary16(static_cast<float>(std::sin(i * 0.7)) * 3.0f));
  const auto& generic = kernels::kernel_table(kernels::KernelSet::kGeneric);
  std::vector<float> a(3 * n), b(3 * n);
  std::vector<std::int16_t> p(3 * d);
  for (std::size_t i = 0; i < p.size(); ++i)
    p[i] = static_cast<std::int16_t>(std::lround(q[i] * 1000.0f));
  std::vector<std::int32_t> da(3 * n), db(3 * n);
  generic.half_logits(q.data(), 3, cache.keys(), nullptr, n, d, 0.125f, a.data());
  generic.code_dots(p.data(), 3, cache.codes().code_data(), n, d, da.data());
  for (const auto set : kernels::available_kernel_sets()) {
    const auto& other = kernels::kernel_table(set);
    other.half_logits(q.data(), 3, cache.keys(), nullptr, n, d, 0.125f, b.data());
    other.code_dots(p.data(), 3, cache.codes().code_data(), n, d, db.data());
    for (std::size_t i = 0; i < 3 * n; ++i) {
      ASSERT_EQ(std::bit_cast<std::uint32_t>(a[i]), std::bit_cast<std::uint32_t>(b[i]))
          << other.name;
      ASSERT_EQ(da[i], db[i]) << other.name;
    }
    std::vector<float> ea(n), eb(n), acc_a(d, 0.0f), acc_b(d, 0.0f);
    generic.exp_floats(a.data(), n, 3.0f, ea.data());
    other.exp_floats(a.data(), n, 3.0f, eb.data());
    generic.half_accumulate(ea.data(), cache.values(), nullptr, n, d, acc_a.data());
    other.half_accumulate(ea.data(), cache.values(), nullptr, n, d, acc_b.data());
    for (std::size_t i = 0; i < n; ++i) {
      ASSERT_EQ(ea[i], eb[i]) << other.name;
      ASSERT_NEAR(ea[i], std::exp(static_cast<double>(a[i]) - 3.0),
                  1e-6 * std::exp(a[i] - 3.0) + 1e-37);
    }
    for (std::size_t c = 0; c < d; ++c)
      ASSERT_EQ(acc_a[c], acc_b[c]) << other.name;
  }
}

}  // namespace
}  // namespace tvk
