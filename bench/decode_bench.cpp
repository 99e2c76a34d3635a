// One decode step of SmolLM2 attention on the CPU (make bench-decode): the last position's
// query of every head of every layer over the full store's KV cache, dense attention over
// 16-bit K/V against the certified step (int8 key codes bound every logit; exact scores in
// decreasing bound order until TV <= eps is proven), both multi-threaded over the (layer, KV
// head) groups, medians of repeated steps. Every certified head is checked against the exact
// attention computed in double: the true tail mass of its kept set <= its bound <= eps, and
// its output error <= its output bound.
//
// Usage: decode_bench [--store ~/.cache/tvk/stores/smollm2.h5] [--eps 0.05] [--repeats 15]
//                     [--threads 0] [--n N | --n-list N,N...]
#include <tbb/enumerable_thread_specific.h>
#include <tbb/global_control.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <thread>
#include <vector>

#include "bench/cpu_model.h"
#include "bench/read_bandwidth.h"
#include "core/certified/decode_attention.h"
#include "core/engine/thread_count.h"
#include "core/error.h"
#include "core/hdf5/logit_store.h"
#include "core/kernels/kernel_set.h"
#include "core/numerics/binary16.h"
#include "experiments/cli/arg_parser.h"

namespace {

struct Options {
  std::string store;
  double eps = 0.05;
  int bits = 8;           // key code bits of the certified step's summary
  bool two_tier = false;  // int8 codes in two tiers, 6 + 2 bits (KvCache two_tier)
  int repeats = 15;
  int threads = 0;
  std::vector<std::size_t> n_list;  // empty: every key of the sequence
};

// The store make llm-store builds once per machine ($TVK_STORE_DIR, else ~/.cache/tvk/stores).
std::string default_store() {
  if (const char* dir = std::getenv("TVK_STORE_DIR"); dir != nullptr && *dir != '\0') {
    return std::string(dir) + "/smollm2.h5";
  }
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr ? home : ".") + "/.cache/tvk/stores/smollm2.h5";
}

// The project's argument parser: a value that is not wholly a number in range is one error
// line naming the option, exit 2 (never a silently truncated value).
Options parse(int argc, char** argv) {
  tvk::cli::ArgParser parser(
      "decode_bench",
      "decode_bench [--store PATH] [--eps E] [--bits B] [--two-tier] [--repeats R] [--threads T] "
      "[--n-list "
      "N,N...]",
      "One decode step (the query at position n-1 of every head of every stored layer) over\n"
      "the logit store's KV cache: tvk's dense 16-bit attention against the certified step\n"
      "with int8 (int4, or int8 in two tiers) key codes, medians of R steps each, beside\n"
      "the machine's read bandwidth (a streaming read of as many bytes as the dense cache,\n"
      "timed at the start and once in every round of the steps; a step's share of the\n"
      "bandwidth is against the median of its rounds' passes) and a breakdown of the\n"
      "certified step by phase. The last line (for the last n) is\n"
      "  decode speedup: Z.ZZx at eps=E (dense D ms at P% of bandwidth, certified C ms, n=N,\n"
      "  bytes B of dense)");
  parser.set_command("decode_bench");
  parser.add_option("store", "PATH", "the logit store (the SmolLM2 store of make llm-store)",
                    default_store());
  parser.add_option("eps", "E", "the certified tail mass, 0 < E < 1", "0.05");
  parser.add_option("bits", "B", "key code bits of the certified step's summary, 8 or 4", "8");
  parser.add_flag("two-tier",
                  "the int8 codes in two tiers: their high 6 bits for every key, the last 2 only "
                  "for the tiles near the top");
  parser.add_option("repeats", "R", "timed steps of each kind, 1 to 1000000", "15");
  parser.add_option(
      "threads", "T",
      "worker threads, at most " + std::to_string(tvk::kMaxThreads) + " (0 = all cores)", "0");
  parser.add_option("n", "N", "keys of the step (0 = the sequence's length)", "0");
  parser.add_option("n-list", "N,N...", "several step lengths, e.g. 1024,2048,4096,8192", "");
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!parser.parse(args)) std::exit(0);
  Options o;
  o.store = *parser.value("store");
  o.eps = tvk::cli::parse_double(*parser.value("eps"), "--eps");
  if (!(o.eps > 0.0 && o.eps < 1.0)) {
    throw tvk::InputError("--eps: must be in (0, 1), got " + *parser.value("eps"));
  }
  const long long bits = tvk::cli::parse_integer(*parser.value("bits"), "--bits");
  if (bits != 8 && bits != 4) {
    throw tvk::InputError("--bits: must be 8 or 4, got " + *parser.value("bits"));
  }
  o.bits = static_cast<int>(bits);
  o.two_tier = parser.flag("two-tier");
  if (o.two_tier && o.bits != 8)
    throw tvk::InputError(
        "--two-tier: the two tiers split int8 codes; it cannot be combined with --bits 4");
  const long long repeats = tvk::cli::parse_integer(*parser.value("repeats"), "--repeats");
  if (repeats < 1 || repeats > 1000000) {
    throw tvk::InputError("--repeats: must be in 1..1000000, got " + *parser.value("repeats"));
  }
  o.repeats = static_cast<int>(repeats);
  const long long threads = tvk::cli::parse_integer(*parser.value("threads"), "--threads");
  if (threads > static_cast<long long>(tvk::kMaxThreads)) {
    throw tvk::InputError("--threads: " + *parser.value("threads") + " is more than " +
                          std::to_string(tvk::kMaxThreads) + " (0 = all cores)");
  }
  o.threads = static_cast<int>(threads);
  const long long n = tvk::cli::parse_integer(*parser.value("n"), "--n");
  if (n < 0) throw tvk::InputError("--n: must be >= 0, got " + *parser.value("n"));
  if (n > 0) o.n_list.push_back(static_cast<std::size_t>(n));
  const std::string list = parser.value_or("n-list", "");
  for (std::size_t at = 0; !list.empty() && at <= list.size();) {
    const std::size_t comma = std::min(list.find(',', at), list.size());
    const std::string item = list.substr(at, comma - at);
    const long long value = tvk::cli::parse_integer(item, "--n-list");
    if (value < 1) throw tvk::InputError("--n-list: lengths must be >= 1, got '" + item + "'");
    o.n_list.push_back(static_cast<std::size_t>(value));
    at = comma + 1;
  }
  return o;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : 0.5 * (v[m - 1] + v[m]);
}

