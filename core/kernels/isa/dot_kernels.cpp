// Dot-product kernels: logits of stored heads (channel-major) and of row-major key sets, each
// in one fixed summation order whatever the vector width.
#include "core/kernels/isa/kernels.h"
#include "core/kernels/isa/lanes.h"

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

void cell_sums(const double* q, std::size_t d, const double* lo, const double* hi,
               const double* big, const double* centre, std::size_t cells, double* out) {
  // Lanes are cells: each cell's four sums still run over channels 0..d−1 in order, as the
  // scalar remainder below computes them.
  using V = lanes::Doubles;
  using Bits = std::uint64_t __attribute__((vector_size(sizeof(V))));
  constexpr std::size_t kWidth = lanes::kDoubles;
  constexpr std::uint64_t kMagnitude = 0x7fffffffffffffffULL;
  double* box = out;
  double* a = out + cells;
  double* qc = out + 2 * cells;
  double* b = out + 3 * cells;
  std::size_t j = 0;
  for (; j + kWidth <= cells; j += kWidth) {
    V box_sum = {}, a_sum = {}, qc_sum = {}, b_sum = {};
    for (std::size_t e = 0; e < d; ++e) {
      const double qe = q[e];
      const double abs_q = __builtin_fabs(qe);
      const std::size_t at = e * cells + j;
      const V c = lanes::load(centre + at);
      const V abs_c = __builtin_bit_cast(V, __builtin_bit_cast(Bits, c) & kMagnitude);
      box_sum += qe * lanes::load((qe >= 0.0 ? hi : lo) + at);
      a_sum += abs_q * lanes::load(big + at);
      qc_sum += qe * c;
      b_sum += abs_q * abs_c;
    }
    lanes::store(box + j, box_sum);
    lanes::store(a + j, a_sum);
    lanes::store(qc + j, qc_sum);
    lanes::store(b + j, b_sum);
  }
  for (; j < cells; ++j) {
    double box_sum = 0.0, a_sum = 0.0, qc_sum = 0.0, b_sum = 0.0;
    for (std::size_t e = 0; e < d; ++e) {
      const double qe = q[e];
      const double abs_q = __builtin_fabs(qe);
      const std::size_t at = e * cells + j;
      box_sum += qe * (qe >= 0.0 ? hi : lo)[at];
      a_sum += abs_q * big[at];
      qc_sum += qe * centre[at];
      b_sum += abs_q * __builtin_fabs(centre[at]);
    }
    box[j] = box_sum;
    a[j] = a_sum;
    qc[j] = qc_sum;
    b[j] = b_sum;
  }
}

}  // namespace tvk::kernels::TVK_KERNEL_ISA
