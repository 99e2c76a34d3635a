// The quantized search on a decoder store (THEORY §8), measured rather than checked: per key-code
// configuration (int8 per key, int8 groups of 16, int4 groups of 8, int8 with 4 sinks and 64
// recent keys), over the store's layers >= 1 and query rows with n >= 1024 at one eps, the mean
// scored / k_eps, kept / k_eps, scored / n, bytes / dense, the fraction of valid certificates
// and of dense fallbacks. Built with the benchmarks, run by hand (no test runs it): the checks
// on the same stores are tests/hdf5/quantized_store_test.cpp.
//
// Usage: quantized_store_bench [--store tests/fixtures/smollm2_store.h5] [--eps 0.05]
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <span>
#include <string>
#include <vector>

#include "core/certified/quantized_keys.h"
#include "core/certified/quantized_search.h"
#include "core/certified/row_major_scorer.h"
#include "core/certified/search.h"
#include "core/error.h"
#include "core/hdf5/logit_store.h"
#include "core/kernels/kernel_set.h"
#include "core/rows/tail_profile.h"
#include "experiments/cli/arg_parser.h"

namespace {

struct Options {
  std::string store;
  double eps = 0.05;
};

Options parse(int argc, char** argv) {
  tvk::cli::ArgParser parser(
      "quantized_store_bench", "quantized_store_bench [--store PATH] [--eps E]",
      "The quantized search over every head of a decoder store's layers >= 1, on the query\n"
      "rows with n >= 1024: one line per key-code configuration with the mean scored / k_eps,\n"
      "kept / k_eps, scored / n and bytes / dense, the fraction of valid certificates and of\n"
      "dense fallbacks, and sum(scored) / sum(k_eps).");
  parser.set_command("quantized_store_bench");
  parser.add_option("store", "PATH",
                    "a decoder logit store (run from the source tree: the fixture)",
                    "tests/fixtures/smollm2_store.h5");
  parser.add_option("eps", "E", "the certified tail mass, 0 < E < 1", "0.05");
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (!parser.parse(args)) std::exit(0);
  Options options;
  options.store = *parser.value("store");
  options.eps = tvk::cli::parse_double(*parser.value("eps"), "--eps");
  if (!(options.eps > 0.0 && options.eps < 1.0)) {
    throw tvk::InputError("--eps: must be in (0, 1), got " + *parser.value("eps"));
  }
  return options;
}

struct Configuration {
  const char* name;
  tvk::QuantizerOptions quantizer;
  std::size_t sinks, recent;
};

//! The means over rows of one configuration, printed as one line.
void measure(const tvk::LogitStore& store, const Configuration& config, double eps) {
  double ratio = 0.0, bytes = 0.0, scored_frac = 0.0, kept_ratio = 0.0, scored_sum = 0.0,
         k_eps_sum = 0.0;
  std::size_t rows = 0, valid = 0, fallback = 0;
  const auto& info = store.info();
  for (std::size_t s = 0; s < info.sequences.size(); ++s) {
    // Layer 0 (store index 0) is left out: its rows are dense.
    for (std::size_t l = 1; l < info.layers; ++l) {
      for (std::size_t h = 0; h < info.heads; ++h) {
        const tvk::HeadVectors vectors = store.read_head(s, l, h);
        const std::vector<double> keys = tvk::row_major(vectors.k),
                                  queries = tvk::row_major(vectors.q);
        const std::size_t d = info.head_dim, n = keys.size() / d;
        const tvk::RowMajorScorer scorer(keys, d, info.scale);
        const tvk::QuantizedKeys codes =
            tvk::QuantizedKeys::build(keys.data(), n, d, config.quantizer);
        tvk::QuantizedSearchScratch scratch;
        for (Eigen::Index r = 0; r < vectors.q.rows(); ++r) {
          const std::size_t count = vectors.key_count(r);
          if (count < 1024) continue;
          const double* q = queries.data() + static_cast<std::size_t>(r) * d;
          const std::vector<double> logits = scorer.all(q, count);
          const std::size_t k_eps = tvk::TailProfile(logits).k_eps(eps);
          tvk::QuantizedSearchOptions options;
          options.eps = eps;
          options.bytes = {d, d};
          options.sinks = config.sinks;
          options.recent = config.recent;
          const tvk::SearchResult result =
              tvk::quantized_search(codes, count, scorer, q, info.scale, options, scratch);
          const double tau = tvk::kept_set_tau(logits, result.kept_keys);
          ++rows;
          valid += tau <= result.bound && result.bound <= eps;
          fallback += result.dense_fallback;
          ratio += static_cast<double>(result.scored) / static_cast<double>(k_eps);
          scored_sum += static_cast<double>(result.scored);
          k_eps_sum += static_cast<double>(k_eps);
          kept_ratio += static_cast<double>(result.kept) / static_cast<double>(k_eps);
          scored_frac += static_cast<double>(result.scored) / static_cast<double>(count);
          bytes += result.bytes / options.bytes.dense(count);
        }
      }
    }
  }
  const double m = rows > 0 ? static_cast<double>(rows) : 1.0;
  std::printf(
      "%-36s rows %zu  scored/k_eps %.3f  kept/k_eps %.3f  scored/n %.3f  bytes/dense %.3f  "
      "valid %.4f  dense fallback %.4f  Σscored/Σk_eps %.3f\n",
      config.name, rows, ratio / m, kept_ratio / m, scored_frac / m, bytes / m,
      static_cast<double>(valid) / m, static_cast<double>(fallback) / m, scored_sum / k_eps_sum);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Options options = parse(argc, argv);
    const tvk::LogitStore store = tvk::LogitStore::open(options.store);
    const Configuration configs[] = {{"int8 per key", {8, 0}, 0, 0},
                                     {"int8 group 16", {8, 16}, 0, 0},
                                     {"int4 group 8", {4, 8}, 0, 0},
                                     {"int8 per key, sinks 4 + recent 64", {8, 0}, 4, 64}};
    for (const Configuration& config : configs)
      measure(store, config, options.eps);
    return 0;
  } catch (const tvk::InputError& e) {
    std::fprintf(stderr, "quantized_store_bench: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "quantized_store_bench: error: %s\n", e.what());
    return 1;
  }
}
