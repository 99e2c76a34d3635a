#pragma once
//! \file Quest's query-aware page selection (arXiv 2406.10774, mit-han-lab/Quest; THEORY §8
//! baselines). Keys are split into pages of `page` consecutive keys (16 in Quest) with
//! per-channel minimum and maximum keys; a page's score is Σ_d max(q_d kmin_d, q_d kmax_d) (the
//! box bound, used only to rank pages, never summed into a mass bound). With a token budget B
//! Quest's page budget is P_B = ⌊B / page⌋ (quest/models/llama.py: token_budget // page_size),
//! at least 1 here. When the row has at most P_B pages (or n <= B) every key is kept and no
//! page summary is read. Otherwise the last page (the current, possibly partial one, whose
//! summary Quest does not read) is always kept, plus the top P_B − 1 of the other pages by score
//! (ties to the lower page), as Quest's reference _ref_self_approx_attention does. Uncertified.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/certified/cells.h"
#include "core/numerics/eigen.h"

namespace tvk {

//! Quest's kept keys of one query, and what choosing them read.
struct QuestSelection {
  std::vector<std::uint32_t> keys;  //!< the kept pages' keys, page by page in choice order
  std::size_t pages_read = 0;       //!< page summaries read (0 when every key is kept)
  std::size_t page_budget = 0;      //!< P_B
};

//! Reusable buffers of quest_select.
struct QuestScratch {
  std::vector<double> scores;
  std::vector<std::size_t> order;
};

//! Quest's selection over `pages` (position blocks of `page` keys) with a token budget: >= 1
//! tokens, or in (0, 1) a fraction of n.
QuestSelection quest_select(const KeyCells& pages, const Eigen::VectorXd& query, std::size_t page,
                            double budget, QuestScratch& scratch);

}  // namespace tvk
