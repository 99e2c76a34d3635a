// `tvk rule`: the asymptotic k_eps rule and the finite-n prediction of E[k_eps]/n (THEORY §4;
// the method is in docs/finite_n.md) for one model and lists of n and eps, or next to every row
// of a Monte Carlo results CSV written by `tvk run` (--from-csv), with the error summary.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/models/model_registry.h"
#include "core/predictors/finite_n_rule.h"
#include "core/results/results_table.h"
#include "core/text/text.h"
#include "experiments/cli/arg_parser.h"
#include "experiments/cli/cli.h"
#include "experiments/cli/json_text.h"

namespace tvk::cli {
namespace {

//! Everything `tvk rule` reports for one (model, n, eps).
struct RulePoint {
  std::size_t n = 0;
  double eps = 0.0;
  std::optional<double> asymptotic;
  std::optional<FiniteNPrediction> finite_n;
  std::optional<double> blom;
  double milliseconds = 0.0;
};

RulePoint evaluate(const ScoreModel& model, std::size_t n, double eps,
                   const FiniteNOptions& options) {
  RulePoint point;
  point.n = n;
  point.eps = eps;
  point.asymptotic = model.asymptotic_k_fraction(eps);
  const auto start = std::chrono::steady_clock::now();
  point.finite_n = finite_n_prediction(model, n, eps, options);
  point.milliseconds =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  point.blom = blom_k_fraction(model, n, eps);
  return point;
}

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> items;
  std::stringstream stream(text);
  std::string item;
  while (std::getline(stream, item, separator))
    items.push_back(item);
  if (!text.empty() && text.back() == separator) items.emplace_back();
  return items;
}

// The finite-n predictor's cost grows with n (10^8 keys: ~12 s; 10^15 never ends); beyond this
// the asymptotic rule is the answer.
constexpr long long kMaxRuleKeys = 100'000'000;

void check_rule_n(long long n, const std::string& where) {
  if (n > kMaxRuleKeys) {
    throw InputError(where + ": " + std::to_string(n) + " keys is more than " +
                     std::to_string(kMaxRuleKeys) +
                     " (the finite-n predictor's cost grows with n; the asymptotic rule is its "
                     "n -> infinity limit)");
  }
}

std::vector<std::size_t> parse_n_list(const std::string& text) {
  std::vector<std::size_t> values;
  for (const std::string& item : split(text, ',')) {
    const long long n = parse_integer(item, "--n");
    if (n < 1) throw InputError("--n: must be >= 1, got " + item);
    check_rule_n(n, "--n");
    values.push_back(static_cast<std::size_t>(n));
  }
  if (values.empty()) throw InputError("--n: expected a comma-separated list of key counts");
  return values;
}

std::vector<double> parse_eps_list(const std::string& text) {
  std::vector<double> values;
  for (const std::string& item : split(text, ',')) {
    const double eps = parse_double(item, "--eps");
    if (!(eps > 0.0 && eps < 1.0)) throw InputError("--eps: " + item + " is outside (0, 1)");
    values.push_back(eps);
  }
  if (values.empty()) throw InputError("--eps: expected a comma-separated list of budgets");
  return values;
}

ParamValues parse_params(const std::vector<std::string>& items) {
  ParamValues values;
  for (const std::string& item : items) {
    const std::size_t equals = item.find('=');
    if (equals == std::string::npos || equals == 0) {
      throw InputError("model parameter '" + item + "': expected name=value, e.g. sigma=3");
    }
    const std::string name = item.substr(0, equals);
    if (values.count(name)) throw InputError("model parameter '" + name + "' given twice");
    values[name] = parse_double(item.substr(equals + 1), "model parameter " + name);
  }
  return values;
}

//! "mu = 0, sigma = 3" in the model's parameter order.
std::string params_text(const ScoreModel& model, const char* between, const char* separator) {
  std::string text;
  for (const ParamSpec& spec : model.info().params) {
    if (!text.empty()) text += separator;
    text += spec.name + between + format_shortest(model.params().at(spec.name));
  }
  return text;
}

std::string asymptotic_note(const ScoreModel& model) {
  if (!model.exp_mean_finite()) return model.no_rule_reason();
  return "rho_eps solving tau_inf(rho) = eps: the n -> infinity limit of k_eps/n";
}

constexpr double kNone = std::numeric_limits<double>::quiet_NaN();

void print_json(std::ostream& out, const ScoreModel& model, const std::vector<RulePoint>& points) {
  std::string params = "{";
  for (const ParamSpec& spec : model.info().params) {
    params += (params.size() > 1 ? ", " : "") + json_string(spec.name) + ": " +
              format_shortest(model.params().at(spec.name));
  }
  params += "}";
  const std::string finite_note = finite_n_unsupported_reason(model);
  if (points.size() > 1) out << "[";
  for (std::size_t i = 0; i < points.size(); ++i) {
    const RulePoint& p = points[i];
    const double finite = p.finite_n ? p.finite_n->k_fraction : kNone;
    const double keys = finite * static_cast<double>(p.n);
    out << (i ? ",\n " : "") << "{\"model\": " << json_string(model.info().name)
        << ", \"params\": " << params << ", \"n\": " << p.n
        << ", \"eps\": " << format_shortest(p.eps)
        << ", \"asymptotic\": " << json_number(p.asymptotic.value_or(kNone))
        << ", \"asymptotic_note\": " << json_string(asymptotic_note(model))
        << ", \"finite_n\": " << json_number(finite) << ", \"finite_n_keys\": " << json_number(keys)
        << ", \"finite_n_note\": " << json_string(finite_note)
        << ", \"blom\": " << json_number(p.blom.value_or(kNone))
        << ", \"kept_probability_evaluations\": "
        << (p.finite_n ? p.finite_n->kept_probability_evaluations : 0)
        << ", \"transform_terms\": " << (p.finite_n ? p.finite_n->transform_terms : 0) << "}";
  }
  out << (points.size() > 1 ? "]\n" : "\n");
}

void print_text(std::ostream& out, const ScoreModel& model, const std::vector<RulePoint>& points) {
  char line[512];
  const std::string header = model.info().name + " (" + params_text(model, " = ", ", ") + ")";
  if (points.size() == 1) {
    const RulePoint& p = points[0];
    out << header << ", n = " << p.n << ", eps = " << format_shortest(p.eps) << "\n";
    if (p.asymptotic) {
      std::snprintf(line, sizeof line, "  asymptotic rule  rho_eps = %-12.6g (n -> infinity)\n",
                    *p.asymptotic);
      out << line;
    } else {
      out << "  asymptotic rule  none (" << model.no_rule_reason() << ")\n";
    }
    if (p.finite_n) {
      std::snprintf(line, sizeof line,
                    "  finite n         E[k_eps]/n = %-10.6g (E[k_eps] = %.4g of %zu keys)\n",
                    p.finite_n->k_fraction, p.finite_n->k_fraction * static_cast<double>(p.n), p.n);
      out << line;
    } else {
      out << "  finite n         none (" << finite_n_unsupported_reason(model) << ")\n";
    }
    if (p.blom) {
      std::snprintf(line, sizeof line,
                    "  Blom row         k_eps/n = %-13.6g (expected order statistics, for "
                    "comparison)\n",
                    *p.blom);
      out << line;
    }
    if (p.finite_n) {
      std::snprintf(
          line, sizeof line,
          "  (finite n: %zu kept-probability evaluations, %zu transform terms, %.1f ms)\n",
          p.finite_n->kept_probability_evaluations, p.finite_n->transform_terms, p.milliseconds);
      out << line;
    }
    return;
  }
  out << header << "\n";
  std::snprintf(line, sizeof line, "%8s %8s %12s %12s %12s %9s\n", "n", "eps", "asymptotic",
                "finite_n", "blom", "ms");
  out << line;
  auto cell = [](const std::optional<double>& value) {
    char text[32];
    if (!value) return std::string("none");
    std::snprintf(text, sizeof text, "%.6g", *value);
    return std::string(text);
  };
  for (const RulePoint& p : points) {
    const std::optional<double> finite =
        p.finite_n ? std::optional<double>(p.finite_n->k_fraction) : std::nullopt;
    std::snprintf(line, sizeof line, "%8zu %8g %12s %12s %12s %9.1f\n", p.n, p.eps,
                  cell(p.asymptotic).c_str(), cell(finite).c_str(), cell(p.blom).c_str(),
                  p.milliseconds);
    out << line;
  }
  if (!points.empty() && !points[0].asymptotic) {
    out << "asymptotic: none (" << model.no_rule_reason() << ")\n";
  }
}

// ---------------------------------------------------------------------------------------------
// --from-csv: the prediction next to every Monte Carlo row of a `tvk run` CSV.

//! One CSV record of the results CSV; errors name the file and line.
std::vector<std::string> parse_csv_line(const std::string& line, const std::string& where) {
  try {
    return parse_csv_record(line);
  } catch (const std::invalid_argument& error) {
    throw InputError(where + ": " + error.what());
  }
}

std::string format6(double value) {
  if (!std::isfinite(value)) return "";
  char text[32];
  std::snprintf(text, sizeof text, "%.6g", value);
  return text;
}

//! Accuracy of one predictor over a group of points.
struct ErrorSummary {
  std::size_t points = 0;
  double worst = 0.0, sum = 0.0, worst_z = 0.0;
  void add(double relative, double z) {
    ++points;
    worst = std::max(worst, std::fabs(relative));
    sum += std::fabs(relative);
    worst_z = std::max(worst_z, std::fabs(z));
  }
};

int run_from_csv(const std::string& path, const std::optional<std::string>& out_path,
                 const FiniteNOptions& options) {
  std::ifstream file(path);
  if (!file) throw InputError(path + ": cannot open results CSV");
  std::string line;
  if (!std::getline(file, line)) throw InputError(path + ": empty file");
  const std::vector<std::string> header = parse_csv_line(line, path + ":1");
  std::map<std::string, std::size_t> column;
  for (std::size_t i = 0; i < header.size(); ++i)
    column[header[i]] = i;
  for (const char* required : {"model", "n", "eps", "k_over_n_mean", "k_over_n_sem"}) {
    if (!column.count(required)) {
      throw InputError(path + ": missing column '" + required +
                       "' (expected a CSV written by tvk run)");
    }
  }

  std::ofstream out_file;
  if (out_path) {
    out_file.open(*out_path);
    if (!out_file) throw InputError(*out_path + ": cannot write");
  }
  std::ostream& out = out_path ? static_cast<std::ostream&>(out_file) : std::cout;
  std::ostream& report = out_path ? std::cout : std::cerr;
  out << "model,params,n,eps,rows,mc_mean,mc_sem,rule,blom,finite_n,rule_rel_error,"
         "blom_rel_error,finite_n_rel_error,finite_n_z,evaluations,transform_terms\n";

  struct Group {
    ErrorSummary rule, blom, finite_n;
    double milliseconds = 0.0;
  };
  std::vector<std::string> group_order;
  std::map<std::string, Group> groups;
  auto group = [&](const std::string& key) -> Group& {
    if (!groups.count(key)) group_order.push_back(key);
    return groups[key];
  };

  std::size_t line_number = 1;
  while (std::getline(file, line)) {
    ++line_number;
    if (line.empty()) continue;
    const std::string where = path + ":" + std::to_string(line_number);
    const std::vector<std::string> fields = parse_csv_line(line, where);
    if (fields.size() != header.size()) throw InputError(where + ": wrong number of fields");
    auto field = [&](const std::string& name) { return fields[column.at(name)]; };
    const std::string name = field("model");
    const ModelInfo* info = find_model_info(name);
    if (!info) throw InputError(where + ": unknown model '" + name + "'");
    ParamValues values;
    for (const ParamSpec& spec : info->params) {
      if (column.count(spec.name) && !field(spec.name).empty()) {
        values[spec.name] = parse_double(field(spec.name), where + ": " + spec.name);
      }
    }
    const auto model = make_model(name, values);
    const long long n_value = parse_integer(field("n"), where + ": n");
    if (n_value < 1) throw InputError(where + ": n must be >= 1");
    check_rule_n(n_value, where + ": n");
    const double eps = parse_double(field("eps"), where + ": eps");
    if (!(eps > 0.0 && eps < 1.0)) throw InputError(where + ": eps outside (0, 1)");
    const double mean = parse_double(field("k_over_n_mean"), where + ": k_over_n_mean");
    const double sem = parse_double(field("k_over_n_sem"), where + ": k_over_n_sem");
    const std::string rows = column.count("rows") ? field("rows") : "";

    const RulePoint p = evaluate(*model, static_cast<std::size_t>(n_value), eps, options);
    const double finite = p.finite_n ? p.finite_n->k_fraction : std::nan("");
    const double rule = p.asymptotic.value_or(std::nan(""));
    const double blom = p.blom.value_or(std::nan(""));
    auto relative = [mean](double predicted) { return (predicted - mean) / mean; };
    const double z = sem > 0.0 ? (finite - mean) / sem : std::nan("");

    const std::string params = params_text(*model, "=", ";");
    out << name << "," << params << "," << n_value << "," << format_shortest(eps) << "," << rows
        << "," << format6(mean) << "," << format6(sem) << "," << format6(rule) << ","
        << format6(blom) << "," << format6(finite) << "," << format6(relative(rule)) << ","
        << format6(relative(blom)) << "," << format6(relative(finite)) << "," << format6(z) << ","
        << (p.finite_n ? p.finite_n->kept_probability_evaluations : 0) << ","
        << (p.finite_n ? p.finite_n->transform_terms : 0) << "\n";

    for (const std::string& key : {name + " (all)", name + " " + params}) {
      Group& g = group(key);
      if (std::isfinite(rule)) g.rule.add(relative(rule), 0.0);
      if (std::isfinite(blom)) g.blom.add(relative(blom), 0.0);
      if (std::isfinite(finite)) g.finite_n.add(relative(finite), z);
      g.milliseconds += p.milliseconds;
    }
  }

  char text[512];
  std::snprintf(text, sizeof text, "%-40s %6s  %-17s %-17s %-17s %8s %9s\n", "relative error of",
                "points", "finite_n worst/mean", "blom worst/mean", "rule worst/mean", "max |z|",
                "ms/point");
  report << text;
  auto pair = [](const ErrorSummary& s) {
    if (!s.points) return std::string("none");
    char cell[64];
    std::snprintf(cell, sizeof cell, "%.2f%%/%.2f%%", 100.0 * s.worst,
                  100.0 * s.sum / static_cast<double>(s.points));
    return std::string(cell);
  };
  for (const std::string& key : group_order) {
    const Group& g = groups.at(key);
    std::snprintf(
        text, sizeof text, "%-40s %6zu  %-19s %-17s %-17s %6.1f %9.1f\n", key.c_str(),
        g.finite_n.points, pair(g.finite_n).c_str(), pair(g.blom).c_str(), pair(g.rule).c_str(),
        g.finite_n.worst_z,
        g.finite_n.points ? g.milliseconds / static_cast<double>(g.finite_n.points) : 0.0);
    report << text;
  }
  if (out_path) report << "wrote " << *out_path << "\n";
  return 0;
}

}  // namespace

