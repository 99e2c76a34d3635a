//! \file The sinks model: layout of a row and the bulk's asymptotic rule.

#include <gtest/gtest.h>

#include <vector>

#include "core/models/model_registry.h"

namespace tvk {
namespace {

TEST(SinksModel, SinksComeFirstAndTheBulkIsGaussian) {
  auto sinks = make_model("sinks", {{"mu", 1.0}, {"sigma", 2.0}, {"m", 3.0}, {"offset", 4.0}});
  auto gaussian = make_model("gaussian", {{"mu", 1.0}, {"sigma", 2.0}});
  std::vector<double> row(100), bulk(97);
  RandomStream a = make_stream(5, 0, 0, StreamPurpose::kLogits);
  RandomStream b = make_stream(5, 0, 0, StreamPurpose::kLogits);
  sinks->sample(a, row);
  gaussian->sample(b, bulk);
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(row[i], 5.0);
  // The bulk draws the same stream as a plain Gaussian row would.
  EXPECT_EQ(std::vector<double>(row.begin() + 3, row.end()), bulk);
}

TEST(SinksModel, RowShorterThanTheSinkCountIsAllSinks) {
  auto sinks = make_model("sinks", {{"m", 8.0}});
  std::vector<double> row(5);
  RandomStream stream = make_stream(5, 0, 0, StreamPurpose::kLogits);
  sinks->sample(stream, row);
  for (double s : row)
    EXPECT_EQ(s, 5.0);
}

TEST(SinksModel, RuleIsTheBulksAndThereIsNoQuantile) {
  auto sinks = make_model("sinks", {{"sigma", 2.0}, {"m", 4.0}, {"offset", 9.0}});
  auto gaussian = make_model("gaussian", {{"sigma", 2.0}});
  EXPECT_FALSE(sinks->iid());
  EXPECT_TRUE(sinks->exp_mean_finite());
  EXPECT_EQ(sinks->no_rule_reason(), "");
  EXPECT_FALSE(sinks->quantile(0.5).has_value());
  EXPECT_FALSE(sinks->quantile(1.0).has_value());
  EXPECT_FALSE(sinks->density(0.0).has_value());
  for (double x : {0.01, 0.05, 0.3}) {
    EXPECT_EQ(*sinks->tail_mass_limit(x), *gaussian->tail_mass_limit(x));
    EXPECT_EQ(*sinks->asymptotic_k_fraction(x), *gaussian->asymptotic_k_fraction(x));
  }
}

}  // namespace
}  // namespace tvk
