#include "core/certified/quest_search.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace tvk {

QuestSelection quest_select(const KeyCells& pages, const Eigen::VectorXd& query, std::size_t page,
                            double budget, QuestScratch& scratch) {
  const std::size_t n = pages.n();
  const std::size_t count = pages.cells();
  const double tokens = budget >= 1.0 ? budget : budget * static_cast<double>(n);
  QuestSelection selection;
  selection.page_budget =
      std::max<std::size_t>(1, static_cast<std::size_t>(std::floor(tokens / page)));
  std::vector<std::uint32_t>& keys = selection.keys;
  if (static_cast<double>(n) <= tokens || count <= selection.page_budget) {
    keys.resize(n);
    std::iota(keys.begin(), keys.end(), std::uint32_t{0});
    return selection;
  }
  const std::size_t read = count - 1;
  selection.pages_read = read;
  std::vector<double>& scores = scratch.scores;
  std::vector<std::size_t>& order = scratch.order;
  scores.resize(read);
  const std::size_t d = pages.d();
  for (std::size_t j = 0; j < read; ++j) {
    const auto lo = pages.key_min(j), hi = pages.key_max(j);
    double score = 0.0;
    for (std::size_t c = 0; c < d; ++c)
      score += std::max(query[c] * lo[c], query[c] * hi[c]);
    scores[j] = score;
  }
  order.resize(read);
  std::iota(order.begin(), order.end(), std::size_t{0});
  const std::size_t top = selection.page_budget - 1;
  std::partial_sort(order.begin(), order.begin() + top, order.end(),
                    [&](std::size_t a, std::size_t b) {
                      if (scores[a] != scores[b]) return scores[a] > scores[b];
                      return a < b;
                    });
  order.resize(top);
  order.push_back(count - 1);
  for (std::size_t j : order) {
    for (std::uint32_t i : pages.members(j))
      keys.push_back(i);
  }
  return selection;
}

}  // namespace tvk