// One (layer, KV head) group: its cache and the queries of the heads that share it.
struct Group {
  std::size_t layer = 0;
  std::vector<std::size_t> heads;
  tvk::KvCache cache{64};
  std::vector<std::vector<float>> queries;  // per step length: heads × d
};

// Exact attention in double from the 16-bit values: the tail mass outside `kept` and the output.
struct Exact {
  double tail = 0.0;
  std::vector<double> output;
};

Exact exact_attention(const Group& g, const float* q, std::size_t n, double scale,
                      const std::vector<std::uint32_t>& kept_keys) {
  const std::size_t d = g.cache.dim();
  std::vector<double> s(n);
  for (std::size_t j = 0; j < n; ++j) {
    double dot = 0.0;
    for (std::size_t c = 0; c < d; ++c)
      dot += static_cast<double>(q[c]) * tvk::from_binary16(g.cache.keys()[j * d + c]);
    s[j] = scale * dot;
  }
  const double top = *std::max_element(s.begin(), s.end());
  std::vector<double> w(n);
  std::vector<char> in_k(n, 0);
  for (const auto j : kept_keys)
    in_k[j] = 1;
  std::vector<double> tail_weights;
  for (std::size_t j = 0; j < n; ++j) {
    w[j] = std::exp(s[j] - top);
    if (!in_k[j]) tail_weights.push_back(w[j]);
  }
  std::vector<double> sorted = w;
  std::sort(sorted.begin(), sorted.end());
  std::sort(tail_weights.begin(), tail_weights.end());
  double total = 0.0, tail = 0.0;
  for (const double x : sorted)
    total += x;  // from the bottom
  for (const double x : tail_weights)
    tail += x;
  Exact e;
  e.tail = tail / total;
  e.output.assign(d, 0.0);
  for (std::size_t j = 0; j < n; ++j) {
    for (std::size_t c = 0; c < d; ++c) {
      const double v = tvk::from_binary16(g.cache.values()[j * d + c]);
      e.output[c] += w[j] / total * v;
    }
  }
  return e;
}

// What one step length measured.
struct LengthResult {
  std::size_t n = 0;
  double dense_ms = 0.0, certified_ms = 0.0, dense_bytes = 0.0, certified_bytes = 0.0;
  double bandwidth = 0.0;  // bytes per second: the median of the passes beside these steps
  bool valid = true;
};

const char* const kPhaseNames[] = {"summary pass over the codes", "selection", "exact scores",
                                   "values and output bound"};

}  // namespace