int run_rule_command(const std::vector<std::string>& args) {
  ArgParser parser(
      "rule",
      "tvk rule --model NAME [param=value ...] --n N[,N...] --eps E[,E...] [--json]\n"
      "       tvk rule --from-csv RESULTS.csv [--out FILE]",
      "Predicts the mean certified key fraction E[k_eps]/n of rows of n i.i.d. logits from a "
      "score model\n(THEORY §4). Prints the asymptotic rule rho_eps (or 'none' with the reason: "
      "E[e^s] infinite) and\nthe finite-n prediction, an exact identity evaluated by numerical "
      "Laplace inversion (no Monte\nCarlo; docs/finite_n.md), with the Blom row (expected order "
      "statistics) for comparison.\n--from-csv adds the predictions next to every row of a "
      "`tvk run` results CSV and prints the\nrelative errors against its Monte Carlo means.");
  parser.add_option("model", "NAME", "score model (tvk models lists them)");
  parser.add_option("n", "LIST", "keys per row, comma-separated");
  parser.add_option("eps", "LIST", "TV budgets in (0, 1), comma-separated");
  parser.add_flag("json", "print JSON (one object, or a list for several points; exact numbers)");
  parser.add_option("tolerance", "T", "numerical tolerance of the finite-n predictor", "1e-6");
  parser.add_option("from-csv", "FILE", "a results CSV written by tvk run");
  parser.add_option("out", "FILE", "with --from-csv: write the table here (default: stdout)");
  parser.set_positionals("param=value", "model parameters (defaults from tvk models)", 0, 1000);
  parser.set_epilog(
      "examples:\n  tvk rule --model gaussian sigma=3 --n 512 --eps 0.05\n"
      "  tvk rule --model student_t nu=3 --n 128,512,4096 --eps 0.05 --json\n"
      "  tvk rule --from-csv results/finite_n.csv --out docs/finite_n_errors.csv");
  if (!parser.parse(args)) return 0;

  FiniteNOptions options;
  options.tolerance = parse_double(*parser.value("tolerance"), "--tolerance");
  if (!(options.tolerance > 0.0 && options.tolerance <= 1e-2)) {
    throw InputError("--tolerance: must be in (0, 0.01]");
  }
  if (const auto csv = parser.value("from-csv")) {
    if (parser.value("model") || parser.value("n") || parser.value("eps") ||
        !parser.positionals().empty() || parser.flag("json")) {
      throw InputError("--from-csv takes the models, n and eps from the CSV; drop the others");
    }
    return run_from_csv(*csv, parser.value("out"), options);
  }
  if (parser.value("out")) throw InputError("--out: only with --from-csv");
  const auto name = parser.value("model");
  if (!name) throw InputError("--model: required (tvk models lists the models)");
  if (!parser.value("n")) throw InputError("--n: required");
  if (!parser.value("eps")) throw InputError("--eps: required");
  const auto model = make_model(*name, parse_params(parser.positionals()));
  const std::vector<std::size_t> ns = parse_n_list(*parser.value("n"));
  const std::vector<double> eps = parse_eps_list(*parser.value("eps"));

  std::vector<RulePoint> points;
  for (std::size_t n : ns) {
    for (double e : eps)
      points.push_back(evaluate(*model, n, e, options));
  }
  if (parser.flag("json")) {
    print_json(std::cout, *model, points);
  } else {
    print_text(std::cout, *model, points);
  }
  return 0;
}

}  // namespace tvk::cli
