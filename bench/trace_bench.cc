// Trace building blocks in isolation: consolidation of 1M updates, sealing
// 1M updates into one batch, and inserting 1M updates into a spine as 1,000
// batches (amortized merging with compaction).
//
//   build/bench/trace_bench --benchmark_repetitions=5
//   --benchmark_report_aggregates_only=true
#include <cstdint>
#include <random>
#include <vector>

#include "benchmark/benchmark.h"
#include "engine/batcher.h"
#include "engine/spine.h"
#include "engine/update.h"

namespace diffmesh {
namespace {

constexpr size_t kUpdates = 1'000'000;

std::vector<Update<uint64_t, uint64_t, int64_t>> RandomUpdates(size_t n,
                                                               uint64_t keys) {
  std::mt19937_64 rng(42);
  std::vector<Update<uint64_t, uint64_t, int64_t>> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i)
    out.push_back({rng() % keys, rng() % 16, rng() % 2 ? 1 : -1});
  return out;
}

void BM_Consolidate(benchmark::State& state) {
  auto input = RandomUpdates(kUpdates, kUpdates / 4);
  for (auto _ : state) {
    auto copy = input;
    Consolidate(copy);
    benchmark::DoNotOptimize(copy.data());
  }
  state.SetItemsProcessed(state.iterations() * kUpdates);
}
BENCHMARK(BM_Consolidate)->Unit(benchmark::kMillisecond);

void BM_BatchBuild(benchmark::State& state) {
  auto input = RandomUpdates(kUpdates, kUpdates / 4);
  for (auto _ : state) {
    Batcher<uint64_t, uint64_t, uint64_t, int64_t> batcher;
    for (const auto& u : input)
      batcher.Push(u.data, u.data * 3, u.time, u.diff);
    Antichain<uint64_t> lower;
    auto batch = batcher.Seal(Antichain<uint64_t>(16), &lower);
    benchmark::DoNotOptimize(batch->size());
  }
  state.SetItemsProcessed(state.iterations() * kUpdates);
}
BENCHMARK(BM_BatchBuild)->Unit(benchmark::kMillisecond);

// 1,000 batches of 1,000 updates each; since follows the batches, so merges
// compact as they go.
void BM_SpineInsert(benchmark::State& state) {
  constexpr size_t kBatches = 1000, kPerBatch = kUpdates / kBatches;
  std::mt19937_64 rng(7);
  std::vector<BatchPtr<uint64_t, uint64_t, uint64_t, int64_t>> batches;
  for (size_t b = 0; b < kBatches; ++b) {
    Batcher<uint64_t, uint64_t, uint64_t, int64_t> batcher;
    for (size_t i = 0; i < kPerBatch; ++i)
      batcher.Push(rng() % 100000, 0, b, rng() % 2 ? 1 : -1);
    Antichain<uint64_t> lower;
    batches.push_back(batcher.Seal(Antichain<uint64_t>(b + 1), &lower));
  }
  size_t stored = 0;
  for (auto _ : state) {
    Spine<uint64_t, uint64_t, uint64_t, int64_t> spine;
    for (size_t b = 0; b < kBatches; ++b) {
      spine.Insert(batches[b]);
      spine.SetSince(Antichain<uint64_t>(b + 1));
    }
    stored = spine.StoredUpdates();
    benchmark::DoNotOptimize(stored);
  }
  state.counters["stored_updates"] = static_cast<double>(stored);
  state.SetItemsProcessed(state.iterations() * kUpdates);
}
BENCHMARK(BM_SpineInsert)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace diffmesh

BENCHMARK_MAIN();
