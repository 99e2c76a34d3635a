#pragma once
//! \file Refusing, before any work, a run whose rows cannot fit in this machine's memory (a
//! huge `n`), with the size it would need, instead of failing mid-run with std::bad_alloc.

#include <cstddef>
#include <string>

namespace tvk {

//! Physical memory of this machine in bytes (0 when it cannot be told).
std::size_t physical_memory_bytes();

//! Throws InputError "<where>: a row of N keys needs about X GiB of working memory (B bytes per
//! key x T copies); this machine has Y GiB" when keys × bytes_per_key × copies exceeds the
//! machine's physical memory. `copies` is how many rows are worked on at once (threads + 1).
void check_row_memory(const std::string& where, std::size_t keys, std::size_t bytes_per_key,
                      std::size_t copies);

}  // namespace tvk
