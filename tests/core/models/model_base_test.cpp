//! \file ScoreModelBase: edge conventions and the generic rho_eps root finder that a model
//! without a closed-form inverse inherits.

#include "core/models/model_base.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/models/numerics.h"

namespace tvk {
namespace {

const ModelInfo& test_info() {
  static const ModelInfo info{"test_gaussian", "Gaussian that only knows tau_inf", {}};
  return info;
}

// Implements tail_mass_interior only, so k_fraction_interior is the base's root finder.
class TauOnlyGaussian final : public ScoreModelBase {
 public:
  TauOnlyGaussian(double sigma, bool finite)
      : ScoreModelBase(test_info(), {}), sigma_(sigma), finite_(finite) {}
  void sample(RandomStream&, std::span<double>) const override {}

 protected:
  std::string infinite_exp_mean_detail() const override {
    return finite_ ? "" : "test model told so";
  }
  double tail_mass_interior(double rho) const override {
    return numerics::gaussian_tail_mass_limit(sigma_, rho);
  }
  std::optional<double> quantile_interior(double p) const override {
    return sigma_ * numerics::normal_quantile(p);
  }

 private:
  double sigma_;
  bool finite_;
};

TEST(ScoreModelBase, GenericRootFinderInvertsTailMass) {
  for (double sigma : {0.5, 2.0, 4.0}) {
    const TauOnlyGaussian model(sigma, true);
    for (double eps : {1e-10, 1e-3, 0.05, 0.5, 0.99}) {
      const double expected = numerics::gaussian_k_fraction(sigma, eps);
      EXPECT_NEAR(*model.asymptotic_k_fraction(eps), expected, 1e-10 * expected)
          << "sigma = " << sigma << ", eps = " << eps;
    }
  }
}

TEST(ScoreModelBase, EdgeConventions) {
  const TauOnlyGaussian model(1.0, true);
  EXPECT_EQ(*model.tail_mass_limit(-0.5), 1.0);
  EXPECT_EQ(*model.tail_mass_limit(1.5), 0.0);
  EXPECT_EQ(*model.asymptotic_k_fraction(-0.5), 1.0);
  EXPECT_EQ(*model.asymptotic_k_fraction(1.5), 0.0);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_TRUE(std::isnan(*model.tail_mass_limit(nan)));
  EXPECT_TRUE(std::isnan(*model.asymptotic_k_fraction(nan)));
  EXPECT_TRUE(std::isnan(*model.quantile(nan)));
  EXPECT_EQ(*model.quantile(0.0), -std::numeric_limits<double>::infinity());
  EXPECT_EQ(*model.quantile(1.0), std::numeric_limits<double>::infinity());
  EXPECT_EQ(model.no_rule_reason(), "");
}

TEST(ScoreModelBase, InfiniteExpMeanGivesReasonAndNoNumbers) {
  const TauOnlyGaussian model(1.0, false);
  EXPECT_FALSE(model.exp_mean_finite());
  EXPECT_EQ(model.no_rule_reason(), "no asymptotic rule: E[e^s] is infinite (test model told so)");
  EXPECT_FALSE(model.tail_mass_limit(0.0).has_value());
  EXPECT_FALSE(model.asymptotic_k_fraction(0.5).has_value());
}

TEST(Numerics, UniformOpen01StaysInside) {
  RandomStream stream = make_stream(3, 0, 0, StreamPurpose::kAux);
  for (int i = 0; i < 100000; ++i) {
    const double u = numerics::uniform_open01(stream);
    ASSERT_GT(u, 0.0);
    ASSERT_LT(u, 1.0);
  }
  // The largest draw, 2^52 - 1 random bits, must not round up to 1.
  EXPECT_LT((static_cast<double>((1ULL << 52) - 1) + 0.5) * 0x1.0p-52, 1.0);
}

}  // namespace
}  // namespace tvk