int main(int argc, char** argv) {
  try {
    const Options opt = parse(argc, argv);
    const auto store = tvk::LogitStore::open(opt.store);
    const auto& info = store.info();
    if (info.head_dim % 8 != 0 || info.head_dim > 64 || info.sequences.empty()) {
      throw tvk::InputError(opt.store + ": decode_bench needs head_dim a multiple of 8 up to 64");
    }
    const std::size_t d = info.head_dim;
    const std::size_t length = info.sequences[0].length;
    std::vector<std::size_t> lengths = opt.n_list;
    if (lengths.empty()) lengths.push_back(length);
    const auto& positions = info.sequences[0].query_positions;
    std::vector<Eigen::Index> query_rows;  // the stored query row at position n - 1, per n
    for (const std::size_t n : lengths) {
      if (n > length) {
        throw tvk::InputError(opt.store + ": n " + std::to_string(n) + " is beyond the stored " +
                              std::to_string(length) + " keys");
      }
      const auto at = std::find(positions.begin(), positions.end(), n - 1);
      if (at == positions.end()) {
        throw tvk::InputError(opt.store + ": no stored query at position " + std::to_string(n - 1));
      }
      query_rows.push_back(static_cast<Eigen::Index>(at - positions.begin()));
    }
    const std::size_t longest = *std::max_element(lengths.begin(), lengths.end());
    const auto scale = static_cast<float>(info.scale);

    std::printf("decode_bench: reading %s (%zu layers x %zu heads, %zu KV heads, d=%zu, n=%zu)\n",
                opt.store.c_str(), info.layers, info.heads, info.kv_heads, d, longest);
    std::fflush(stdout);
    std::vector<Group> groups;
    double append_seconds = 0.0;  // appending every key to every cache, one thread
    for (std::size_t layer = 0; layer < info.layers; ++layer) {
      for (std::size_t kv = 0; kv < info.kv_heads; ++kv) {
        Group g;
        g.layer = layer;
        g.cache = tvk::KvCache(d, opt.bits, opt.two_tier);
        g.queries.resize(lengths.size());
        for (std::size_t h = 0; h < info.heads; ++h) {
          if (info.kv_head_of[h] != kv) continue;
          const tvk::HeadVectors hv = store.read_head(0, layer, h);
          if (g.heads.empty()) {
            std::vector<std::uint16_t> keys(longest * d), values(longest * d);
            for (std::size_t j = 0; j < longest; ++j) {
              for (std::size_t c = 0; c < d; ++c) {
                keys[j * d + c] = tvk::to_binary16(static_cast<float>(
                    hv.k(static_cast<Eigen::Index>(j), static_cast<Eigen::Index>(c))));
                values[j * d + c] = tvk::to_binary16(static_cast<float>(
                    hv.v(static_cast<Eigen::Index>(j), static_cast<Eigen::Index>(c))));
              }
            }
            // A decoder appends one key per step: its codes, tile, value extremes (O(d)).
            const auto start = std::chrono::steady_clock::now();
            for (std::size_t j = 0; j < longest; ++j)
              g.cache.append(keys.data() + j * d, values.data() + j * d);
            append_seconds +=
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
          }
          g.heads.push_back(h);
          for (std::size_t li = 0; li < lengths.size(); ++li) {
            for (std::size_t c = 0; c < d; ++c)
              g.queries[li].push_back(tvk::from_binary16(tvk::to_binary16(
                  static_cast<float>(hv.q(query_rows[li], static_cast<Eigen::Index>(c))))));
          }
        }
        if (g.heads.size() > 4)
          throw tvk::InputError(opt.store + ": more than 4 query heads per KV head");
        groups.push_back(std::move(g));
      }
    }
    const std::size_t rows = info.layers * info.heads;

    const int threads =
        opt.threads == 0 ? static_cast<int>(std::thread::hardware_concurrency()) : opt.threads;
    tbb::global_control control(tbb::global_control::max_allowed_parallelism,
                                static_cast<std::size_t>(threads));
    tbb::task_arena arena(threads);
    tbb::enumerable_thread_specific<tvk::DecodeScratch> scratch;
    std::vector<float> dense_out(rows * d), certified_out(rows * d);
    std::vector<tvk::CertifiedDecodeHead> results(rows);
    std::vector<std::size_t> first_row(groups.size());  // the first output row of each group
    for (std::size_t gi = 1; gi < groups.size(); ++gi)
      first_row[gi] = first_row[gi - 1] + groups[gi - 1].heads.size();

    // The roofline: a streaming read of as many bytes as the longest dense step reads, timed
    // now and once in every round of each length's steps (the shares use those rounds').
    const double cache_bytes = 4.0 * static_cast<double>(d * longest * groups.size());
    tvk::bench::ReadBandwidth stream(static_cast<std::size_t>(cache_bytes), threads);
    stream.pass();  // untimed: the first pass after the buffer was written
    std::vector<double> start_rates;
    for (int r = 0; r < 7; ++r)
      start_rates.push_back(stream.pass());
    const double start_bandwidth = median(start_rates);
    const double keys_total = static_cast<double>(longest * groups.size());
    const double code_mb = groups[0].cache.codes().bytes_per_key() * keys_total / 1e6;
    std::printf(
        "cpu %s; kernels %s, threads %d, %zu heads (%zu KV groups), 16-bit K+V cache "
        "%.1f MB, ",
        tvk::bench::cpu_model().c_str(), tvk::kernels::active_kernels().name, threads, rows,
        groups.size(), cache_bytes / 1e6);
    if (opt.two_tier) {
      std::printf(
          "int8 codes in two tiers: %.1f MB of 6-bit codes, scales and radii, %.1f MB of "
          "their last 2 bits\n",
          (0.75 * static_cast<double>(d) + 4.0) * keys_total / 1e6,
          static_cast<double>(d) / 4.0 * keys_total / 1e6);
    } else {
      std::printf("int%d codes %.1f MB%s\n", opt.bits, code_mb,
                  opt.bits == 4
                      ? " (packed size; held one per byte, so the summary pass reads twice that)"
                      : "");
    }
    std::printf(
        "read bandwidth (%d threads, streaming %.1f MB): %.1f GB/s at the start (median of 7 "
        "passes)\n",
        threads, cache_bytes / 1e6, start_bandwidth / 1e9);
    std::fflush(stdout);

    std::vector<LengthResult> summary;
    for (std::size_t li = 0; li < lengths.size(); ++li) {
      const std::size_t n = lengths[li];
      auto dense_step = [&] {
        arena.execute([&] {
          tbb::parallel_for(std::size_t{0}, groups.size(), [&](std::size_t gi) {
            const Group& g = groups[gi];
            tvk::dense_decode(g.cache, n, g.queries[li].data(), g.heads.size(), scale,
                              dense_out.data() + first_row[gi] * d, scratch.local());
          });
        });
      };
      auto certified_step = [&] {
        arena.execute([&] {
          tbb::parallel_for(std::size_t{0}, groups.size(), [&](std::size_t gi) {
            const Group& g = groups[gi];
            tvk::certified_decode(g.cache, n, g.queries[li].data(), g.heads.size(), scale, opt.eps,
                                  certified_out.data() + first_row[gi] * d,
                                  results.data() + first_row[gi], scratch.local());
          });
        });
      };
      using Clock = std::chrono::steady_clock;
      auto time_ms = [](auto&& step) {
        const auto t0 = Clock::now();
        step();
        return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
      };
      dense_step();  // warm-up (page faults, thread start)
      certified_step();
      std::vector<double> dense_ms, certified_ms, rates;
      for (int r = 0; r < opt.repeats; ++r) {  // interleaved, alternating which goes first
        rates.push_back(stream.pass());        // the bandwidth under this round's load
        if (r % 2 == 0) {
          dense_ms.push_back(time_ms(dense_step));
          certified_ms.push_back(time_ms(certified_step));
        } else {
          certified_ms.push_back(time_ms(certified_step));
          dense_ms.push_back(time_ms(dense_step));
        }
      }
      // The phases, from separate steps timed phase by phase (the clock reads cost a little).
      for (auto& local : scratch) {
        local.time_phases = true;
        local.phase_seconds.fill(0.0);
      }
      const int phase_steps = std::min(opt.repeats, 5);
      for (int r = 0; r < phase_steps; ++r)
        certified_step();
      std::array<double, 4> phase{};
      for (auto& local : scratch) {
        for (std::size_t p = 0; p < phase.size(); ++p)
          phase[p] += local.phase_seconds[p];
        local.time_phases = false;
      }

      // Check every certified head against exact double attention, without slack.
      std::size_t valid = 0, output_valid = 0, fallbacks = 0;
      double scored = 0.0, kept = 0.0, refined = 0.0, bytes = 0.0, dense_bytes = 0.0,
             worst_ratio = 0.0;
      double worst_output = 0.0, dense_error = 0.0;
      // What a step reads once each: a group's summary once, and each key and value row its
      // heads score or keep once (a row two heads need is read once; bytes above count it for
      // each head, as the dense bytes count the group's K and V for each head).
      double step_read = 0.0;
      std::vector<std::uint32_t> rows_read;
      std::vector<double> tau_ratio;
      for (std::size_t gi = 0; gi < groups.size(); ++gi) {
        const Group& g = groups[gi];
        // The kept keys, from one more certified call for the group (the timed steps keep
        // only counts); its results are the timed ones (the step is deterministic).
        tvk::DecodeScratch local;
        std::vector<float> out(g.heads.size() * d);
        std::vector<tvk::CertifiedDecodeHead> again(g.heads.size());
        std::vector<std::vector<std::uint32_t>> kept_sets(g.heads.size());
        tvk::certified_decode(g.cache, n, g.queries[li].data(), g.heads.size(), scale, opt.eps,
                              out.data(), again.data(), local, kept_sets.data());
        // The rows read are the kept sets' union, a key row and a value row each, and the key
        // rows of the keys scored past K (counted as distinct: at most 63 a head).
        const tvk::CertifiedDecodeHead& first = results[first_row[gi]];
        rows_read.clear();
        for (const auto& set : kept_sets)
          rows_read.insert(rows_read.end(), set.begin(), set.end());
        std::sort(rows_read.begin(), rows_read.end());
        const auto distinct = static_cast<double>(std::unique(rows_read.begin(), rows_read.end()) -
                                                  rows_read.begin());
        double ahead_rows = 0.0;
        for (const tvk::CertifiedDecodeHead& head : again)
          ahead_rows += static_cast<double>(head.scored - head.kept);
        step_read += first.bytes -
                     2.0 * static_cast<double>(d) * static_cast<double>(first.scored + first.kept) +
                     4.0 * static_cast<double>(d) * distinct +
                     2.0 * static_cast<double>(d) * ahead_rows;
        for (std::size_t hi = 0; hi < g.heads.size(); ++hi) {
          const std::size_t r = first_row[gi] + hi;
          const tvk::CertifiedDecodeHead& res = results[r];
          const std::vector<std::uint32_t>& kept_keys = kept_sets[hi];
          const Exact e =
              exact_attention(g, g.queries[li].data() + hi * d, n, info.scale, kept_keys);
          const bool ok =
              e.tail <= res.tau_bound && res.tau_bound <= opt.eps && kept_keys.size() == res.kept;
          valid += ok;
          if (res.tau_bound > 0) tau_ratio.push_back(e.tail / res.tau_bound);
          double err = 0.0, derr = 0.0;
          for (std::size_t c = 0; c < d; ++c) {
            err += std::pow(e.output[c] - certified_out[r * d + c], 2);
            derr = std::max(derr, std::abs(e.output[c] - dense_out[r * d + c]));
          }
          err = std::sqrt(err);
          dense_error = std::max(dense_error, derr);
          output_valid += err <= res.output_bound;  // the bound covers the float output itself
          if (res.output_bound > 0) worst_output = std::max(worst_output, err / res.output_bound);
          fallbacks += res.dense_fallback;
          scored += static_cast<double>(res.scored);
          kept += static_cast<double>(res.kept);
          refined += static_cast<double>(res.refined);
          bytes += res.bytes;
          dense_bytes += res.dense_bytes;
          worst_ratio = std::max(worst_ratio, res.tau_bound > 0 ? e.tail / res.tau_bound : 0.0);
        }
      }
      const double dense = median(dense_ms), certified = median(certified_ms);
      const double bandwidth = median(rates);
      const double rn = static_cast<double>(rows) * static_cast<double>(n);
      // The bytes each step must read: dense 16-bit K and V of every key once (the heads of a
      // group share them); certified: codes, scored keys and kept values (CertifiedDecodeHead).
      const double dense_read = 4.0 * static_cast<double>(d * n * groups.size());
      std::printf("\nn=%zu\n", n);
      std::printf(
          "read bandwidth beside these steps: median %.1f GB/s over %d passes, one in each round "
          "(min %.1f, max %.1f)\n",
          bandwidth / 1e9, opt.repeats, *std::min_element(rates.begin(), rates.end()) / 1e9,
          *std::max_element(rates.begin(), rates.end()) / 1e9);
      std::printf(
          "dense (tvk, 16-bit K/V, online softmax): median %.2f ms over %d steps (min %.2f, max "
          "%.2f), %.0f%% of the read bandwidth; max |o - exact| %.2e\n",
          dense, opt.repeats, *std::min_element(dense_ms.begin(), dense_ms.end()),
          *std::max_element(dense_ms.begin(), dense_ms.end()),
          100.0 * dense_read / (dense * 1e-3) / bandwidth, dense_error);
      std::printf(
          "certified (%s key codes, eps=%.2f): median %.2f ms (min %.2f, max %.2f), %.0f%% of "
          "the read bandwidth; scored/n %.4f, kept/n %.4f, bytes %.3f of dense, dense fallbacks "
          "%zu\n",
          opt.two_tier    ? "two-tier int8"
          : opt.bits == 4 ? "int4"
                          : "int8",
          opt.eps, certified, *std::min_element(certified_ms.begin(), certified_ms.end()),
          *std::max_element(certified_ms.begin(), certified_ms.end()),
          100.0 * (bytes / dense_bytes * dense_read) / (certified * 1e-3) / bandwidth, scored / rn,
          kept / rn, bytes / dense_bytes, fallbacks);
      std::printf(
          "certified step reads %.1f MB (each row once per KV group: %.3f of dense's %.1f MB), "
          "%.0f%% of the read bandwidth\n",
          step_read / 1e6, step_read / dense_read, dense_read / 1e6,
          100.0 * step_read / (certified * 1e-3) / bandwidth);
      if (opt.two_tier)
        std::printf("two tiers: second tier read for %.4f of the keys\n", refined / rn);
      double phase_total = 0.0;
      for (const double p : phase)
        phase_total += p;
      std::printf("certified phases (thread time per step, %d threads):", threads);
      for (std::size_t p = 0; p < phase.size(); ++p) {
        std::printf("%s %s %.2f ms (%.0f%%)", p ? "," : "", kPhaseNames[p],
                    1e3 * phase[p] / phase_steps, 100.0 * phase[p] / phase_total);
      }
      std::printf("\n");
      std::printf(
          "certificates: %zu/%zu heads with true tail <= bound <= eps (tail/bound median %.3f, max "
          "%.3f); output error <= output bound on %zu/%zu, no slack (max error/bound %.3f)\n",
          valid, rows, tau_ratio.empty() ? 0.0 : median(tau_ratio), worst_ratio, output_valid, rows,
          worst_output);
      std::fflush(stdout);
      summary.push_back({n, dense, certified, dense_read, bytes / dense_bytes, bandwidth,
                         valid == rows && output_valid == rows});
    }

    // The append-then-step loop: appending step n's key to each cache costs this, once per step.
    const double append_ms = 1e3 * append_seconds / static_cast<double>(longest);
    std::printf(
        "\nappend one key to each of the %zu caches (codes, tile, value extremes; one thread): "
        "%.3f ms a step, %.1f%% of the certified step at n=%zu; append + certified step %.2f ms\n",
        groups.size(), append_ms, 100.0 * append_ms / summary.back().certified_ms, summary.back().n,
        append_ms + summary.back().certified_ms);
    std::printf("\n    n   dense ms  %%bw  certified ms  speedup  bytes/dense\n");
    bool all_valid = true;
    for (const LengthResult& r : summary) {
      std::printf("%5zu  %9.2f  %3.0f  %12.2f  %6.2fx  %11.3f%s\n", r.n, r.dense_ms,
                  100.0 * r.dense_bytes / (r.dense_ms * 1e-3) / r.bandwidth, r.certified_ms,
                  r.dense_ms / r.certified_ms, r.certified_bytes,
                  r.valid ? "" : "  CERTIFICATE FAILED");
      all_valid = all_valid && r.valid;
    }
    const LengthResult& last = summary.back();
    std::printf(
        "decode speedup: %.2fx at eps=%.2f (dense %.2f ms at %.0f%% of bandwidth, certified %.2f "
        "ms, n=%zu, bytes %.3f of dense)\n",
        last.dense_ms / last.certified_ms, opt.eps, last.dense_ms,
        100.0 * last.dense_bytes / (last.dense_ms * 1e-3) / last.bandwidth, last.certified_ms,
        last.n, last.certified_bytes);
    return all_valid ? 0 : 1;
  } catch (const tvk::InputError& e) {
    std::fprintf(stderr, "decode_bench: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "decode_bench: error: %s\n", e.what());
    return 1;
  }
}
