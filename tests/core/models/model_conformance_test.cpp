//! \file Generic conformance suite: every registered model, at its defaults and at a second
//! setting derived from its ParamSpecs, must sample what its quantile() says, agree with a
//! brute-force integration of its density and with Monte Carlo on tau_inf and rho_eps, refuse
//! a rule when E[e^s] is infinite, be deterministic and validate its parameters. A new model
//! needs no new test code here.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/models/model_registry.h"
#include "core/random/stream.h"

namespace tvk {
namespace {

//! One parameter setting of one model.
struct ModelCase {
  std::string model;
  std::string setting;
  ParamValues values;
  //! Whether n = 65536 is large enough for Monte Carlo to sit near tau_inf (finite-n bias is
  //! large when the tilted law lives far in the sample's tail, e.g. scale near 1).
  bool monte_carlo = true;
};

// A second setting derived from the specs alone: integers move up by one, other parameters
// are halved (0 becomes 0.5); a value the spec rejects keeps the default. Halving scales puts
// laplace/gumbel/logistic on the finite-E[e^s] side.
ParamValues varied_values(const ModelInfo& info) {
  ParamValues values;
  for (const ParamSpec& spec : info.params) {
    double value = spec.integer                ? spec.default_value + 1.0
                   : spec.default_value != 0.0 ? spec.default_value / 2.0
                                               : 0.5;
    if (!check_param(spec, value).empty()) value = spec.default_value;
    values[spec.name] = value;
  }
  return values;
}

std::vector<ModelCase> all_cases() {
  std::vector<ModelCase> cases;
  for (const std::string& name : model_names()) {
    cases.push_back({name, "defaults", {}});
    cases.push_back({name, "varied", varied_values(*find_model_info(name))});
  }
  // Optional harder settings for the closed forms (quadrature checks only). Models not listed
  // are covered by the two settings above.
  cases.push_back({"gaussian", "wide", {{"sigma", 3.0}}, false});
  cases.push_back({"laplace", "near_one", {{"scale", 0.9}}, false});
  cases.push_back({"gumbel", "near_one", {{"scale", 0.9}}, false});
  cases.push_back({"logistic", "near_one", {{"scale", 0.9}}, false});
  cases.push_back({"logistic", "small", {{"scale", 0.1}, {"mu", -3.0}}, true});
  cases.push_back({"gaussian_mixture",
                   "overlapping",
                   {{"w", 0.3}, {"mu1", 1.0}, {"sigma1", 2.0}, {"mu2", -1.0}, {"sigma2", 0.3}},
                   true});
  return cases;
}

// Brute-force tau_inf by trapezoid integration of e^s f(s) on a fine uniform grid, using only
// the model's density and quantile (independent of its tilted-law closed forms).
class BruteForceTilt {
 public:
  explicit BruteForceTilt(const ScoreModel& model) : model_(model) {
    lo_ = *model.quantile(1e-13);
    double hi = *model.quantile(1.0 - 1e-13);
    auto log_weight = [&](double s) { return s + std::log(*model.density(s)); };
    // Extend the upper end until e^s f(s) is e^-40 below its peak: the tilted law's upper tail
    // is heavier than the law's.
    double peak = -std::numeric_limits<double>::infinity();
    for (int i = 0; i <= 1000; ++i)
      peak = std::max(peak, log_weight(lo_ + (hi - lo_) * i / 1000));
    while (log_weight(hi) > peak - 40.0)
      hi += 0.5 * (hi - lo_);
    step_ = (hi - lo_) / kCells;
    cumulative_.resize(kCells + 1);
    weights_.resize(kCells + 1);
    for (int i = 0; i <= kCells; ++i) {
      const double s = lo_ + step_ * i;
      weights_[i] = std::exp(log_weight(s) - peak);
    }
    cumulative_[0] = 0.0;
    for (int i = 1; i <= kCells; ++i) {
      cumulative_[i] = cumulative_[i - 1] + 0.5 * step_ * (weights_[i - 1] + weights_[i]);
    }
    peak_ = peak;
  }

  //! E[e^s 1{s < x}] / E[e^s].
  double tilted_cdf(double x) const {
    if (x <= lo_) return 0.0;
    const double position = (x - lo_) / step_;
    if (position >= kCells) return 1.0;
    const int i = static_cast<int>(position);
    // Partial trapezoid in the cell, with the integrand evaluated exactly at x.
    const double w_x = std::exp(x - peak_ + std::log(*model_.density(x)));
    const double partial = 0.5 * (x - (lo_ + step_ * i)) * (weights_[i] + w_x);
    return (cumulative_[i] + partial) / cumulative_[kCells];
  }

