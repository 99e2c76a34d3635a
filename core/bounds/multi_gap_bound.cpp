// B3, the multi-gap bound (THEORY §2). The tail ranks k+1..n are split into consecutive
// groups starting at a_1 = k+1 < a_2 < ...; each group's mass is bounded by its size times
// the weight of its first (largest) key: Ū = Σ_g |G_g| e^{s_(a_g)}. Registered as "b3" and
// "b3_gap" (geometric groups 1, 2, 4, ...) and "b3_equal", "b3_equal_gap" (r equal groups),
// each with the exact head or its gap form.
#include <algorithm>
#include <bit>
#include <cmath>
#include <memory>
#include <stdexcept>

#include "core/bounds/bound.h"
#include "core/bounds/bound_registry.h"
#include "core/numerics/elementary.h"

namespace tvk {
namespace {

//! How the tail ranks are grouped.
enum class TailGrouping {
  kGeometric,  //!< sizes 1, 2, 4, ... (the last one truncated)
  kEqual,      //!< r groups of sizes as equal as possible (larger ones first)
};

//! What bounds the head.
enum class HeadForm {
  kExact,  //!< L exact
  kGap,    //!< L̲ = k e^{s_(k)}: tau_k <= S/(k+S), S = Σ_g |G_g| e^{−Δ_g}
};

//! B3. With singleton groups and the exact head it equals tau_k.
class MultiGapBound final : public TopkBound {
 public:
  //! `equal_groups` is r for TailGrouping::kEqual (ignored for geometric).
  MultiGapBound(TailGrouping grouping, HeadForm head, std::size_t equal_groups = 8);
  std::string name() const override;
  std::string description() const override;
  double value(const TailProfile& profile, std::size_t k) const override;
  std::vector<std::size_t> ranks_read(std::size_t n, std::size_t k) const override;
  //! Same results as TopkBound::certify; the gap form filters k without exps.
  void certify(const TailProfile& profile, std::span<const double> eps,
               std::span<const std::size_t> k_eps, std::span<Certificate> out,
               BoundScratch& scratch) const override;

