#pragma once
//! \file How many worker threads a run uses.

#include <cstddef>

namespace tvk {

//! The most worker threads a command accepts: more than any machine has only exhausts memory and
//! thread limits (oneTBB, or pthread_create, then fails mid-run).
inline constexpr std::size_t kMaxThreads = 4096;

//! Threads to use: `requested` when > 0, else every hardware thread (at least 1).
std::size_t resolve_thread_count(std::size_t requested);

}  // namespace tvk
