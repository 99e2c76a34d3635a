// One instruction set's kernel table (this file is compiled once per set).
#include "core/kernels/isa/kernels.h"

#define TVK_STRINGIFY_INNER(x) #x
#define TVK_STRINGIFY(x) TVK_STRINGIFY_INNER(x)

namespace tvk::kernels::TVK_KERNEL_ISA {

const KernelTable kTable = {
    .name = TVK_STRINGIFY(TVK_KERNEL_ISA),
    .value_range = value_range,
    .sort_keys = sort_keys,
    .radix_order = radix_order,
    .next_equal_key = next_equal_key,
    .gather = gather,
    .scale_shift = scale_shift,
    .exp_shifted = exp_shifted,
    .xoshiro_lanes = xoshiro_lanes,
    .ziggurat_fast = ziggurat_fast,
    .b1_skip = b1_skip,
    .b2_skip = b2_skip,
    .channel_logits = channel_logits,
    .key_logits = key_logits,
    .cell_sums = cell_sums,
    .half_logits = half_logits,
    .half_accumulate = half_accumulate,
    .exp_floats = exp_floats,
    .max_floats = max_floats,
    .code_upper = code_upper,
    .tier_upper = tier_upper,
    .near_buckets = near_buckets,
    .select_buckets = select_buckets,
};

}  // namespace tvk::kernels::TVK_KERNEL_ISA
