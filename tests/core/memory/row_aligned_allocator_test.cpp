#include "core/memory/row_aligned_allocator.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "core/certified/decode_attention.h"
#include "core/numerics/binary16.h"

namespace {

using tvk::kRowAlignment;
using tvk::RowAlignedAllocator;

bool row_aligned(const void* p) {
  return reinterpret_cast<std::uintptr_t>(p) % kRowAlignment == 0;
}

TEST(RowAlignedAllocator, EveryArrayStartsOnA128ByteBoundaryAndKeepsItsContents) {
  // Sizes that malloc serves from its heap and from mmap (16 bytes past a page boundary).
  for (const std::size_t n : {1u, 7u, 1000u, 100000u, 1u << 20}) {
    std::vector<std::uint16_t, RowAlignedAllocator<std::uint16_t>> v(n);
    EXPECT_TRUE(row_aligned(v.data())) << n;
    for (std::size_t i = 0; i < n; ++i)
      v[i] = static_cast<std::uint16_t>(i * 7);
    v.push_back(1);  // grows into a new allocation
    EXPECT_TRUE(row_aligned(v.data())) << n;
    for (std::size_t i = 0; i < n; ++i)
      ASSERT_EQ(v[i], static_cast<std::uint16_t>(i * 7));
  }
}

TEST(RowAlignedAllocator, KvCacheRowsAndCodeTilesStartOnRowBoundaries) {
  tvk::KvCache cache(64);
  std::vector<std::uint16_t> row(64);
  for (std::size_t j = 0; j < 3000; ++j) {
    for (std::size_t c = 0; c < row.size(); ++c)
      row[c] = tvk::to_binary16(static_cast<float>((j + c) % 17) - 8.0f);
    cache.append(row.data(), row.data());
  }
  EXPECT_TRUE(row_aligned(cache.keys()));
  EXPECT_TRUE(row_aligned(cache.values()));
  EXPECT_TRUE(row_aligned(cache.code_tiles()));
}

}  // namespace
