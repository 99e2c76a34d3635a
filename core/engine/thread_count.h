#pragma once
//! \file How many worker threads a run uses.

#include <cstddef>

namespace tvk {

//! Threads to use: `requested` when > 0, else every hardware thread (at least 1).
std::size_t resolve_thread_count(std::size_t requested);

}  // namespace tvk
