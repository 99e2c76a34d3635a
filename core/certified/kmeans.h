#pragma once
//! \file The deterministic k-means that makes KeyCells' clusters (THEORY §6): the same labels for
//! the same keys and seed on every machine and at every thread count.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/numerics/eigen.h"

namespace tvk {

//! The cluster label (0..clusters−1, dense, non-empty) of every key from the deterministic
//! k-means KeyCells uses: k-means++ seeding from RandomStream(seed), then `iterations` Lloyd
//! steps (nearest centre, ties to the lower index; stops early when nothing moves); empty
//! clusters are dropped and the remaining ones renumbered in centre order.
std::vector<std::uint32_t> kmeans_labels(const Eigen::MatrixXd& keys, std::size_t clusters,
                                         std::size_t iterations, std::uint64_t seed);

}  // namespace tvk
