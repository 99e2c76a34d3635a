//! \file Every kernel set this CPU can run gives bit for bit the generic set's results, on
//! random and adversarial inputs (NaN, ±inf, underflow, ties, odd lengths, every remainder of
//! the vector width); TVK_KERNELS picks a set and refuses unknown or unavailable ones.

#include "core/kernels/kernel_set.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include <boost/random/normal_distribution.hpp>

#include "core/random/stream.h"

namespace tvk::kernels {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

std::vector<KernelSet> sets_beyond_generic() {
  std::vector<KernelSet> sets = available_kernel_sets();
  sets.erase(sets.begin());
  return sets;
}

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0);
}

// A row of n logits of one of several shapes: Gaussian, heavy, ties, huge range, tiny values.
std::vector<double> adversarial_row(RandomStream& rng, std::size_t n, int shape) {
  std::vector<double> row(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double u = rng.uniform01();
    switch (shape % 6) {
      case 0:
        row[i] = 8.0 * (u - 0.5);
        break;
      case 1:
        row[i] = std::tan(3.1 * (u - 0.5)) * 100.0;
        break;
      case 2:
        row[i] = std::floor(4.0 * u);  // many ties
        break;
      case 3:
        row[i] = (u - 0.5) * 1e300;
        break;
      case 4:
        row[i] = (u - 0.5) * 1e-300;
        break;
      default:
        row[i] = -700.0 - 100.0 * u;  // exp underflows into subnormals and zero
        break;
    }
  }
  return row;
}

TEST(KernelSets, GenericIsAlwaysAvailableAndNamesAreStable) {
  const auto sets = available_kernel_sets();
  ASSERT_FALSE(sets.empty());
  EXPECT_EQ(sets.front(), KernelSet::kGeneric);
  EXPECT_STREQ(kernel_set_name(KernelSet::kGeneric), "generic");
  EXPECT_STREQ(kernel_set_name(KernelSet::kAvx2), "avx2");
  EXPECT_STREQ(kernel_set_name(KernelSet::kAvx512), "avx512");
}

TEST(KernelSets, EnvironmentSelectsAndRefuses) {
  const char* old = std::getenv("TVK_KERNELS");
  const std::string saved = old ? old : "";
  ::setenv("TVK_KERNELS", "generic", 1);
  EXPECT_EQ(kernel_set_from_environment(), KernelSet::kGeneric);
  ::setenv("TVK_KERNELS", "", 1);
  EXPECT_EQ(kernel_set_from_environment(), available_kernel_sets().back());
  ::setenv("TVK_KERNELS", "sse9", 1);
  try {
    kernel_set_from_environment();
    ADD_FAILURE() << "an unknown set was accepted";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("TVK_KERNELS=sse9: unknown kernel set"),
              std::string::npos)
        << error.what();
    EXPECT_NE(std::string(error.what()).find("generic, avx2, avx512"), std::string::npos);
  }
  for (KernelSet set : {KernelSet::kAvx2, KernelSet::kAvx512}) {
    ::setenv("TVK_KERNELS", kernel_set_name(set), 1);
    const auto available = available_kernel_sets();
    if (std::find(available.begin(), available.end(), set) != available.end()) {
      EXPECT_EQ(kernel_set_from_environment(), set);
    } else {
      EXPECT_THROW(kernel_set_from_environment(), std::invalid_argument);
    }
  }
  if (old) {
    ::setenv("TVK_KERNELS", saved.c_str(), 1);
  } else {
    ::unsetenv("TVK_KERNELS");
  }
}

