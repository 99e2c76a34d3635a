#pragma once
//! \file A std::allocator replacement that starts an array on a 128-byte boundary, for the KV
//! cache's rows and code tiles. malloc returns large blocks 16 bytes past a page boundary, so a
//! 128-byte row (d = 64 binary16 values) would straddle three cache lines: a gathered row would
//! cost three line fills instead of two. 128 bytes is also the pair of lines that the L2's
//! adjacent-line prefetcher fetches together.

#include <cstddef>
#include <new>

namespace tvk {

inline constexpr std::size_t kRowAlignment = 128;

template <class T>
struct RowAlignedAllocator {
  using value_type = T;

  RowAlignedAllocator() noexcept = default;
  template <class U>
  RowAlignedAllocator(const RowAlignedAllocator<U>&) noexcept {}

  T* allocate(std::size_t n) {
    if (n > static_cast<std::size_t>(-1) / sizeof(T)) throw std::bad_array_new_length();
    return static_cast<T*>(::operator new (n * sizeof(T), std::align_val_t{kRowAlignment}));
  }
  // The unsized form: clang before 16 does not declare sized deallocation by default.
  void deallocate(T* p, std::size_t) noexcept {
    ::operator delete (p, std::align_val_t{kRowAlignment});
  }

  template <class U>
  bool operator==(const RowAlignedAllocator<U>&) const noexcept {
    return true;
  }
};

}  // namespace tvk
