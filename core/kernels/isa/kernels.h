#pragma once
//! \file The kernel functions of one instruction set, declared in tvk::kernels::TVK_KERNEL_ISA
//! (generic, avx2 or avx512): this folder's .cpp files are compiled once per set with that set's
//! -march and -DTVK_KERNEL_ISA=<set> (CMakeLists.txt). See core/kernels/kernel_table.h for what
//! each kernel computes. Only the kernel table reaches the rest of tvk.

#include <cstddef>
#include <cstdint>

#include "core/kernels/kernel_table.h"

#if !defined(TVK_KERNEL_ISA)
#error "core/kernels/isa/*.cpp are compiled with -DTVK_KERNEL_ISA=generic|avx2|avx512"
#endif

namespace tvk::kernels::TVK_KERNEL_ISA {

RangeResult value_range(const double* v, std::size_t n);
void sort_keys(const double* v, std::size_t n, double top, double scale, int shift,
               std::uint32_t* keys);
const std::uint64_t* radix_order(const std::uint32_t* keys, std::size_t n, std::uint64_t* a,
                                 std::uint64_t* b, std::uint32_t* order);
std::size_t next_equal_key(const std::uint64_t* packed, std::size_t from, std::size_t last);
void gather(const double* values, const std::uint32_t* order, std::size_t n, double* out);
void scale_shift(double* x, std::size_t n, double shift, double scale);
void exp_shifted(const double* in, std::size_t n, double shift, double* out);
void xoshiro_lanes(std::uint64_t* state, std::uint64_t* out, std::size_t groups);
void ziggurat_fast(const std::uint64_t* words, std::size_t count, const double* table_x,
                   double* values, std::uint8_t* rejected);
std::size_t b1_skip(const double* w, std::size_t k, std::size_t n, double c, double nd);
std::size_t b2_skip(const double* w, const double* head, std::size_t k, std::size_t n, double keep,
                    double margin, double nd);
void channel_logits(const double* q, std::size_t q_stride, const double* k, std::size_t k_stride,
                    std::size_t keys, std::size_t channels, double scale, double* out);
void key_logits(const double* query, const double* keys, std::size_t count, std::size_t d,
                double scale, double* out);
void cell_sums(const double* q, std::size_t d, const double* lo, const double* hi,
               const double* big, const double* centre, std::size_t cells, double* out);

void half_logits(const float* q, std::size_t heads, const std::uint16_t* keys,
                 const std::uint32_t* rows, std::size_t count, std::size_t d, float scale,
                 float* out);
void half_accumulate(const float* w, std::size_t heads, const std::uint16_t* values,
                     const std::uint32_t* rows, std::size_t count, std::size_t d, float* acc);
float exp_floats(const float* in, std::size_t n, float shift, float* out);
float max_floats(const float* in, std::size_t n);
void code_upper(const std::int16_t* p, std::size_t heads, const std::int8_t* tiles,
                const float* scales, std::size_t count, std::size_t d, const float* c,
                const float* e, float* upper, float* tops);
void tier_upper(const std::int16_t* p, std::size_t heads, int tier, const std::uint8_t* tiles,
                const std::uint32_t* tile_list, std::size_t listed, std::int32_t* sums,
                const float* scales, std::size_t count, std::size_t d, const std::int32_t* offset,
                const float* c, const float* e, float* upper, float* tile_tops);
std::size_t near_buckets(const float* upper, std::size_t count, float top, float grid,
                         std::uint32_t last, std::uint32_t near, const std::uint32_t* far_weights,
                         std::uint32_t* index, std::uint16_t* buckets, std::uint64_t* far);
std::size_t select_buckets(const std::uint16_t* buckets, std::size_t count, std::uint32_t low,
                           std::uint32_t high, std::uint32_t* out);

//! This set's table.
extern const KernelTable kTable;

}  // namespace tvk::kernels::TVK_KERNEL_ISA