TEST(KernelSets, ValueRangeSortKeysAndRunsMatchGeneric) {
  const KernelTable& generic = kernel_table(KernelSet::kGeneric);
  RandomStream rng(1);
  for (KernelSet set : sets_beyond_generic()) {
    const KernelTable& other = kernel_table(set);
    for (std::size_t n = 1; n < 200; ++n) {
      for (int shape = 0; shape < 6; ++shape) {
        std::vector<double> row = adversarial_row(rng, n, shape);
        if (shape == 1 && n > 3) row[n / 2] = (n % 3 == 0) ? kInf : -kInf;
        if (shape == 2 && n > 5 && n % 5 == 0) row[n - 2] = std::nan("");
        const RangeResult a = generic.value_range(row.data(), n);
        const RangeResult b = other.value_range(row.data(), n);
        ASSERT_EQ(a.has_nan, b.has_nan) << other.name << " n=" << n;
        if (!a.has_nan) {
          ASSERT_EQ(std::bit_cast<std::uint64_t>(a.top), std::bit_cast<std::uint64_t>(b.top));
          ASSERT_EQ(std::bit_cast<std::uint64_t>(a.bottom), std::bit_cast<std::uint64_t>(b.bottom));
        }
        if (a.has_nan || !std::isfinite(a.top) || !std::isfinite(a.bottom)) continue;
        const double span = a.top - a.bottom;
        const double scale = span > 0 && std::isfinite(span) ? 2147483520.0 / span : 0.0;
        std::vector<std::uint32_t> ka(n), kb(n);
        generic.sort_keys(row.data(), n, a.top, scale, 9, ka.data());
        other.sort_keys(row.data(), n, a.top, scale, 9, kb.data());
        ASSERT_EQ(ka, kb) << other.name << " n=" << n << " shape=" << shape;
        std::vector<std::uint64_t> packed(n);
        for (std::size_t i = 0; i < n; ++i)
          packed[i] = static_cast<std::uint64_t>(ka[i] >> 12) << 32 | i;
        for (std::size_t from = 0; from + 1 < n; from += 7) {
          ASSERT_EQ(generic.next_equal_key(packed.data(), from, n - 1),
                    other.next_equal_key(packed.data(), from, n - 1));
        }
      }
    }
  }
}

TEST(KernelSets, NextEqualKeyFindsTheFirstRun) {
  for (KernelSet set : available_kernel_sets()) {
    const KernelTable& table = kernel_table(set);
    for (std::size_t n = 2; n < 150; n += 3) {
      for (std::size_t at = 0; at + 1 < n; at += 5) {
        std::vector<std::uint64_t> packed(n);
        for (std::size_t i = 0; i < n; ++i)
          packed[i] = static_cast<std::uint64_t>(i) << 32 | (n - i);
        packed[at + 1] = (packed[at] & 0xffffffff00000000ULL) | 7u;  // equal key, other position
        for (std::size_t from = 0; from + 1 < n; ++from) {
          const std::size_t expected = from <= at ? at : n - 1;
          ASSERT_EQ(table.next_equal_key(packed.data(), from, n - 1), expected)
              << table.name << " n=" << n << " at=" << at << " from=" << from;
        }
      }
    }
  }
}

TEST(KernelSets, ExpMatchesGenericAtEveryLengthAndValue) {
  const KernelTable& generic = kernel_table(KernelSet::kGeneric);
  RandomStream rng(2);
  for (KernelSet set : sets_beyond_generic()) {
    const KernelTable& other = kernel_table(set);
    for (std::size_t n = 0; n < 70; ++n) {
      for (int shape = 0; shape < 6; ++shape) {
        std::vector<double> row = adversarial_row(rng, n, shape);
        if (n > 2) row[1] = shape % 2 ? -kInf : std::nan("");
        const double shift = n ? row[0] : 0.0;
        std::vector<double> a(n), b(n);
        generic.exp_shifted(row.data(), n, shift, a.data());
        other.exp_shifted(row.data(), n, shift, b.data());
        ASSERT_TRUE(same_bits(a, b)) << other.name << " n=" << n << " shape=" << shape;
        // In place gives the same.
        std::vector<double> in_place = row;
        other.exp_shifted(in_place.data(), n, shift, in_place.data());
        ASSERT_TRUE(same_bits(in_place, a));
      }
    }
  }
}

TEST(KernelSets, GeneratorKernelsMatchGeneric) {
  const KernelTable& generic = kernel_table(KernelSet::kGeneric);
  const double* table_x = boost::random::detail::normal_table<double>::table_x;
  for (KernelSet set : sets_beyond_generic()) {
    const KernelTable& other = kernel_table(set);
    RandomStream rng(3);
    for (int trial = 0; trial < 50; ++trial) {
      std::uint64_t state_a[16], state_b[16];
      for (auto& word : state_a)
        word = rng();
      std::memcpy(state_b, state_a, sizeof state_a);
      const std::size_t groups = 1 + static_cast<std::size_t>(trial) * 3;
      std::vector<std::uint64_t> wa(4 * groups), wb(4 * groups);
      generic.xoshiro_lanes(state_a, wa.data(), groups);
      other.xoshiro_lanes(state_b, wb.data(), groups);
      ASSERT_EQ(wa, wb) << other.name;
      ASSERT_EQ(std::memcmp(state_a, state_b, sizeof state_a), 0);
      std::vector<double> va(wa.size()), vb(wa.size());
      std::vector<std::uint8_t> ra(groups), rb(groups);
      generic.ziggurat_fast(wa.data(), wa.size(), table_x, va.data(), ra.data());
      other.ziggurat_fast(wa.data(), wa.size(), table_x, vb.data(), rb.data());
      ASSERT_TRUE(same_bits(va, vb)) << other.name;
      ASSERT_EQ(ra, rb) << other.name;
    }
  }
}