  double tail_mass(double rho) const { return tilted_cdf(*model_.quantile(1.0 - rho)); }

  //! rho with tail_mass(rho) = eps, by bisection in log(rho).
  double k_fraction(double eps) const {
    double lo = std::log(1e-14);
    double hi = 0.0;
    for (int iteration = 0; iteration < 200; ++iteration) {
      const double mid = 0.5 * (lo + hi);
      (tail_mass(std::exp(mid)) > eps ? lo : hi) = mid;
    }
    return std::exp(0.5 * (lo + hi));
  }

 private:
  static constexpr int kCells = 1 << 20;
  const ScoreModel& model_;
  double lo_ = 0.0;
  double step_ = 0.0;
  double peak_ = 0.0;
  std::vector<double> weights_;
  std::vector<double> cumulative_;
};

// Empirical tail mass of one row at each k: sort descending, max-subtracted exps, suffix sums
// accumulated from the bottom (smallest terms first).
std::vector<double> empirical_tail_mass(std::vector<double> row, const std::vector<double>& rhos) {
  std::sort(row.begin(), row.end(), std::greater<>());
  const double top = row.front();
  std::vector<double> suffix(row.size() + 1, 0.0);
  for (std::size_t i = row.size(); i-- > 0;)
    suffix[i] = suffix[i + 1] + std::exp(row[i] - top);
  std::vector<double> result;
  for (double rho : rhos) {
    const auto k = static_cast<std::size_t>(std::lround(rho * static_cast<double>(row.size())));
    result.push_back(suffix[k] / suffix[0]);
  }
  return result;
}

class ModelConformance : public ::testing::TestWithParam<ModelCase> {
 protected:
  void SetUp() override { model_ = make_model(GetParam().model, GetParam().values); }
  std::unique_ptr<ScoreModel> model_;
};

TEST_P(ModelConformance, DefaultsAreValidAndResolved) {
  const ModelInfo& info = *find_model_info(GetParam().model);
  EXPECT_EQ(model_->info().name, GetParam().model);
  EXPECT_FALSE(info.doc.empty());
  for (const ParamSpec& spec : info.params) {
    EXPECT_EQ(check_param(spec, spec.default_value), "") << spec.name;
    EXPECT_FALSE(spec.doc.empty()) << spec.name;
    ASSERT_TRUE(model_->params().contains(spec.name)) << spec.name;
    const auto given = GetParam().values.find(spec.name);
    EXPECT_EQ(model_->params().at(spec.name),
              given != GetParam().values.end() ? given->second : spec.default_value);
  }
  EXPECT_EQ(model_->params().size(), info.params.size());
}

TEST_P(ModelConformance, RejectsBadValues) {
  const ModelInfo& info = *find_model_info(GetParam().model);
  auto expect_rejected = [&](const std::string& name, double value) {
    ParamValues values = GetParam().values;
    values[name] = value;
    try {
      make_model(info.name, values);
      ADD_FAILURE() << name << " = " << value << " accepted";
    } catch (const InputError& error) {
      const std::string prefix = "model " + info.name + ": parameter " + name + ": must be ";
      EXPECT_EQ(std::string(error.what()).rfind(prefix, 0), 0u) << error.what();
    }
  };
  for (const ParamSpec& spec : info.params) {
    expect_rejected(spec.name, std::numeric_limits<double>::quiet_NaN());
    expect_rejected(spec.name, std::numeric_limits<double>::infinity());
    // Just outside each end (the next double: "max + 1" is max itself for a max like 1e100).
    const double inf = std::numeric_limits<double>::infinity();
    if (spec.min > -1e308) {
      expect_rejected(spec.name, spec.min_inclusive ? std::nextafter(spec.min, -inf) : spec.min);
    }
    if (spec.max < 1e308) {
      expect_rejected(spec.name, spec.max_inclusive ? std::nextafter(spec.max, inf) : spec.max);
    }
    if (spec.integer) expect_rejected(spec.name, spec.default_value + 0.5);
  }
  ParamValues unknown = GetParam().values;
  unknown["no_such_parameter"] = 1.0;
  EXPECT_THROW(make_model(info.name, unknown), InputError);
}

TEST_P(ModelConformance, SamplingIsDeterministicAndFinite) {
  std::vector<double> first(4099), second(4099), other(4099);
  RandomStream a = make_stream(7, 3, 11, StreamPurpose::kLogits);
  RandomStream b = make_stream(7, 3, 11, StreamPurpose::kLogits);
  RandomStream c = make_stream(7, 3, 12, StreamPurpose::kLogits);
  model_->sample(a, first);
  model_->sample(b, second);
  model_->sample(c, other);
  EXPECT_EQ(first, second);
  EXPECT_NE(first, other);
  for (double s : first)
    ASSERT_TRUE(std::isfinite(s));
  // Empty rows are allowed.
  model_->sample(a, std::span<double>());
}

TEST_P(ModelConformance, EmpiricalCdfMatchesQuantile) {
  if (!model_->iid()) {
    EXPECT_FALSE(model_->quantile(0.5).has_value());
    GTEST_SKIP() << "not i.i.d.: no quantile per logit";
  }
  const std::vector<double> levels = {0.001, 0.05, 0.25, 0.5, 0.75, 0.95, 0.999};
  std::vector<double> cuts;
  for (double p : levels) {
    ASSERT_TRUE(model_->quantile(p).has_value());
    cuts.push_back(*model_->quantile(p));
    if (cuts.size() > 1) {
      EXPECT_LT(cuts[cuts.size() - 2], cuts.back());
    }
  }
  EXPECT_EQ(*model_->quantile(0.0), -std::numeric_limits<double>::infinity());
  EXPECT_EQ(*model_->quantile(1.0), std::numeric_limits<double>::infinity());
  const std::size_t rows = 4;
  std::vector<double> row(65536);
  std::vector<double> below(levels.size(), 0.0);
  for (std::size_t r = 0; r < rows; ++r) {
    RandomStream stream = make_stream(1, 0, r, StreamPurpose::kLogits);
    model_->sample(stream, row);
    for (double s : row) {
      for (std::size_t j = 0; j < levels.size(); ++j)
        below[j] += s < cuts[j] ? 1.0 : 0.0;
    }
  }
  const double total = static_cast<double>(rows * row.size());
  for (std::size_t j = 0; j < levels.size(); ++j) {
    const double p = levels[j];
    const double standard_error = std::sqrt(p * (1 - p) / total);
    EXPECT_NEAR(below[j] / total, p, 5 * standard_error) << "p = " << p;
  }
}

TEST_P(ModelConformance, DensityIsTheQuantileDerivative) {
  // f(F^{-1}(p)) * dF^{-1}/dp = 1 ties density() to quantile(), which the sampling test ties
  // to sample(); the brute-force tilt below then rests on all three.
  if (!model_->density(0.0)) GTEST_SKIP() << "no density";
  const double h = 1e-6;
  for (double p : {0.001, 0.01, 0.3, 0.6, 0.9, 0.999}) {
    const double slope = (*model_->quantile(p + h) - *model_->quantile(p - h)) / (2 * h);
    EXPECT_NEAR(*model_->density(*model_->quantile(p)) * slope, 1.0, 1e-6) << "p = " << p;
  }
}

TEST_P(ModelConformance, InfiniteExpMeanHasNoRule) {
  if (model_->exp_mean_finite()) {
    EXPECT_EQ(model_->no_rule_reason(), "");
    EXPECT_TRUE(model_->tail_mass_limit(0.1).has_value());
    EXPECT_TRUE(model_->asymptotic_k_fraction(0.1).has_value());
    return;
  }
  const std::string reason = model_->no_rule_reason();
  EXPECT_NE(reason.find("infinite"), std::string::npos) << reason;
  EXPECT_EQ(reason.rfind("no asymptotic rule", 0), 0u) << reason;
  for (double x : {0.0, 0.1, 0.5, 1.0}) {
    EXPECT_FALSE(model_->tail_mass_limit(x).has_value());
    EXPECT_FALSE(model_->asymptotic_k_fraction(x).has_value());
  }
}

TEST_P(ModelConformance, TailMassIsMonotoneAndInvertedByKFraction) {
  if (!model_->exp_mean_finite()) GTEST_SKIP() << model_->no_rule_reason();
  EXPECT_EQ(*model_->tail_mass_limit(0.0), 1.0);
  EXPECT_EQ(*model_->tail_mass_limit(1.0), 0.0);
  EXPECT_EQ(*model_->asymptotic_k_fraction(0.0), 1.0);
  EXPECT_EQ(*model_->asymptotic_k_fraction(1.0), 0.0);
  double previous = 1.0;
  for (int i = 1; i < 200; ++i) {
    const double tau = *model_->tail_mass_limit(i / 200.0);
    EXPECT_LE(tau, previous) << "rho = " << i / 200.0;
    EXPECT_GE(tau, 0.0);
    previous = tau;
  }
  for (double eps : {1e-8, 1e-4, 0.01, 0.05, 0.1, 0.5, 0.9, 0.999}) {
    const double rho = *model_->asymptotic_k_fraction(eps);
    ASSERT_GT(rho, 0.0) << "eps = " << eps;
    ASSERT_LT(rho, 1.0) << "eps = " << eps;
    EXPECT_NEAR(*model_->tail_mass_limit(rho), eps, 1e-9 * eps) << "eps = " << eps;
  }
}

TEST_P(ModelConformance, TailMassMatchesBruteForceIntegration) {
  if (!model_->exp_mean_finite()) GTEST_SKIP() << model_->no_rule_reason();
  if (!model_->density(0.0)) GTEST_SKIP() << "no density";
  const BruteForceTilt brute_force(*model_);
  for (double rho : {0.001, 0.01, 0.1, 0.3, 0.5, 0.7, 0.95}) {
    EXPECT_NEAR(*model_->tail_mass_limit(rho), brute_force.tail_mass(rho), 1e-8) << "rho = " << rho;
  }
  for (double eps : {0.001, 0.01, 0.05, 0.1, 0.3}) {
    const double rho = *model_->asymptotic_k_fraction(eps);
    EXPECT_NEAR(rho, brute_force.k_fraction(eps), 1e-6 * rho) << "eps = " << eps;
  }
}

TEST_P(ModelConformance, TailMassMatchesMonteCarlo) {
  if (!model_->exp_mean_finite()) GTEST_SKIP() << model_->no_rule_reason();
  if (!GetParam().monte_carlo) GTEST_SKIP() << "finite-n bias too large at n = 65536";
  const std::vector<double> rhos = {0.02, 0.1, 0.3, 0.6};
  const std::size_t rows = 16;
  std::vector<double> row(65536);
  std::vector<double> sum(rhos.size(), 0.0), sum_squares(rhos.size(), 0.0);
  for (std::size_t r = 0; r < rows; ++r) {
    RandomStream stream = make_stream(2, 0, r, StreamPurpose::kLogits);
    model_->sample(stream, row);
    const std::vector<double> tau = empirical_tail_mass(row, rhos);
    for (std::size_t j = 0; j < rhos.size(); ++j) {
      sum[j] += tau[j];
      sum_squares[j] += tau[j] * tau[j];
    }
  }
  for (std::size_t j = 0; j < rhos.size(); ++j) {
    const double mean = sum[j] / rows;
    const double variance = std::max(0.0, (sum_squares[j] - rows * mean * mean) / (rows - 1));
    const double standard_error = std::sqrt(variance / rows);
    // 5 standard errors of Monte Carlo noise (observed deviations stay below 3) plus an
    // allowance for the finite-n bias, which is below 0.002 for these settings (for sinks it
    // includes their O(m e^offset / n) share of the mass).
    EXPECT_NEAR(mean, *model_->tail_mass_limit(rhos[j]), 0.003 + 5 * standard_error)
        << "rho = " << rhos[j] << ", standard error " << standard_error;
  }
}

void PrintTo(const ModelCase& model_case, std::ostream* out) {
  *out << model_case.model << " (" << model_case.setting << ")";
}

std::string case_name(const ::testing::TestParamInfo<ModelCase>& info) {
  return info.param.model + "_" + info.param.setting;
}

INSTANTIATE_TEST_SUITE_P(AllModels, ModelConformance, ::testing::ValuesIn(all_cases()), case_name);

TEST(ModelRegistry, NamesAreUniqueAndFindable) {
  const std::vector<std::string> names = model_names();
  ASSERT_FALSE(names.empty());
  for (std::size_t i = 0; i < names.size(); ++i) {
    ASSERT_NE(find_model_info(names[i]), nullptr) << names[i];
    EXPECT_EQ(find_model_info(names[i])->name, names[i]);
    for (std::size_t j = 0; j < i; ++j)
      EXPECT_NE(names[i], names[j]);
  }
  EXPECT_EQ(find_model_info("no_such_model"), nullptr);
  EXPECT_THROW(make_model("no_such_model", {}), InputError);
}

}  // namespace
}  // namespace tvk
