// `tvk row`: the full analysis of one row of logits, as text or JSON.
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <sstream>

#include "core/bounds/bound_registry.h"
#include "core/bounds/row_report.h"
#include "core/config/logit_row_reader.h"
#include "core/error.h"
#include "core/rows/divergence.h"
#include "core/rows/tail_profile.h"
#include "core/text/text.h"
#include "experiments/cli/arg_parser.h"
#include "experiments/cli/cli.h"
#include "experiments/cli/json_text.h"

namespace tvk::cli {
namespace {

using EpsResult = RowEpsReport;

std::vector<double> parse_eps_list(const std::string& text) {
  std::vector<double> eps;
  std::stringstream stream(text);
  std::string item;
  while (std::getline(stream, item, ',')) {
    const double value = parse_double(item, "--eps");
    if (!(value > 0.0 && value < 1.0)) {
      throw InputError("--eps: " + item + " is outside (0, 1)");
    }
    eps.push_back(value);
  }
  if (eps.empty()) throw InputError("--eps: expected a comma-separated list of budgets in (0, 1)");
  return eps;
}

void print_json(std::ostream& out, std::size_t n, std::size_t masked,
                const std::vector<std::unique_ptr<CertifyingBound>>& bounds,
                const std::vector<EpsResult>& results, std::size_t block) {
  const auto num = json_number;
  out << "{\"n\": " << n << ", \"masked\": " << masked << ", \"block\": " << block
      << ", \"results\": [";
  for (std::size_t e = 0; e < results.size(); ++e) {
    const EpsResult& r = results[e];
    out << (e ? ", " : "") << "{\"eps\": " << num(r.eps) << ", \"k_eps\": " << r.k_eps
        << ", \"tau\": " << num(r.tau) << ", \"bounds\": {";
    for (std::size_t b = 0; b < bounds.size(); ++b) {
      const Certificate& c = r.certificates[b];
      out << (b ? ", " : "") << json_string(bounds[b]->name()) << ": {\"k\": " << c.kept
          << ", \"price\": " << num(static_cast<double>(c.kept) / static_cast<double>(r.k_eps))
          << ", \"bound\": " << num(c.bound) << ", \"tau\": " << num(c.tau) << "}";
    }
    out << "}, \"identities\": {\"tv_half_l1\": " << num(r.tv_direct)
        << ", \"kl_truncated_to_full\": " << num(r.kl_identity)
        << ", \"kl_truncated_to_full_direct\": " << num(r.kl_direct)
        << ", \"kl_full_to_truncated\": " << num(r.kl_reverse)
        << ", \"kl_full_to_truncated_infinite\": " << (std::isinf(r.kl_reverse) ? "true" : "false")
        << ", \"tv_from_kl\": " << num(tv_from_kl(r.kl_identity))
        << ", \"pinsker\": " << num(pinsker_bound(r.kl_identity))
        << ", \"bretagnolle_huber\": " << num(bretagnolle_huber_bound(r.kl_identity)) << "}}";
  }
  out << "]}\n";
}

void print_text(std::ostream& out, const std::string& source, std::size_t n, std::size_t masked,
                const std::vector<std::unique_ptr<CertifyingBound>>& bounds,
                const std::vector<EpsResult>& results) {
  char line[256];
  out << source << ": n = " << n << " keys";
  if (masked) out << " (" << masked << " masked keys removed)";
  out << "\n";
  for (const EpsResult& r : results) {
    std::snprintf(line, sizeof line,
                  "\neps = %g: k_eps = %zu (k/n = %.4f, n/k = %.2f), tau = %.6g\n", r.eps, r.k_eps,
                  static_cast<double>(r.k_eps) / n, static_cast<double>(n) / r.k_eps, r.tau);
    out << line;
    std::snprintf(line, sizeof line, "  %-13s %7s %8s %8s %13s %13s\n", "bound", "k", "k/n",
                  "price", "bound", "tau(kept)");
    out << line;
    for (std::size_t b = 0; b < bounds.size(); ++b) {
      const Certificate& c = r.certificates[b];
      std::snprintf(line, sizeof line, "  %-13s %7zu %8.4f %8.3f %13.6g %13.6g\n",
                    bounds[b]->name().c_str(), c.kept, static_cast<double>(c.kept) / n,
                    static_cast<double>(c.kept) / r.k_eps, c.bound, c.tau);
      out << line;
    }
    std::snprintf(line, sizeof line,
                  "  identities at k_eps: TV half-L1 = %.6g (tau %+.2g); KL(P^|P) = %.6g "
                  "(-log1p(-tau) %+.2g); KL(P|P^) = %s\n",
                  r.tv_direct, r.tv_direct - r.tau, r.kl_direct, r.kl_direct - r.kl_identity,
                  std::isinf(r.kl_reverse) ? "inf" : format_shortest(r.kl_reverse).c_str());
    out << line;
    std::snprintf(line, sizeof line,
                  "  TV = 1 - exp(-KL) = %.6g; generic bounds: Pinsker %.6g, Bretagnolle-Huber "
                  "%.6g\n",
                  tv_from_kl(r.kl_identity), pinsker_bound(r.kl_identity),
                  bretagnolle_huber_bound(r.kl_identity));
    out << line;
  }
}

}  // namespace

int run_row_command(const std::vector<std::string>& args) {
  ArgParser parser("row", "tvk row [--eps LIST] [--block B] [--b3-groups R] [--json] [FILE|-]",
                   "Reads one row of logits (numbers separated by whitespace or commas; -inf masks "
                   "a key; # starts a comment)\nfrom FILE or standard input and prints n and, per "
                   "TV budget eps: the minimal certified k_eps,\nthe tail mass tau at k_eps, every "
                   "bound's certified k and price k_B/k_eps, and the identity checks\n(THEORY "
                   "§1–§2). b3 is the geometric multi-gap bound with the exact head; b4 keeps "
                   "blocks of --block keys.");
  parser.add_option("eps", "LIST", "comma-separated TV budgets in (0, 1)", "0.01,0.05,0.1");
  parser.add_option("block", "B", "block size of the blockwise bound b4", "16");
  parser.add_option("b3-groups", "R", "number of groups of the equal-grouping b3 variants", "8");
  parser.add_flag("json", "print one JSON object (numbers round-trip exact) instead of a table");
  parser.set_positionals("FILE", "file holding the row, or - for standard input (default -)", 0, 1);
  parser.set_epilog("example:\n  echo '3 2.5 1 0 -inf -1' | tvk row --eps 0.05 --json");
  if (!parser.parse(args)) return 0;

  const std::vector<double> eps = parse_eps_list(*parser.value("eps"));
  BoundOptions options;
  options.block = static_cast<std::size_t>(parse_integer(*parser.value("block"), "--block"));
  options.equal_groups =
      static_cast<std::size_t>(parse_integer(*parser.value("b3-groups"), "--b3-groups"));
  if (options.block < 1) throw InputError("--block: must be >= 1");
  if (options.equal_groups < 1) throw InputError("--b3-groups: must be >= 1");
  const std::string source = parser.positionals().empty() ? "-" : parser.positionals()[0];

  const std::vector<double> row = read_logit_row_file(source);
  const TailProfile profile(row);
  const std::size_t n = profile.n();

  const std::vector<std::unique_ptr<CertifyingBound>> bounds = make_all_bounds(options);
  std::vector<EpsResult> results;
  BoundScratch scratch;
  std::vector<Certificate> certificates;
  report_row(profile, eps, bounds, results, scratch, certificates);
  const std::string display = source == "-" ? "<stdin>" : source;
  if (parser.flag("json")) {
    print_json(std::cout, n, row.size() - n, bounds, results, options.block);
  } else {
    print_text(std::cout, display, n, row.size() - n, bounds, results);
  }
  return 0;
}

}  // namespace tvk::cli
