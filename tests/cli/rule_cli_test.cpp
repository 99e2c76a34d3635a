//! \file End-to-end tests of `tvk rule`: --help, the text report (with "none" where there is no
//! asymptotic rule), JSON that parses and carries the core's exact numbers, comma lists, the
//! --from-csv comparison table, and one-line errors with exit code 2 for bad input.

#include <gtest/gtest.h>

#include <cctype>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "core/models/model_registry.h"
#include "core/predictors/finite_n_rule.h"
#include "tests/support/run_tvk.h"
#include "tests/support/strict_json.h"
#include "tests/support/temp_dir.h"

namespace {

namespace fs = std::filesystem;

using Json = nlohmann::json;
using tvk::test::parse_strict_json;

using Outcome = tvk::test::RunResult;
using tvk::test::read_text;

class RuleCli : public ::testing::Test {
 protected:
  Outcome rule(const std::vector<std::string>& args) {
    std::vector<std::string> command{"rule"};
    command.insert(command.end(), args.begin(), args.end());
    return tvk::test::run_tvk(dir_, command);
  }

  tvk::test::TempDir temp_ = tvk::test::TempDir::numbered("tvk_rule_cli_");
  const fs::path dir_ = temp_.path();
};

TEST_F(RuleCli, HelpDescribesTheVerb) {
  const Outcome help = rule({"--help"});
  EXPECT_EQ(help.code, 0);
  for (const char* word : {"--model", "--n", "--eps", "--json", "--from-csv", "param=value"}) {
    EXPECT_NE(help.out.find(word), std::string::npos) << word;
  }
  EXPECT_TRUE(help.err.empty());
}

TEST_F(RuleCli, TextReportsRuleFiniteNAndBlom) {
  const Outcome result = rule({"--model", "gaussian", "sigma=3", "--n", "512", "--eps", "0.05"});
  ASSERT_EQ(result.code, 0) << result.err;
  EXPECT_NE(result.out.find("gaussian (mu = 0, sigma = 3), n = 512, eps = 0.05"), std::string::npos)
      << result.out;
  EXPECT_NE(result.out.find("asymptotic rule  rho_eps = 0.0876855"), std::string::npos)
      << result.out;
  EXPECT_NE(result.out.find("E[k_eps]/n = 0.12"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("Blom row"), std::string::npos) << result.out;

  const Outcome heavy = rule({"--model", "student_t", "--n", "128", "--eps", "0.1"});
  ASSERT_EQ(heavy.code, 0) << heavy.err;
  EXPECT_NE(heavy.out.find("asymptotic rule  none (no asymptotic rule: E[e^s] is infinite"),
            std::string::npos)
      << heavy.out;
  EXPECT_NE(heavy.out.find("E[k_eps]/n = "), std::string::npos) << heavy.out;
}

TEST_F(RuleCli, JsonCarriesTheCoreNumbersExactly) {
  const Outcome result =
      rule({"--model", "gaussian", "sigma=3", "--n", "512", "--eps", "0.05", "--json"});
  ASSERT_EQ(result.code, 0) << result.err;
  const Json json = parse_strict_json(result.out);
  const auto model = tvk::make_model("gaussian", {{"sigma", 3.0}});
  EXPECT_EQ(json.at("model").get<std::string>(), "gaussian");
  EXPECT_EQ(json.at("params").at("sigma").get<double>(), 3.0);
  EXPECT_EQ(json.at("params").at("mu").get<double>(), 0.0);
  EXPECT_EQ(json.at("n").get<double>(), 512.0);
  EXPECT_EQ(json.at("eps").get<double>(), 0.05);
  EXPECT_EQ(json.at("asymptotic").get<double>(), *model->asymptotic_k_fraction(0.05));
  EXPECT_EQ(json.at("finite_n").get<double>(), *tvk::finite_n_k_fraction(*model, 512, 0.05));
  EXPECT_EQ(json.at("blom").get<double>(), *tvk::blom_k_fraction(*model, 512, 0.05));
  EXPECT_EQ(json.at("finite_n_keys").get<double>(), json.at("finite_n").get<double>() * 512.0);
  EXPECT_FALSE(json.at("asymptotic_note").get<std::string>().empty());
  EXPECT_TRUE(json.at("finite_n_note").get<std::string>().empty());
}

TEST_F(RuleCli, ListsGiveAJsonArrayWithNullWhereThereIsNoRule) {
  const Outcome result =
      rule({"--model", "laplace", "scale=2", "--n", "128,256", "--eps", "0.05,0.1", "--json"});
  ASSERT_EQ(result.code, 0) << result.err;
  const Json json = parse_strict_json(result.out);
  ASSERT_TRUE(json.is_array());
  ASSERT_EQ(json.size(), 4u);
  EXPECT_EQ(json[0].at("n").get<double>(), 128.0);
  EXPECT_EQ(json[1].at("eps").get<double>(), 0.1);
  EXPECT_EQ(json[3].at("n").get<double>(), 256.0);
  for (const Json& point : json) {
    EXPECT_TRUE(point.at("asymptotic").is_null());
    EXPECT_NE(point.at("asymptotic_note").get<std::string>().find("E[e^s] is infinite"),
              std::string::npos);
    EXPECT_GT(point.at("finite_n").get<double>(), 0.0);
    EXPECT_LE(point.at("finite_n").get<double>(), 1.0);
  }
  const Outcome table = rule({"--model", "laplace", "scale=2", "--n", "128,256", "--eps", "0.1"});
  ASSERT_EQ(table.code, 0) << table.err;
  EXPECT_NE(table.out.find("asymptotic"), std::string::npos);
  EXPECT_NE(table.out.find("none"), std::string::npos);
}

TEST_F(RuleCli, FromCsvAddsThePredictionToEveryRow) {
  // The shape of a `tvk run` CSV: parameter columns of all models, a quoted note with a comma.
  std::ofstream csv(dir_ / "mc.csv");
  csv << "model,nu,scale,mu,sigma,n,rows,exp_mean_finite,eps,k_over_n_mean,k_over_n_std,"
         "k_over_n_sem,rule_k_over_n,rule_note\n"
      << "gaussian,,,0,2,128,40000,1,0.05,0.385259,0.07,0.000359,0.36124,\n"
      << "laplace,,2,0,,512,20000,0,0.1,0.013217,0.01,0.000104,,\"no asymptotic rule: E[e^s] "
         "is infinite (laplace with scale >= 1, got scale = 2)\"\n";
  csv.close();
  const Outcome result = rule({"--from-csv", "mc.csv", "--out", "table.csv"});
  ASSERT_EQ(result.code, 0) << result.err;
  EXPECT_NE(result.out.find("gaussian (all)"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("laplace scale=2;mu=0"), std::string::npos) << result.out;
  std::istringstream table(read_text(dir_ / "table.csv"));
  std::string header, gaussian, laplace, extra;
  std::getline(table, header);
  std::getline(table, gaussian);
  std::getline(table, laplace);
  EXPECT_FALSE(std::getline(table, extra));
  EXPECT_EQ(header.rfind("model,params,n,eps,rows,mc_mean,mc_sem,rule,blom,finite_n,", 0), 0u);
  EXPECT_EQ(gaussian.rfind("gaussian,mu=0;sigma=2,128,0.05,40000,0.385259,0.000359,", 0), 0u)
      << gaussian;
  EXPECT_EQ(laplace.rfind("laplace,scale=2;mu=0,512,0.1,20000,0.013217,0.000104,,", 0), 0u)
      << laplace;
  // finite_n is the 10th column; within 4 standard errors of the Monte Carlo mean.
  std::vector<std::string> fields;
  std::stringstream row(gaussian);
  for (std::string field; std::getline(row, field, ',');)
    fields.push_back(field);
  ASSERT_GE(fields.size(), 13u);
  EXPECT_NEAR(std::stod(fields[9]), 0.385259, 4 * 0.000359);
}

TEST_F(RuleCli, BadInputIsOneLineAndExitCodeTwo) {
  const std::vector<std::vector<std::string>> cases = {
      {"--model", "gaussian", "sigma=-1", "--n", "128", "--eps", "0.1"},
      {"--model", "gaussian", "--n", "128", "--eps", "1.5"},
      {"--model", "gaussian", "--n", "0", "--eps", "0.1"},
      {"--model", "gaussian", "--n", "12x", "--eps", "0.1"},
      {"--model", "gausian", "--n", "128", "--eps", "0.1"},
      {"--model", "gaussian", "sigmaa=2", "--n", "128", "--eps", "0.1"},
      {"--model", "gaussian", "sigma", "--n", "128", "--eps", "0.1"},
      {"--n", "128", "--eps", "0.1"},
      {"--model", "gaussian", "--eps", "0.1"},
      {"--from-csv", "missing.csv"},
      {"--from-csv", "missing.csv", "--model", "gaussian"},
      {"--model", "gaussian", "--n", "128", "--eps", "0.1", "--tolerance", "0"},
      {"--model", "gaussian", "--n", "128", "--eps", "0.1", "--bogus"},
  };
  for (const auto& args : cases) {
    const Outcome result = rule(args);
    std::string joined;
    for (const std::string& arg : args)
      joined += arg + " ";
    EXPECT_EQ(result.code, 2) << joined << "\n" << result.err;
    EXPECT_EQ(result.err.rfind("tvk: error: ", 0), 0u) << joined << "\n" << result.err;
    EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << joined;
    EXPECT_TRUE(result.out.empty()) << joined;
  }
}

}  // namespace
