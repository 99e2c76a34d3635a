// One decode step of SmolLM2 attention on the CPU (make bench-decode): the last position's
// query of every head of every layer over the full store's KV cache, dense attention over
// 16-bit K/V against the certified step (int8 key codes bound every logit; exact scores in
// decreasing bound order until TV <= eps is proven), both multi-threaded over the (layer, KV
// head) groups, medians of repeated steps. Every certified head is checked against the exact
// attention computed in double: the true tail mass of its kept set <= its bound <= eps, and
// its output error <= its output bound.
//
// Usage: decode_bench [--store ~/.cache/tvk/stores/smollm2.h5] [--eps 0.05] [--repeats 15]
//                     [--threads 0] [--n N]
#include <tbb/enumerable_thread_specific.h>
#include <tbb/global_control.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <thread>
#include <vector>

#include "core/certified/decode_attention.h"
#include "core/error.h"
#include "core/hdf5/logit_store.h"
#include "core/kernels/kernel_set.h"
#include "core/numerics/binary16.h"

namespace {

struct Options {
  std::string store = std::string(std::getenv("HOME") != nullptr ? std::getenv("HOME") : ".") + "/.cache/tvk/stores/smollm2.h5";
  double eps = 0.05;
  int repeats = 15;
  int threads = 0;
  std::size_t n = 0;  // 0: every key of the sequence
};

void usage(int status) {
  std::printf(
      "usage: decode_bench [--store PATH] [--eps E] [--repeats R] [--threads T] [--n N]\n\n"
      "One decode step (the query at position n-1 of every head of every stored layer) over\n"
      "the logit store's KV cache: tvk's dense 16-bit attention against the certified step\n"
      "with int8 key codes, medians of R steps each (default: the full SmolLM2 store of make\n"
      "llm-store, eps 0.05, 15 steps, all cores, n = the sequence's length). The last line is\n"
      "  decode speedup: Z.ZZx at eps=E (dense D ms, certified C ms, n=N, bytes B of dense)\n");
  std::exit(status);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "decode_bench: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    try {
      if (a == "-h" || a == "--help")
        usage(0);
      else if (a == "--store")
        o.store = value();
      else if (a == "--eps")
        o.eps = std::stod(value());
      else if (a == "--repeats")
        o.repeats = std::stoi(value());
      else if (a == "--threads")
        o.threads = std::stoi(value());
      else if (a == "--n")
        o.n = static_cast<std::size_t>(std::stoull(value()));
      else {
        std::fprintf(stderr, "decode_bench: unknown argument '%s' (see --help)\n", a.c_str());
        std::exit(2);
      }
    } catch (const std::logic_error&) {
      std::fprintf(stderr, "decode_bench: bad value for %s\n", a.c_str());
      std::exit(2);
    }
  }
  if (!(o.eps > 0.0 && o.eps < 1.0) || o.repeats < 1 || o.threads < 0) {
    std::fprintf(stderr, "decode_bench: need 0 < eps < 1, repeats >= 1, threads >= 0\n");
    std::exit(2);
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
  std::vector<float> queries;  // heads × d
};

// Exact attention in double from the 16-bit values: the tail mass outside `kept` and the output.
struct Exact {
  double tail = 0.0;
  std::vector<double> output;
};

