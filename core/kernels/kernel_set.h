#pragma once
//! \file Which kernel table a process uses: the best set the CPU supports, or the one the
//! environment variable TVK_KERNELS names (generic, avx2 or avx512). Chosen once, on first use.

#include <string>
#include <string_view>
#include <vector>

#include "core/kernels/kernel_table.h"

namespace tvk::kernels {

enum class KernelSet { kGeneric, kAvx2, kAvx512 };

//! "generic", "avx2", "avx512".
const char* kernel_set_name(KernelSet set);

//! The sets this CPU can run, in increasing order (always starts with kGeneric).
std::vector<KernelSet> available_kernel_sets();

//! The table of a set (whether or not this CPU can run it).
const KernelTable& kernel_table(KernelSet set);

//! The set TVK_KERNELS asks for (empty or unset: the best available one). Throws
//! std::invalid_argument with one line naming the variable for an unknown name or a set this
//! CPU lacks.
KernelSet kernel_set_from_environment();

//! The table in use: kernel_set_from_environment()'s, chosen on the first call. A process that
//! wants a clean error for a bad TVK_KERNELS calls kernel_set_from_environment() first (the CLI
//! does); here a bad value throws the same error.
const KernelTable& active_kernels();

}  // namespace tvk::kernels
