//! \file The Gaussian rule against the paper's numbers and an independent std::erfc formula.

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "core/models/model_registry.h"

namespace tvk {
namespace {

// Independent of the library: Phi via std::erfc, Phi^{-1} by bisection on it.
double phi(double z) {
  return 0.5 * std::erfc(-z / std::numbers::sqrt2);
}
double phi_c(double z) {
  return 0.5 * std::erfc(z / std::numbers::sqrt2);
}
double phi_inverse(double p) {
  double lo = -40.0;
  double hi = 40.0;
  for (int iteration = 0; iteration < 200; ++iteration) {
    const double mid = 0.5 * (lo + hi);
    (phi(mid) < p ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}
double phi_c_inverse(double q) {
  return -phi_inverse(q);
}

double rule(double sigma, double eps) {
  return *make_model("gaussian", {{"sigma", sigma}})->asymptotic_k_fraction(eps);
}

TEST(GaussianRule, MatchesThePapersTable) {
  // THEORY §4, column "rule".
  EXPECT_NEAR(rule(2, 0.05), 0.361, 5e-4);
  EXPECT_NEAR(rule(3, 0.05), 0.088, 5e-4);
  EXPECT_NEAR(rule(4, 0.05), 0.0093, 5e-5);
  EXPECT_NEAR(rule(4, 0.10), 0.0033, 5e-5);
}

TEST(GaussianRule, MatchesIndependentErfcFormula) {
  for (double sigma : {0.25, 0.5, 1.0, 2.0, 3.0, 4.0, 6.0}) {
    for (double eps : {1e-6, 1e-3, 0.01, 0.05, 0.1, 0.5, 0.9}) {
      const double expected = phi_c(sigma + phi_inverse(eps));
      EXPECT_NEAR(rule(sigma, eps), expected, 1e-12 * expected)
          << "sigma = " << sigma << ", eps = " << eps;
    }
  }
}

TEST(GaussianRule, TailMassMatchesIndependentFormulaAndIsFreeOfMu) {
  for (double sigma : {0.5, 1.0, 2.0, 4.0}) {
    auto centred = make_model("gaussian", {{"sigma", sigma}});
    auto shifted = make_model("gaussian", {{"sigma", sigma}, {"mu", -7.5}});
    for (double rho : {1e-6, 1e-3, 0.05, 0.361, 0.5, 0.9}) {
      const double expected = phi(phi_c_inverse(rho) - sigma);
      EXPECT_NEAR(*centred->tail_mass_limit(rho), expected, 1e-12 * expected)
          << "sigma = " << sigma << ", rho = " << rho;
      EXPECT_EQ(*centred->tail_mass_limit(rho), *shifted->tail_mass_limit(rho));
    }
  }
}

TEST(GaussianModel, QuantileAndDensity) {
  auto model = make_model("gaussian", {{"mu", 1.5}, {"sigma", 2.0}});
  EXPECT_NEAR(*model->quantile(0.5), 1.5, 1e-15);
  EXPECT_NEAR(*model->quantile(phi(1.0)), 3.5, 1e-12);
  EXPECT_NEAR(*model->density(1.5), 1.0 / (2.0 * std::sqrt(2.0 * std::numbers::pi)), 1e-15);
  EXPECT_TRUE(model->iid());
  EXPECT_TRUE(model->exp_mean_finite());
}

}  // namespace
}  // namespace tvk
