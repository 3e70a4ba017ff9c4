// Join and reduce on 1M updates, loaded at once and then changed a little at
// a time. The "Load" benchmarks isolate building the arrangements and the
// operator's first evaluation; the "Round" benchmarks isolate the cost of one
// small change against that loaded state (it must not grow with the input).
//
//   build/bench/operators_bench --benchmark_repetitions=5
//   --benchmark_report_aggregates_only=true
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <utility>
#include <vector>

#include "benchmark/benchmark.h"
#include "engine/graph.h"
#include "engine/input.h"
#include "engine/probe.h"
#include "operators/arrange.h"
#include "operators/count.h"
#include "operators/import.h"
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

// A dataflow added next to a running one that holds 1M pairs arranged by
// key (500K keys): the time to its first answer, a join of those pairs
// with 1,000 new pairs. "Import" reads the running arrangement
// (operators/import.h); "Rebuild" loads the pairs into the new dataflow and
// arranges them again, as building it from scratch does.
struct RunningArrangement {
  Worker worker;
  InputHandle<Pair> input;
  Arranged<uint32_t, uint32_t> by_key;
  Probe<uint64_t> own;
  std::vector<Pair> pairs = RandomPairs(kUpdates, 500000, 7);
  std::vector<Pair> small = RandomPairs(1000, 500000, 8);
  uint64_t time = 1;
  int64_t expected = 0;  // the join's size

  RunningArrangement() {
    std::map<uint32_t, int64_t> per_key;
    for (const auto& p : pairs) ++per_key[p.first];
    for (const auto& p : small) expected += per_key[p.first];
    Graph& graph = worker.NewDataflow("running");
    auto [in, coll] = NewInput<Pair>(graph);
    input = std::move(in);
    by_key = ArrangeByKey(coll);
    own = ProbeStream(by_key.stream);
    for (const auto& p : pairs) input.Insert(p);
    input.AdvanceTo(time);
    worker.StepWhile([&] { return own.LessThan(time); });
  }

  // Adds a dataflow whose big side `big(graph)` gives, runs it to its
  // first answer, and (untimed) stops and drops it.
  template <class Big>
  int64_t FirstAnswer(benchmark::State& state, Big big) {
    Graph& added = worker.NewDataflow("added");
    added.set_start_time(time);
    ImportStop stop;
    InputHandle<Pair> big_input;
    auto [small_in, small_coll] = NewInput<Pair>(added);
    small_in.AdvanceTo(time);
    for (const auto& p : small) small_in.Insert(p);
    int64_t outputs = 0;
    auto joined =
        JoinCore(big(added, &stop, &big_input), ArrangeByKey(small_coll),
                 [](uint32_t k, uint32_t a, uint32_t b) { return k + a + b; });
    auto probe = ProbeStream(Inspect(joined, [&](auto&&, auto&&, int64_t r) {
                               outputs += r;
                             }).stream);
    ++time;
    small_in.AdvanceTo(time);
    if (!big_input.closed()) big_input.AdvanceTo(time);
    input.AdvanceTo(time);
    worker.StepWhile(
        [&] { return probe.LessThan(time) || own.LessThan(time); });
    state.PauseTiming();
    stop();
    small_in.Close();
    big_input.Close();
    worker.StepWhile([&] { return !added.Complete(); });
    worker.DropDataflow(&added);
    state.ResumeTiming();
    return outputs;
  }
};

void BM_AddDataflowImport(benchmark::State& state) {
  RunningArrangement running;
  int64_t outputs = 0;
  for (auto _ : state) {
    outputs = running.FirstAnswer(
        state, [&](Graph& added, ImportStop* stop, InputHandle<Pair>*) {
          return Import(added, running.by_key, stop);
        });
  }
  state.counters["outputs"] = static_cast<double>(outputs);
  state.counters["expected"] = static_cast<double>(running.expected);
}
BENCHMARK(BM_AddDataflowImport)->Unit(benchmark::kMillisecond);

void BM_AddDataflowRebuild(benchmark::State& state) {
  RunningArrangement running;
  int64_t outputs = 0;
  for (auto _ : state) {
    outputs = running.FirstAnswer(
        state, [&](Graph& added, ImportStop*, InputHandle<Pair>* input) {
          auto [in, coll] = NewInput<Pair>(added);
          in.AdvanceTo(running.time);
          for (const auto& p : running.pairs) in.Insert(p);
          *input = std::move(in);
          return ArrangeByKey(coll);
        });
  }
  state.counters["outputs"] = static_cast<double>(outputs);
  state.counters["expected"] = static_cast<double>(running.expected);
}
BENCHMARK(BM_AddDataflowRebuild)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace diffmesh

BENCHMARK_MAIN();
