#include "core/certified/kmeans.h"

#include <algorithm>
#include <boost/random/uniform_int_distribution.hpp>
#include <boost/random/uniform_real_distribution.hpp>
#include <cmath>
#include <stdexcept>

#include "core/certified/logits.h"
#include "core/random/stream.h"

namespace tvk {
namespace {

double squared_distance(const double* a, const double* b, std::size_t d) {
  double sum = 0.0;
  for (std::size_t c = 0; c < d; ++c) {
    const double diff = a[c] - b[c];
    sum += diff * diff;
  }
  return sum;
}

}  // namespace

std::vector<std::uint32_t> kmeans_labels(const Eigen::MatrixXd& keys, std::size_t clusters,
                                         std::size_t iterations, std::uint64_t seed) {
  const auto n = static_cast<std::size_t>(keys.rows());
  const auto d = static_cast<std::size_t>(keys.cols());
  if (n == 0 || d == 0) throw std::invalid_argument("kmeans_labels: no keys");
  if (clusters == 0) throw std::invalid_argument("kmeans_labels: clusters must be >= 1");
  const std::vector<double> data = row_major_keys(keys);
  auto key = [&](std::size_t i) { return data.data() + i * d; };

  // k-means++ seeding: the first centre uniform, each next one with probability proportional to
  // the squared distance to the nearest centre. When every key coincides with a centre the
  // seeding stops early (fewer clusters: duplicates cannot be split).
  RandomStream rng(seed);
  std::vector<double> centres;
  centres.reserve(std::min(clusters, n) * d);
  auto add_centre = [&](std::size_t i) { centres.insert(centres.end(), key(i), key(i) + d); };
  add_centre(boost::random::uniform_int_distribution<std::size_t>(0, n - 1)(rng));
  std::vector<double> nearest(n);
  for (std::size_t i = 0; i < n; ++i)
    nearest[i] = squared_distance(key(i), centres.data(), d);
  while (centres.size() / d < std::min(clusters, n)) {
    double total = 0.0;
    for (double w : nearest)
      total += w;
    if (!(total > 0.0) || !std::isfinite(total)) break;
    const double target = boost::random::uniform_real_distribution<double>(0.0, total)(rng);
    std::size_t pick = n, last_positive = n;
    double running = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      if (nearest[i] > 0.0) last_positive = i;
      running += nearest[i];
      if (running > target && nearest[i] > 0.0) {
        pick = i;
        break;
      }
    }
    if (pick == n) pick = last_positive;  // rounding put the target past the running sum
    add_centre(pick);
    const double* centre = centres.data() + centres.size() - d;
    for (std::size_t i = 0; i < n; ++i)
      nearest[i] = std::min(nearest[i], squared_distance(key(i), centre, d));
  }
  const std::size_t count = centres.size() / d;

  // Lloyd iterations: nearest centre (ties to the lower index), then means; an empty cluster
  // keeps its centre and may win keys back later.
  std::vector<std::uint32_t> label(n, 0);
  std::vector<double> sums(count * d);
  std::vector<std::size_t> sizes(count);
  auto assign = [&]() {
    bool moved = false;
    for (std::size_t i = 0; i < n; ++i) {
      std::uint32_t best = 0;
      double best_distance = squared_distance(key(i), centres.data(), d);
      for (std::size_t c = 1; c < count; ++c) {
        const double dist = squared_distance(key(i), centres.data() + c * d, d);
        if (dist < best_distance) {
          best_distance = dist;
          best = static_cast<std::uint32_t>(c);
        }
      }
      moved |= best != label[i];
      label[i] = best;
    }
    return moved;
  };
  assign();
  for (std::size_t it = 0; it < iterations; ++it) {
    std::fill(sums.begin(), sums.end(), 0.0);
    std::fill(sizes.begin(), sizes.end(), 0);
    for (std::size_t i = 0; i < n; ++i) {
      ++sizes[label[i]];
      for (std::size_t c = 0; c < d; ++c)
        sums[label[i] * d + c] += key(i)[c];
    }
    for (std::size_t c = 0; c < count; ++c) {
      if (sizes[c] == 0) continue;
      for (std::size_t e = 0; e < d; ++e)
        centres[c * d + e] = sums[c * d + e] / static_cast<double>(sizes[c]);
    }
    if (!assign()) break;
  }

  // Drop empty clusters: renumber the non-empty ones in centre order.
  std::vector<std::uint32_t> renumber(count, 0);
  std::fill(sizes.begin(), sizes.end(), 0);
  for (std::uint32_t l : label)
    ++sizes[l];
  std::uint32_t next = 0;
  for (std::size_t c = 0; c < count; ++c) {
    if (sizes[c] > 0) renumber[c] = next++;
  }
  for (auto& l : label)
    l = renumber[l];
  return label;
}

}  // namespace tvk
