// Join and reduce on 1M updates, loaded at once and then changed a little at
// a time. The "Load" benchmarks isolate building the arrangements and the
// operator's first evaluation; the "Round" benchmarks isolate the cost of one
// small change against that loaded state (it must not grow with the input).
//
//   build/bench/operators_bench --benchmark_repetitions=5
//   --benchmark_report_aggregates_only=true
#include <cstdint>
#include <memory>
#include <random>
#include <utility>
#include <vector>

#include "benchmark/benchmark.h"
#include "engine/graph.h"
#include "engine/input.h"
#include "engine/probe.h"
#include "operators/count.h"
#include "operators/inspect.h"
#include "operators/join.h"
#include "operators/reduce.h"

namespace diffmesh {
namespace {

using Pair = std::pair<uint32_t, uint32_t>;
constexpr size_t kUpdates = 1'000'000;

std::vector<Pair> RandomPairs(size_t n, uint32_t keys, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Pair> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) out.emplace_back(rng() % keys, rng() % 1000);
  return out;
}

// A join of two 500K-pair collections (1M updates in all).
struct JoinScenario {
  Worker worker;
  InputHandle<Pair> left, right;
  Probe<uint64_t> probe;
  uint64_t time = 0;
  size_t outputs = 0;

  JoinScenario() {
    Graph& graph = worker.NewDataflow("join");
    auto [l, lc] = NewInput<Pair>(graph);
    auto [r, rc] = NewInput<Pair>(graph);
    left = std::move(l);
    right = std::move(r);
    auto joined = JoinMap(
        lc, rc, [](uint32_t k, uint32_t a, uint32_t b) { return k + a + b; });
    probe =
        ProbeStream(Inspect(joined, [this](auto&&...) { ++outputs; }).stream);
  }
  void Advance() {
    ++time;
    left.AdvanceTo(time);
    right.AdvanceTo(time);
    worker.StepWhile([&] { return probe.LessThan(time); });
  }
};

void BM_JoinLoad(benchmark::State& state) {
  auto a = RandomPairs(kUpdates / 2, 500000, 1);
  auto b = RandomPairs(kUpdates / 2, 500000, 2);
  size_t outputs = 0;
  for (auto _ : state) {
    JoinScenario s;
    for (const auto& p : a) s.left.Insert(p);
    for (const auto& p : b) s.right.Insert(p);
    s.Advance();
    outputs = s.outputs;
  }
  state.counters["outputs"] = static_cast<double>(outputs);
  state.SetItemsProcessed(state.iterations() * kUpdates);
}
BENCHMARK(BM_JoinLoad)->Unit(benchmark::kMillisecond);

void BM_JoinRound(benchmark::State& state) {
  JoinScenario s;
  for (const auto& p : RandomPairs(kUpdates / 2, 500000, 1)) s.left.Insert(p);
  for (const auto& p : RandomPairs(kUpdates / 2, 500000, 2)) s.right.Insert(p);
  s.Advance();
  std::mt19937_64 rng(3);
  for (auto _ : state) {
    Pair p(rng() % 500000, rng() % 1000);
    s.left.Insert(p);
    s.right.Insert({p.first, 7});
    s.Advance();
  }
}
BENCHMARK(BM_JoinRound)->Unit(benchmark::kMicrosecond);

// Reduce: the minimum value of each of 100K keys over 1M pairs.
struct ReduceScenario {
  Worker worker;
  InputHandle<Pair> input;
  Probe<uint64_t> probe;
  uint64_t time = 0;

  ReduceScenario() {
    Graph& graph = worker.NewDataflow("reduce");
    auto [in, coll] = NewInput<Pair>(graph);
    input = std::move(in);
    auto mins = Reduce<uint32_t>(
        coll, [](const uint32_t&, const auto& values, auto* output) {
          output->emplace_back(values.front().first, 1);
        });
    probe = ProbeStream(mins.stream);
  }
  void Advance() {
    ++time;
    input.AdvanceTo(time);
    worker.StepWhile([&] { return probe.LessThan(time); });
  }
};

void BM_ReduceLoad(benchmark::State& state) {
  auto pairs = RandomPairs(kUpdates, 100000, 4);
  for (auto _ : state) {
    ReduceScenario s;
    for (const auto& p : pairs) s.input.Insert(p);
    s.Advance();
  }
  state.SetItemsProcessed(state.iterations() * kUpdates);
}
BENCHMARK(BM_ReduceLoad)->Unit(benchmark::kMillisecond);

void BM_ReduceRound(benchmark::State& state) {
  ReduceScenario s;
  auto pairs = RandomPairs(kUpdates, 100000, 4);
  for (const auto& p : pairs) s.input.Insert(p);
  s.Advance();
  std::mt19937_64 rng(5);
  for (auto _ : state) {
    const Pair& old = pairs[rng() % pairs.size()];
    s.input.Remove(old);
    s.input.Insert(
        old);  // net zero: exercises the full path, keeps state size fixed
    s.input.Insert({old.first, static_cast<uint32_t>(rng() % 1000)});
    s.Advance();
  }
}
BENCHMARK(BM_ReduceRound)->Unit(benchmark::kMicrosecond);

// count_total over 1M records with 100K distinct values.
void BM_CountTotalLoad(benchmark::State& state) {
  auto pairs = RandomPairs(kUpdates, 100000, 6);
  for (auto _ : state) {
    Worker worker;
    Graph& graph = worker.NewDataflow("count");
    auto [input, coll] = NewInput<uint32_t>(graph);
    auto probe = ProbeStream(CountTotal(coll).stream);
    for (const auto& p : pairs) input.Insert(p.first);
    input.AdvanceTo(1);
    worker.StepWhile([&] { return probe.LessThan(1); });
  }
  state.SetItemsProcessed(state.iterations() * kUpdates);
}
BENCHMARK(BM_CountTotalLoad)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace diffmesh

BENCHMARK_MAIN();
