// Join followed by reduce on 1, 2 (and more) workers: isolates how the
// engine scales with workers (exchange, per-worker arrangements, progress
// coordination). Each worker generates and feeds its share of the input.
//
//   BM_JoinReduceLoad/W   1M updates (two 500K-pair sides over 100K keys)
//                         joined, then the joined values summed per key;
//                         time until the first answer is complete.
//   BM_JoinReduceRound/W  one change per side against the loaded dataflow:
//                         latency of a tiny round, i.e. the coordination
//                         cost per round when W > 1.
//   BM_FabricRoundTrip    one message from worker 0 to worker 1 and back
//                         through a mailbox (threads placed as the runtime
//                         places workers): the floor under any exchange of
//                         progress between two workers on this machine. On
//                         a virtual machine it depends on where the host
//                         put the two virtual CPUs.
//
//   build/bench/workers_bench --benchmark_repetitions=5
//   --benchmark_report_aggregates_only=true
#include <atomic>
#include <chrono>
#include <cstdint>
#include <random>
#include <utility>
#include <vector>

#include "benchmark/benchmark.h"
#include "engine/fabric.h"
#include "engine/graph.h"
#include "engine/input.h"
#include "engine/probe.h"
#include "engine/runtime.h"
#include "operators/join.h"
#include "operators/reduce.h"

namespace diffmesh {
namespace {

// The figures in bench/README.md are measured with pinned workers.
constexpr RuntimeOptions kPinned{.pin_workers = true};

using Pair = std::pair<uint32_t, uint32_t>;
constexpr size_t kPerSide = 500'000;
constexpr uint32_t kKeys = 100'000;

struct JoinReduce {
  InputHandle<Pair> left, right;
  Probe<uint64_t> probe;

  explicit JoinReduce(Worker& worker) {
    Graph& graph = worker.NewDataflow("join_reduce");
    auto [l, lc] = NewInput<Pair>(graph);
    auto [r, rc] = NewInput<Pair>(graph);
    left = std::move(l);
    right = std::move(r);
    auto joined = JoinMap(lc, rc, [](uint32_t k, uint32_t a, uint32_t b) {
      return Pair(k, (a + b) % 1000);
    });
    auto summed = Reduce<uint64_t>(
        joined, [](const uint32_t&, const auto& in, auto* out) {
          uint64_t total = 0;
          for (const auto& [v, n] : in) total += uint64_t{v} * n;
          out->emplace_back(total, 1);
        });
    probe = ProbeStream(summed.stream);
  }

  // This worker's share of both sides (every peers-th pair).
  void Load(const Worker& worker) {
    std::mt19937_64 rng(42);
    for (size_t i = 0; i < kPerSide; ++i) {
      Pair a(rng() % kKeys, rng() % 1000), b(rng() % kKeys, rng() % 1000);
      if (i % worker.peers() != static_cast<size_t>(worker.index())) continue;
      left.Insert(a);
      right.Insert(b);
    }
  }
  void Settle(Worker& worker, uint64_t time) {
    left.AdvanceTo(time);
    right.AdvanceTo(time);
    worker.StepWhile([&] { return probe.LessThan(time); });
  }
};

void BM_JoinReduceLoad(benchmark::State& state) {
  const int workers = static_cast<int>(state.range(0));
  for (auto _ : state) {
    auto status = Runtime::Execute(workers, kPinned, [&](Worker& worker) {
      JoinReduce flow(worker);
      flow.Load(worker);
      flow.Settle(worker, 1);
    });
    if (!status.ok()) state.SkipWithError(status.ToString().c_str());
  }
  state.SetItemsProcessed(state.iterations() * 2 * kPerSide);
}
BENCHMARK(BM_JoinReduceLoad)
    ->Arg(1)
    ->Arg(2)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// Worker 0 runs the benchmark loop; the others follow round by round until
// it says stop.
void BM_JoinReduceRound(benchmark::State& state) {
  const int workers = static_cast<int>(state.range(0));
  std::atomic<bool> stop{false};
  auto status = Runtime::Execute(workers, kPinned, [&](Worker& worker) {
    JoinReduce flow(worker);
    flow.Load(worker);
    flow.Settle(worker, 1);
    std::mt19937_64 rng(7);
    uint64_t time = 1;
    if (worker.index() != 0) {
      while (!stop.load()) flow.Settle(worker, ++time);
      return;
    }
    for (auto _ : state) {
      Pair a(rng() % kKeys, rng() % 1000), b(rng() % kKeys, rng() % 1000);
      flow.left.Insert(a);
      flow.right.Insert(b);
      auto start = std::chrono::steady_clock::now();
      flow.Settle(worker, ++time);
      state.SetIterationTime(std::chrono::duration<double>(
                                 std::chrono::steady_clock::now() - start)
                                 .count());
    }
    stop.store(true);
  });
  if (!status.ok()) state.SkipWithError(status.ToString().c_str());
}
BENCHMARK(BM_JoinReduceRound)
    ->Arg(1)
    ->Arg(2)
    ->Unit(benchmark::kMicrosecond)
    ->UseManualTime()
    ->Iterations(2000);

void BM_FabricRoundTrip(benchmark::State& state) {
  std::atomic<bool> stop{false};
  // The runtime's own fabric is not exposed; a fabric of two, used by the
  // two worker threads, has the same lanes and doorbells.
  Fabric fabric(2);
  auto box = fabric.Channel<Mailbox<int>>(ChannelKey{0, 0, 0});
  auto status = Runtime::Execute(2, kPinned, [&](Worker& worker) {
    const int me = worker.index(), peer = 1 - me;
    std::vector<int> got;
    auto receive = [&] {
      for (;;) {
        uint64_t seen = fabric.doorbell(me).Seen();
        got.clear();
        box->DrainInto(me, &got);
        if (!got.empty() || stop.load()) return;
        fabric.doorbell(me).Wait(seen);
      }
    };
    if (me == 1) {
      for (;;) {
        receive();
        if (stop.load()) break;
        box->Push(me, peer, got.back());
      }
    } else {
      int n = 0;
      for (auto _ : state) {
        box->Push(me, peer, ++n);
        receive();
      }
      stop.store(true);
      box->Push(me, peer, 0);  // wakes worker 1 to see `stop`
    }
  });
  if (!status.ok()) state.SkipWithError(status.ToString().c_str());
}
BENCHMARK(BM_FabricRoundTrip)->Unit(benchmark::kNanosecond)->UseRealTime();

}  // namespace
}  // namespace diffmesh

BENCHMARK_MAIN();