TEST(KernelSets, BoundScanFiltersMatchGeneric) {
  const KernelTable& generic = kernel_table(KernelSet::kGeneric);
  RandomStream rng(4);
  for (KernelSet set : sets_beyond_generic()) {
    const KernelTable& other = kernel_table(set);
    for (int trial = 0; trial < 300; ++trial) {
      const std::size_t n = 2 + static_cast<std::size_t>(rng() % 300);
      std::vector<double> w(n), head(n);
      double sum = 0.0;
      for (std::size_t i = 0; i < n; ++i) {
        // Descending weights with gaps here and there, some near underflow.
        w[i] = i == 0 ? 1.0 : w[i - 1] * (rng() % 17 == 0 ? 0.01 : 0.999);
        if (trial % 7 == 0 && i > n / 2) w[i] = 1e-295 * rng.uniform01();
        sum += w[i];
        head[i] = sum;
      }
      const double eps = 0.01 + 0.3 * rng.uniform01();
      const double nd = static_cast<double>(n);
      const double c = (1.0 - eps) / eps * (1.0 - 1e-9);
      for (std::size_t k = 1; k < n; k += 1 + k / 8) {
        ASSERT_EQ(generic.b1_skip(w.data(), k, n, c, nd), other.b1_skip(w.data(), k, n, c, nd))
            << other.name << " n=" << n << " k=" << k;
        ASSERT_EQ(generic.b2_skip(w.data(), head.data(), k, n, 1.0 - eps, eps * (1 + 1e-9), nd),
                  other.b2_skip(w.data(), head.data(), k, n, 1.0 - eps, eps * (1 + 1e-9), nd));
      }
    }
  }
}

TEST(KernelSets, LogitKernelsFollowTheDocumentedOrderInEverySet) {
  RandomStream rng(5);
  for (std::size_t d = 1; d <= 70; d += (d < 10 ? 1 : 7)) {
    const std::size_t keys = 1 + static_cast<std::size_t>(rng() % 40);
    std::vector<double> q(d), k(keys * d);
    for (double& x : q)
      x = (rng.uniform01() - 0.5) * std::ldexp(1.0, static_cast<int>(rng() % 40) - 20);
    for (double& x : k)
      x = (rng.uniform01() - 0.5) * std::ldexp(1.0, static_cast<int>(rng() % 40) - 20);
    const double scale = 0.125;
    // Row-major keys: four partial sums over channels c mod 4, remainder into the first.
    std::vector<double> expected(keys);
    for (std::size_t i = 0; i < keys; ++i) {
      double part[4] = {0.0, 0.0, 0.0, 0.0};
      std::size_t c = 0;
      for (; c + 4 <= d; c += 4)
        for (int l = 0; l < 4; ++l)
          part[l] += q[c + l] * k[i * d + c + l];
      for (; c < d; ++c)
        part[0] += q[c] * k[i * d + c];
      expected[i] = scale * ((part[0] + part[1]) + (part[2] + part[3]));
    }
    // The same keys column-major (one column per channel): the sum in channel order.
    std::vector<double> columns(keys * d), expected_columns(keys);
    for (std::size_t i = 0; i < keys; ++i) {
      double sum = 0.0;
      for (std::size_t c = 0; c < d; ++c) {
        columns[c * keys + i] = k[i * d + c];
        sum += k[i * d + c] * q[c];
      }
      expected_columns[i] = sum * scale;
    }
    for (KernelSet set : available_kernel_sets()) {
      const KernelTable& table = kernel_table(set);
      std::vector<double> got(keys), got_columns(keys);
      table.key_logits(q.data(), k.data(), keys, d, scale, got.data());
      table.channel_logits(q.data(), 1, columns.data(), keys, keys, d, scale, got_columns.data());
      ASSERT_TRUE(same_bits(got, expected)) << table.name << " d=" << d;
      ASSERT_TRUE(same_bits(got_columns, expected_columns)) << table.name << " d=" << d;
    }
  }
}

