// Dot-product kernels: logits of stored heads (channel-major) and of row-major key sets, each
// in one fixed summation order whatever the vector width.
#include "core/kernels/isa/kernels.h"

namespace tvk::kernels::TVK_KERNEL_ISA {
namespace {

using Four = double __attribute__((vector_size(32)));

}  // namespace

void channel_logits(const double* q, std::size_t q_stride, const double* k, std::size_t k_stride,
                    std::size_t keys, std::size_t channels, double scale, double* out) {
  // Channel-outer, key-inner: walks k's columns contiguously and vectorises over keys, while
  // each key's sum still runs over channels 0..d−1 in order (lanes are keys, not channels).
  for (std::size_t j = 0; j < keys; ++j)
    out[j] = 0.0;
  for (std::size_t c = 0; c < channels; ++c) {
    const double q_value = q[c * q_stride];
    const double* column = k + c * k_stride;
    for (std::size_t j = 0; j < keys; ++j)
      out[j] += column[j] * q_value;
  }
  for (std::size_t j = 0; j < keys; ++j)
    out[j] *= scale;
}

void key_logits(const double* query, const double* keys, std::size_t count, std::size_t d,
                double scale, double* out) {
  // Lane l of the accumulator sums channels l, l + 4, ... (the four partial sums of
  // key_logit()); the remainder goes into lane 0's sum; then (a + b) + (c + e).
  const std::size_t blocks = d / 4 * 4;
  for (std::size_t i = 0; i < count; ++i) {
    const double* key = keys + i * d;
    Four sum = {0.0, 0.0, 0.0, 0.0};
    for (std::size_t c = 0; c < blocks; c += 4) {
      Four q, x;
      __builtin_memcpy(&q, query + c, sizeof q);
      __builtin_memcpy(&x, key + c, sizeof x);
      sum += q * x;
    }
    double a = sum[0];
    for (std::size_t c = blocks; c < d; ++c)
      a += query[c] * key[c];
    out[i] = scale * ((a + sum[1]) + (sum[2] + sum[3]));
  }
}

}  // namespace tvk::kernels::TVK_KERNEL_ISA