 private:
  //! B_k; with `weight_ratios` the gap form uses w_a / w_k for e^{s_a - s_k} (a filter only).
  double evaluate(const TailProfile& profile, std::size_t k, bool weight_ratios) const;
  TailGrouping grouping_;
  HeadForm head_;
  std::size_t equal_groups_;
};

}  // namespace

MultiGapBound::MultiGapBound(TailGrouping grouping, HeadForm head, std::size_t equal_groups)
    : grouping_(grouping), head_(head), equal_groups_(equal_groups) {
  if (equal_groups_ < 1) throw std::invalid_argument("b3: the number of equal groups must be >= 1");
}

std::string MultiGapBound::name() const {
  std::string name = grouping_ == TailGrouping::kGeometric ? "b3" : "b3_equal";
  return head_ == HeadForm::kGap ? name + "_gap" : name;
}

std::string MultiGapBound::description() const {
  std::string grouping = grouping_ == TailGrouping::kGeometric
                             ? "geometric groups 1,2,4,..."
                             : std::to_string(equal_groups_) + " equal groups";
  return "multi-gap, " + grouping + (head_ == HeadForm::kGap ? ", gap form" : ", exact head");
}

double MultiGapBound::value(const TailProfile& profile, std::size_t k) const {
  return evaluate(profile, k, /*weight_ratios=*/false);
}

double MultiGapBound::evaluate(const TailProfile& profile, std::size_t k,
                               bool weight_ratios) const {
  const std::size_t n = profile.n();
  if (k >= n) return 0.0;
  const std::size_t tail_keys = n - k;
  const auto w = profile.weights();
  const double s_k = profile.logit(k);
  const double w_k = w[k - 1];

  // Group g (0-based) covers ranks [k+1+start(g), k+1+start(g)+size(g)); groups are visited
  // from the bottom so the smallest terms are added first.
  double upper = 0.0;
  auto add_group = [&](std::size_t start, std::size_t size) {
    const std::size_t rank = k + 1 + start;  // a_g, 1-based
    double term;
    if (head_ == HeadForm::kExact) {
      term = w[rank - 1];
    } else if (weight_ratios) {
      term = w[rank - 1] / w_k;  // e^{s_(a) - s_(k)} up to a few ulps
    } else {
      term = elementary::exp(profile.logit(rank) - s_k);
    }
    upper += static_cast<double>(size) * term;
  };
  if (grouping_ == TailGrouping::kGeometric) {
    const std::size_t groups = std::bit_width(tail_keys);  // starts 2^g − 1 < tail_keys
    for (std::size_t g = groups; g-- > 0;) {
      const std::size_t start = (std::size_t{1} << g) - 1;
      add_group(start, std::min(std::size_t{1} << g, tail_keys - start));
    }
  } else {
    const std::size_t groups = std::min(equal_groups_, tail_keys);
    const std::size_t base = tail_keys / groups, extra = tail_keys % groups;
    for (std::size_t g = groups; g-- > 0;) {
      add_group(g * base + std::min(g, extra), base + (g < extra ? 1 : 0));
    }
  }
  if (head_ == HeadForm::kExact) return upper / (profile.head_weight(k) + upper);
  return upper / (static_cast<double>(k) + upper);
}

std::vector<std::size_t> MultiGapBound::ranks_read(std::size_t n, std::size_t k) const {
  // The group leaders a_g of evaluate(): k + 2^g (geometric) or the starts of the equal groups.
  std::vector<std::size_t> ranks;
  if (k >= n) return ranks;
  const std::size_t tail_keys = n - k;
  if (grouping_ == TailGrouping::kGeometric) {
    for (std::size_t g = 0; g < static_cast<std::size_t>(std::bit_width(tail_keys)); ++g)
      ranks.push_back(k + (std::size_t{1} << g));
  } else {
    const std::size_t groups = std::min(equal_groups_, tail_keys);
    const std::size_t base = tail_keys / groups, extra = tail_keys % groups;
    for (std::size_t g = 0; g < groups; ++g)
      ranks.push_back(k + 1 + g * base + std::min(g, extra));
  }
  return ranks;
}

void MultiGapBound::certify(const TailProfile& profile, std::span<const double> eps,
                            std::span<const std::size_t> k_eps, std::span<Certificate> out,
                            BoundScratch& scratch) const {
  if (head_ == HeadForm::kExact) {
    TopkBound::certify(profile, eps, k_eps, out, scratch);
    return;
  }
  // The gap form needs an exp per group and k; weight ratios give the same value to a few ulps
  // without one. They only filter: a k whose cheap value exceeds eps by more than a 1e-9
  // relative margin (far above the rounding) cannot pass the exact test; every other k gets
  // the exact value, so the result equals the plain scan's.
  const std::size_t n = profile.n();
  const auto w = profile.weights();
  for (std::size_t i = 0; i < eps.size(); ++i) {
    std::size_t k = std::max<std::size_t>(k_eps[i], 1);
    for (; k < n; ++k) {
      if (w[k - 1] > 1e-290 && evaluate(profile, k, true) > eps[i] * (1.0 + 1e-9)) continue;
      if (value(profile, k) <= eps[i]) break;
    }
    out[i] = Certificate{k, k == n ? 0.0 : value(profile, k), profile.tau(k)};
  }
}

BoundEntry b3_bound_entry() {
  return {"b3", [](const BoundOptions&) {
            return std::make_unique<MultiGapBound>(TailGrouping::kGeometric, HeadForm::kExact);
          }};
}

BoundEntry b3_gap_bound_entry() {
  return {"b3_gap", [](const BoundOptions&) {
            return std::make_unique<MultiGapBound>(TailGrouping::kGeometric, HeadForm::kGap);
          }};
}

BoundEntry b3_equal_bound_entry() {
  return {"b3_equal", [](const BoundOptions& o) {
            return std::make_unique<MultiGapBound>(TailGrouping::kEqual, HeadForm::kExact,
                                                   o.equal_groups);
          }};
}

BoundEntry b3_equal_gap_bound_entry() {
  return {"b3_equal_gap", [](const BoundOptions& o) {
            return std::make_unique<MultiGapBound>(TailGrouping::kEqual, HeadForm::kGap,
                                                   o.equal_groups);
          }};
}

}  // namespace tvk
