#include "core/kernels/kernel_set.h"

#include <cstdlib>
#include <stdexcept>

namespace tvk::kernels {

// One table per set, defined by core/kernels/isa/kernel_table_isa.cpp compiled per set.
namespace generic {
extern const KernelTable kTable;
}
namespace avx2 {
extern const KernelTable kTable;
}
namespace avx512 {
extern const KernelTable kTable;
}

namespace {

constexpr KernelSet kAllSets[] = {KernelSet::kGeneric, KernelSet::kAvx2, KernelSet::kAvx512};

// The features each set's compile flags (-march=x86-64-v3, -march=x86-64-v4) let the compiler
// use; __builtin_cpu_supports also checks that the OS saves the vector registers.
bool cpu_supports(KernelSet set) {
  __builtin_cpu_init();
  switch (set) {
    case KernelSet::kGeneric:
      return true;
    case KernelSet::kAvx2:
#if defined(__clang__)
      // Clang before 16 (Debian 12's clang 14: `make fuzz`) knows neither "f16c" nor "movbe"
      // here; every CPU with AVX2, FMA and BMI2 has both.
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
             __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2")
#if __clang_major__ >= 16
             && __builtin_cpu_supports("f16c") && __builtin_cpu_supports("movbe")
#endif
          ;
#else
      return __builtin_cpu_supports("x86-64-v3");
#endif
    case KernelSet::kAvx512:
#if defined(__clang__)
      return cpu_supports(KernelSet::kAvx2) && __builtin_cpu_supports("avx512f") &&
             __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512cd") &&
             __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
#else
      return __builtin_cpu_supports("x86-64-v4");
#endif
  }
  return false;
}

}  // namespace

const char* kernel_set_name(KernelSet set) {
  return kernel_table(set).name;
}

std::vector<KernelSet> available_kernel_sets() {
  std::vector<KernelSet> sets;
  for (KernelSet set : kAllSets) {
    if (cpu_supports(set)) sets.push_back(set);
  }
  return sets;
}

const KernelTable& kernel_table(KernelSet set) {
  switch (set) {
    case KernelSet::kAvx2:
      return avx2::kTable;
    case KernelSet::kAvx512:
      return avx512::kTable;
    case KernelSet::kGeneric:
      break;
  }
  return generic::kTable;
}

KernelSet kernel_set_from_environment() {
  const char* value = std::getenv("TVK_KERNELS");
  const std::vector<KernelSet> available = available_kernel_sets();
  if (value == nullptr || *value == '\0') return available.back();
  const std::string_view wanted(value);
  std::string names, have;
  for (KernelSet set : kAllSets) {
    if (wanted == kernel_set_name(set)) {
      if (cpu_supports(set)) return set;
      for (KernelSet a : available)
        have += std::string(have.empty() ? "" : ", ") + kernel_set_name(a);
      throw std::invalid_argument("TVK_KERNELS=" + std::string(wanted) +
                                  ": this CPU cannot run the " + kernel_set_name(set) +
                                  " kernels (available: " + have + ")");
    }
    names += std::string(names.empty() ? "" : ", ") + kernel_set_name(set);
  }
  throw std::invalid_argument("TVK_KERNELS=" + std::string(wanted) +
                              ": unknown kernel set (expected one of " + names + ")");
}

const KernelTable& active_kernels() {
  static const KernelTable& table = kernel_table(kernel_set_from_environment());
  return table;
}

}  // namespace tvk::kernels
