//! \file Registry behaviour and the exact wording of parameter errors.

#include "core/models/model_registry.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/random/stream.h"

namespace tvk {
namespace {

std::string error_of(std::string_view model, const ParamValues& values) {
  try {
    make_model(model, values);
  } catch (const InputError& error) {
    return error.what();
  }
  return "";
}

// The registry describes itself (no names pinned here): every listed model is distinct, found
// and built with its defaults under its own name.
TEST(ModelRegistry, EveryListedModelIsFoundAndBuiltUnderItsName) {
  const std::vector<std::string> names = model_names();
  ASSERT_FALSE(names.empty());
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()).size(), names.size());
  for (const std::string& name : names) {
    ASSERT_NE(find_model_info(name), nullptr) << name;
    EXPECT_EQ(find_model_info(name)->name, name);
    EXPECT_EQ(make_model(name, {})->info().name, name);
  }
}

TEST(ModelRegistry, NamesTheParameterInErrors) {
  EXPECT_EQ(error_of("gaussian", {{"sigma", -2.0}}),
            "model gaussian: parameter sigma: must be > 0, got -2");
  EXPECT_EQ(error_of("gaussian_mixture", {{"w", 1.5}}),
            "model gaussian_mixture: parameter w: must be in (0, 1), got 1.5");
  EXPECT_EQ(error_of("sinks", {{"m", 1.5}}),
            "model sinks: parameter m: must be an integer, got 1.5");
  EXPECT_EQ(error_of("sinks", {{"m", -1.0}}),
            "model sinks: parameter m: must be in [0, 1e+09], got -1");
  EXPECT_EQ(error_of("gaussian", {{"mu", std::numeric_limits<double>::infinity()}}),
            "model gaussian: parameter mu: must be finite, got inf");
  EXPECT_EQ(error_of("gaussian", {{"sigma", std::numeric_limits<double>::quiet_NaN()}}),
            "model gaussian: parameter sigma: must be a number, got nan");
}

TEST(ModelRegistry, SuggestsNearNames) {
  EXPECT_EQ(error_of("gaussian", {{"sigam", 1.0}}),
            "model gaussian: unknown parameter 'sigam' (did you mean 'sigma'?); parameters: mu, "
            "sigma");
  const std::string unknown_model = error_of("gausian", {});
  EXPECT_EQ(unknown_model.rfind("unknown model 'gausian' (did you mean 'gaussian'?)", 0), 0u)
      << unknown_model;
  EXPECT_EQ(error_of("zzzzzzzz", {}).find("did you mean"), std::string::npos);
}

TEST(CheckParam, HandlesEveryKindOfBound) {
  ParamSpec spec;
  spec.name = "x";
  EXPECT_EQ(check_param(spec, -1e300), "");
  spec.min = 0.0;
  EXPECT_EQ(check_param(spec, 0.0), "");
  EXPECT_EQ(check_param(spec, -0.5), "must be >= 0, got -0.5");
  spec.min_inclusive = false;
  EXPECT_EQ(check_param(spec, 0.0), "must be > 0, got 0");
  spec.min = -1e308;
  spec.max = 2.0;
  EXPECT_EQ(check_param(spec, 2.0), "");
  EXPECT_EQ(check_param(spec, 3.0), "must be <= 2, got 3");
  spec.max_inclusive = false;
  EXPECT_EQ(check_param(spec, 2.0), "must be < 2, got 2");
  spec.min = 1.0;
  spec.min_inclusive = true;
  EXPECT_EQ(check_param(spec, 0.5), "must be in [1, 2), got 0.5");
  spec.integer = true;
  EXPECT_EQ(check_param(spec, 1.0), "");
  EXPECT_EQ(check_param(spec, 1.25), "must be an integer, got 1.25");
}

TEST(ModelRegistryTest, LocationsAreBoundedSoShiftInvarianceHolds) {
  // mu = 1e10 passed and changed k/n: mu + sigma z rounds sigma z away.
  for (const char* model : {"gaussian", "laplace", "gumbel", "logistic", "student_t", "sinks"}) {
    EXPECT_THROW(make_model(model, {{"mu", 1e10}}), InputError) << model;
    EXPECT_NO_THROW(make_model(model, {{"mu", -1e6}})) << model;
  }
}

TEST(ModelRegistryTest, StudentTRefusesTailsThatOverflowADouble) {
  // nu = 1e-300 passed validation and then sampled +inf logits mid-run.
  EXPECT_THROW(make_model("student_t", {{"nu", 1e-300}}), InputError);
  EXPECT_THROW(make_model("student_t", {{"nu", 3.0}, {"scale", 1e200}}), InputError);
  const auto model = make_model("student_t", {{"nu", 0.25}, {"scale", 1e100}});
  RandomStream stream = make_stream(1, 0, 0, StreamPurpose::kLogits);
  std::vector<double> row(100000);
  model->sample(stream, row);
  for (double s : row)
    ASSERT_TRUE(std::isfinite(s)) << s;
}

}  // namespace
}  // namespace tvk
