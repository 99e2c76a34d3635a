#pragma once
//! \file B5 (THEORY §2): MC-Search over position blocks keeping every scored key.

#include "core/certified/cells.h"
#include "core/certified/mc_search.h"
#include "core/certified/search.h"
#include "core/numerics/eigen.h"

namespace tvk {

//! B5 (THEORY §2): blockwise certification from key summaries. It is exactly MC-Search over
//! position blocks with K = S (kept blocks = visited blocks, each dropped block contributes
//! |B_j| e^{U_j} and costs one summary), so it runs mc_search with KeptMode::kScored. Throws
//! std::invalid_argument when `blocks` are not position blocks.
SearchResult b5_search(const KeyCells& blocks, const Eigen::VectorXd& query, double scale,
                       double eps, UpperBoundKind upper_bound = UpperBoundKind::kMin,
                       CostModel cost = {}, bool true_tau = true);

}  // namespace tvk