Exact exact_attention(const Group& g, std::size_t h, std::size_t n, double scale,
                      const std::vector<std::uint32_t>& kept_keys) {
  const std::size_t d = g.cache.dim();
  std::vector<double> s(n);
  for (std::size_t j = 0; j < n; ++j) {
    double dot = 0.0;
    for (std::size_t c = 0; c < d; ++c)
      dot +=
          static_cast<double>(g.queries[h * d + c]) * tvk::from_binary16(g.cache.keys()[j * d + c]);
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

}  // namespace

int main(int argc, char** argv) {
  const Options opt = parse(argc, argv);
  try {
    const auto store = tvk::LogitStore::open(opt.store);
    const auto& info = store.info();
    if (info.head_dim % 8 != 0 || info.head_dim > 64 || info.sequences.empty()) {
      throw tvk::InputError(opt.store + ": decode_bench needs head_dim a multiple of 8 up to 64");
    }
    const std::size_t d = info.head_dim;
    const std::size_t length = info.sequences[0].length;
    const std::size_t n = opt.n == 0 ? length : opt.n;
    if (n < 1 || n > length) {
      throw tvk::InputError(opt.store + ": --n " + std::to_string(n) + " outside [1, " +
                            std::to_string(length) + "]");
    }
    const auto& positions = info.sequences[0].query_positions;
    const auto at = std::find(positions.begin(), positions.end(), n - 1);
    if (at == positions.end()) {
      throw tvk::InputError(opt.store + ": no stored query at position " + std::to_string(n - 1));
    }
    const auto row = static_cast<Eigen::Index>(at - positions.begin());
    const auto scale = static_cast<float>(info.scale);

    std::printf("decode_bench: reading %s (%zu layers x %zu heads, %zu KV heads, d=%zu, n=%zu)\n",
                opt.store.c_str(), info.layers, info.heads, info.kv_heads, d, n);
    std::fflush(stdout);
    std::vector<Group> groups;
    for (std::size_t layer = 0; layer < info.layers; ++layer) {
      for (std::size_t kv = 0; kv < info.kv_heads; ++kv) {
        Group g;
        g.layer = layer;
        g.cache = tvk::KvCache(d);
        for (std::size_t h = 0; h < info.heads; ++h) {
          if (info.kv_head_of[h] != kv) continue;
          const tvk::HeadVectors hv = store.read_head(0, layer, h);
          if (g.heads.empty()) {
            std::vector<std::uint16_t> key(d), value(d);
            for (std::size_t j = 0; j < n; ++j) {
              for (std::size_t c = 0; c < d; ++c) {
                key[c] = tvk::to_binary16(static_cast<float>(
                    hv.k(static_cast<Eigen::Index>(j), static_cast<Eigen::Index>(c))));
                value[c] = tvk::to_binary16(static_cast<float>(
                    hv.v(static_cast<Eigen::Index>(j), static_cast<Eigen::Index>(c))));
              }
              g.cache.append(key.data(), value.data());
            }
          }
          g.heads.push_back(h);
          for (std::size_t c = 0; c < d; ++c)
            g.queries.push_back(tvk::from_binary16(
                tvk::to_binary16(static_cast<float>(hv.q(row, static_cast<Eigen::Index>(c))))));
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

    auto dense_step = [&] {
      arena.execute([&] {
        tbb::parallel_for(std::size_t{0}, groups.size(), [&](std::size_t gi) {
          const Group& g = groups[gi];
          tvk::dense_decode(g.cache, n, g.queries.data(), g.heads.size(), scale,
                            dense_out.data() + first_row[gi] * d, scratch.local());
        });
      });
    };
    auto certified_step = [&] {
      arena.execute([&] {
        tbb::parallel_for(std::size_t{0}, groups.size(), [&](std::size_t gi) {
          const Group& g = groups[gi];
          tvk::certified_decode(g.cache, n, g.queries.data(), g.heads.size(), scale, opt.eps,
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
    std::vector<double> dense_ms, certified_ms;
    for (int r = 0; r < opt.repeats; ++r) {  // interleaved, alternating which goes first
      if (r % 2 == 0) {
        dense_ms.push_back(time_ms(dense_step));
        certified_ms.push_back(time_ms(certified_step));
      } else {
        certified_ms.push_back(time_ms(certified_step));
        dense_ms.push_back(time_ms(dense_step));
      }
    }

    // Check every certified head against exact double attention.
    std::size_t valid = 0, output_valid = 0, fallbacks = 0;
    double scored = 0.0, kept = 0.0, bytes = 0.0, dense_bytes = 0.0, worst_ratio = 0.0;
    double worst_output = 0.0, dense_error = 0.0;
    std::vector<double> tau_ratio;
    for (std::size_t gi = 0; gi < groups.size(); ++gi) {
      const Group& g = groups[gi];
      // The kept keys, from one more certified call for the group (the timed steps keep
      // only counts); its results are the timed ones (the step is deterministic).
      tvk::DecodeScratch local;
      std::vector<float> out(g.heads.size() * d);
      std::vector<tvk::CertifiedDecodeHead> again(g.heads.size());
      std::vector<std::vector<std::uint32_t>> kept_sets(g.heads.size());
      tvk::certified_decode(g.cache, n, g.queries.data(), g.heads.size(), scale, opt.eps,
                            out.data(), again.data(), local, kept_sets.data());
      for (std::size_t hi = 0; hi < g.heads.size(); ++hi) {
        const std::size_t r = first_row[gi] + hi;
        const tvk::CertifiedDecodeHead& res = results[r];
        const std::vector<std::uint32_t>& kept_keys = kept_sets[hi];
        const Exact e = exact_attention(g, hi, n, info.scale, kept_keys);
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
        // float arithmetic of the kept output: 1e-5 of the largest value norm
        output_valid += err <= res.output_bound + 1e-5 * g.cache.value_norm_max();
        if (res.output_bound > 0) worst_output = std::max(worst_output, err / res.output_bound);
        fallbacks += res.dense_fallback;
        scored += static_cast<double>(res.scored);
        kept += static_cast<double>(res.kept);
        bytes += res.bytes;
        dense_bytes += res.dense_bytes;
        worst_ratio = std::max(worst_ratio, res.tau_bound > 0 ? e.tail / res.tau_bound : 0.0);
      }
    }
    const double dense = median(dense_ms), certified = median(certified_ms);
    const double rn = static_cast<double>(rows) * static_cast<double>(n);
    const double cache_mb = 4.0 * static_cast<double>(d * n * groups.size()) / 1e6;
    std::printf(
        "kernels %s, threads %d, %zu heads (%zu KV groups), 16-bit K+V cache %.1f MB, int8 codes "
        "%.1f MB\n",
        tvk::kernels::active_kernels().name, threads, rows, groups.size(), cache_mb,
        groups[0].cache.codes().bytes_per_key() * static_cast<double>(n * groups.size()) / 1e6);
    std::printf(
        "dense (tvk, 16-bit K/V, online softmax): median %.2f ms over %d steps (min %.2f, max "
        "%.2f); max |o - exact| %.2e\n",
        dense, opt.repeats, *std::min_element(dense_ms.begin(), dense_ms.end()),
        *std::max_element(dense_ms.begin(), dense_ms.end()), dense_error);
    std::printf(
        "certified (int8 key codes, eps=%.2f): median %.2f ms (min %.2f, max %.2f); scored/n %.4f, "
        "kept/n %.4f, bytes %.3f of dense, dense fallbacks %zu\n",
        opt.eps, certified, *std::min_element(certified_ms.begin(), certified_ms.end()),
        *std::max_element(certified_ms.begin(), certified_ms.end()), scored / rn, kept / rn,
        bytes / dense_bytes, fallbacks);
    std::printf(
        "certificates: %zu/%zu heads with true tail <= bound <= eps (tail/bound median %.3f, max "
        "%.3f); output error <= bound on %zu/%zu (max error/bound %.3f)\n",
        valid, rows, tau_ratio.empty() ? 0.0 : median(tau_ratio), worst_ratio, output_valid, rows,
        worst_output);
    std::printf(
        "decode speedup: %.2fx at eps=%.2f (dense %.2f ms, certified %.2f ms, n=%zu, bytes %.3f of "
        "dense)\n",
        dense / certified, opt.eps, dense, certified, n, bytes / dense_bytes);
    return valid == rows && output_valid == rows ? 0 : 1;
  } catch (const tvk::InputError& e) {
    std::fprintf(stderr, "decode_bench: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "decode_bench: error: %s\n", e.what());
    return 1;
  }
}