TEST(KernelSets, RadixOrderIsAStableSortByKey) {
  RandomStream rng(7);
  for (std::size_t n : {1u, 2u, 63u, 64u, 65u, 1000u, 4096u}) {
    for (int spread : {1, 3, 4194303}) {  // all equal, few keys, every key distinct-ish
      std::vector<std::uint32_t> keys(n);
      for (auto& key : keys)
        key = static_cast<std::uint32_t>(rng() % static_cast<std::uint64_t>(spread));
      std::vector<std::uint32_t> expected(n);
      for (std::size_t i = 0; i < n; ++i)
        expected[i] = static_cast<std::uint32_t>(i);
      std::stable_sort(expected.begin(), expected.end(),
                       [&keys](std::uint32_t a, std::uint32_t b) { return keys[a] < keys[b]; });
      for (KernelSet set : available_kernel_sets()) {
        const KernelTable& table = kernel_table(set);
        std::vector<std::uint64_t> a(n), b(n);
        std::vector<std::uint32_t> order(n);
        const std::uint64_t* sorted =
            table.radix_order(keys.data(), n, a.data(), b.data(), order.data());
        ASSERT_EQ(order, expected) << table.name << " n=" << n << " spread=" << spread;
        for (std::size_t i = 0; i < n; ++i)
          ASSERT_EQ(sorted[i], static_cast<std::uint64_t>(keys[order[i]]) << 32 | order[i]);
      }
    }
  }
}

TEST(KernelSets, GatherAndScaleShiftMatchGeneric) {
  const KernelTable& generic = kernel_table(KernelSet::kGeneric);
  RandomStream rng(8);
  for (std::size_t n = 0; n < 100; n += 7) {
    std::vector<double> values = adversarial_row(rng, n, static_cast<int>(n));
    std::vector<std::uint32_t> order(n);
    for (std::size_t i = 0; i < n; ++i)
      order[i] = static_cast<std::uint32_t>(rng() % n);
    for (KernelSet set : available_kernel_sets()) {
      const KernelTable& table = kernel_table(set);
      std::vector<double> got(n), expected(n);
      table.gather(values.data(), order.data(), n, got.data());
      for (std::size_t r = 0; r < n; ++r)
        expected[r] = values[order[r]];
      ASSERT_TRUE(same_bits(got, expected)) << table.name;
      std::vector<double> a = values, b = values;
      generic.scale_shift(a.data(), n, -0.75, 3.3);
      table.scale_shift(b.data(), n, -0.75, 3.3);
      ASSERT_TRUE(same_bits(a, b)) << table.name;
    }
  }
}

TEST(KernelSets, CellSumsFollowTheChannelOrderInEverySet) {
  RandomStream rng(6);
  for (std::size_t cells = 1; cells <= 37; cells += 3) {
    for (std::size_t d : {1u, 3u, 8u, 33u}) {
      std::vector<double> q(d), lo(cells * d), hi(cells * d), big(cells * d), c(cells * d);
      for (std::size_t e = 0; e < d; ++e)
        q[e] = e % 5 == 0 ? -0.0 : (rng.uniform01() - 0.5) * 8.0;
      for (std::size_t i = 0; i < cells * d; ++i) {
        lo[i] = (rng.uniform01() - 0.9) * 3.0;
        hi[i] = lo[i] + rng.uniform01();
        big[i] = std::max(std::abs(lo[i]), std::abs(hi[i]));
        c[i] = i % 7 == 0 ? -0.0 : 0.5 * (lo[i] + hi[i]);
      }
      // The scalar definition, channel-major summaries: summary[e * cells + j].
      std::vector<double> expected(4 * cells);
      for (std::size_t j = 0; j < cells; ++j) {
        double box = 0.0, a = 0.0, qc = 0.0, b = 0.0;
        for (std::size_t e = 0; e < d; ++e) {
          const std::size_t at = e * cells + j;
          box += q[e] >= 0.0 ? q[e] * hi[at] : q[e] * lo[at];
          a += std::abs(q[e]) * big[at];
          qc += q[e] * c[at];
          b += std::abs(q[e]) * std::abs(c[at]);
        }
        expected[j] = box;
        expected[cells + j] = a;
        expected[2 * cells + j] = qc;
        expected[3 * cells + j] = b;
      }
      for (KernelSet set : available_kernel_sets()) {
        const KernelTable& table = kernel_table(set);
        std::vector<double> got(4 * cells);
        table.cell_sums(q.data(), d, lo.data(), hi.data(), big.data(), c.data(), cells, got.data());
        ASSERT_TRUE(same_bits(got, expected)) << table.name << " cells=" << cells << " d=" << d;
      }
    }
  }
}

}  // namespace
}  // namespace tvk::kernels
