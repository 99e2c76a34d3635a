// Micro-benchmarks of the per-row pipeline at n = 512 and 4096 (gaussian sigma = 2, eps = 0.05):
// where the time of a sweep row goes. Run: build/bench/components_bench
#include <benchmark/benchmark.h>

#include <memory>
#include <vector>

#include "core/bounds/bound_registry.h"
#include "core/models/model_registry.h"
#include "core/random/normal_block.h"
#include "core/rows/descending_order.h"
#include "core/rows/row_analysis.h"
#include "core/rows/tail_profile.h"

namespace {

std::vector<double> gaussian_row(std::size_t n, std::uint64_t seed) {
  auto model = tvk::make_model("gaussian", {{"sigma", 2.0}});
  std::vector<double> row(n);
  tvk::RandomStream stream(seed);
  model->sample(stream, row);
  return row;
}

void BM_SampleGaussian(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  auto model = tvk::make_model("gaussian", {{"sigma", 2.0}});
  std::vector<double> row(n);
  tvk::RandomStream stream(1);
  for (auto _ : state) {
    model->sample(stream, row);
    benchmark::DoNotOptimize(row.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<long>(n));
}

void BM_StandardNormals(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  std::vector<double> row(n);
  tvk::RandomStream stream(1);
  for (auto _ : state) {
    tvk::fill_standard_normals(stream, row);
    benchmark::DoNotOptimize(row.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<long>(n));
}

void BM_TailProfile(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto row = gaussian_row(n, 7);
  tvk::TailProfile profile;
  for (auto _ : state) {
    profile.assign(row);
    benchmark::DoNotOptimize(profile.total());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<long>(n));
}

// A pool of fresh rows, so that branch predictors cannot learn one row's sort.
void BM_DescendingOrder(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  std::vector<std::vector<double>> pool;
  for (std::uint64_t seed = 1; seed <= 64; ++seed)
    pool.push_back(gaussian_row(n, seed));
  std::vector<std::uint32_t> order;
  tvk::SortScratch scratch;
  std::size_t next = 0;
  for (auto _ : state) {
    tvk::descending_order(pool[next++ % pool.size()], order, scratch);
    benchmark::DoNotOptimize(order.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<long>(n));
}

void BM_Certify(benchmark::State& state, const char* name) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto row = gaussian_row(n, 7);
  tvk::TailProfile profile(row);
  auto bound = tvk::make_bound(name, tvk::BoundOptions{});
  const std::vector<double> eps = {0.05};
  const std::vector<std::size_t> k = {profile.k_eps(0.05)};
  std::vector<tvk::Certificate> out(1);
  tvk::BoundScratch scratch;
  for (auto _ : state) {
    bound->certify(profile, eps, k, out, scratch);
    benchmark::DoNotOptimize(out[0].kept);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<long>(n));
}

void BM_RowAnalysisB1B2(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  auto plan = std::make_shared<tvk::RowAnalysisPlan>();
  plan->eps = {0.05};
  plan->bounds = {tvk::make_bound("b1", {}), tvk::make_bound("b2", {})};
  tvk::RowAnalyzer analyzer(plan);
  tvk::RowAnalysis analysis;
  auto model = tvk::make_model("gaussian", {{"sigma", 2.0}});
  std::vector<double> row(n);
  std::uint64_t seed = 0;
  for (auto _ : state) {
    tvk::RandomStream stream(++seed);
    model->sample(stream, row);
    analyzer.analyze(row, analysis);
    benchmark::DoNotOptimize(analysis.k_eps[0]);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<long>(n));
}

}  // namespace

BENCHMARK(BM_SampleGaussian)->Arg(512)->Arg(4096);
BENCHMARK(BM_StandardNormals)->Arg(512)->Arg(4096);
BENCHMARK(BM_DescendingOrder)->Arg(512)->Arg(4096);
BENCHMARK(BM_TailProfile)->Arg(512)->Arg(4096);
BENCHMARK_CAPTURE(BM_Certify, b1, "b1")->Arg(512)->Arg(4096);
BENCHMARK_CAPTURE(BM_Certify, b2, "b2")->Arg(512)->Arg(4096);
BENCHMARK_CAPTURE(BM_Certify, b3, "b3")->Arg(512)->Arg(4096);
BENCHMARK_CAPTURE(BM_Certify, b4, "b4")->Arg(512)->Arg(4096);
BENCHMARK(BM_RowAnalysisB1B2)->Arg(512)->Arg(4096);
BENCHMARK_MAIN();
