// Quality metrics (governance/profile.h) under small changes, against
// product size and against profiling from scratch.
//
//   build/bench/profile_bench --benchmark_filter='Delta|Scratch'
//
// The product: `size` rows of (id int64 distinct, amount double with cents,
// region string of 50, at timestamp of 10,000, rating int64 nullable), all
// eleven metrics per column. BM_ProfileDelta/size/k: one time in which k
// rows arrive (the next iteration's time retracts them, so the size stays);
// the figure is the time to the closed time's metrics. It must not grow
// with size. BM_ProfileFromScratch/size: a new dataflow that profiles the
// same rows at once -- what recomputing costs.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "bench/isaac64.h"
#include "catalog/table.h"
#include "engine/graph.h"
#include "engine/input.h"
#include "engine/probe.h"
#include "governance/profile.h"
#include "operators/inspect.h"

namespace diffmesh {
namespace {

using bench::Isaac64;

const Schema& BenchSchema() {
  static const Schema* schema = new Schema({{"id", ValueType::kInt64},
                                            {"amount", ValueType::kDouble},
                                            {"region", ValueType::kString},
                                            {"at", ValueType::kTimestamp},
                                            {"rating", ValueType::kInt64}});
  return *schema;
}

Row MakeRow(int64_t id, Isaac64& rng) {
  Row row;
  row.AppendInt64(id);
  row.AppendDouble(static_cast<double>(rng.NextU64() % 1000000) / 100);
  static const std::vector<std::string> regions = [] {
    std::vector<std::string> r;
    for (int i = 0; i < 50; ++i) r.push_back("region_" + std::to_string(i));
    return r;
  }();
  row.AppendString(regions[rng.NextU64() % regions.size()]);
  row.AppendTimestamp(TimestampMicros{
      1'000'000'000'000 +
      static_cast<int64_t>(rng.NextU64() % 10000) * 60'000'000});
  if (rng.NextU64() % 10 == 0) {
    row.AppendNull();
  } else {
    row.AppendInt64(static_cast<int64_t>(rng.NextU64() % 101));
  }
  return row;
}

// A profiled product of `size` rows, loaded and closed at time 0.
struct Profiled {
  Worker worker;
  InputHandle<Row> input;
  Probe<uint64_t> probe;
  uint64_t time = 0;
  int64_t next_id = 0;
  Isaac64 rng{{42}};

  explicit Profiled(int64_t size) {
    Graph& graph = worker.NewDataflow("profile");
    auto [in, rows] = NewInput<Row>(graph);
    input = std::move(in);
    Table table = *Table::FromProduct("bench.p", rows, BenchSchema());
    Table metrics = *Profile(table);
    probe = ProbeFrontier(metrics.rows().stream);
    for (; next_id < size; ++next_id) input.Update(MakeRow(next_id, rng), 1);
    Close();
  }
  void Close() {
    input.AdvanceTo(++time);
    worker.StepWhile([&] { return probe.LessThan(time); });
  }
};

Profiled& ProductOf(int64_t size) {
  static auto* products = new std::map<int64_t, std::unique_ptr<Profiled>>();
  auto& slot = (*products)[size];
  if (!slot) slot = std::make_unique<Profiled>(size);
  return *slot;
}

void BM_ProfileDelta(benchmark::State& state) {
  Profiled& p = ProductOf(state.range(0));
  const int64_t k = state.range(1);
  std::vector<Row> added;
  for (auto _ : state) {
    if (added.empty()) {
      for (int64_t i = 0; i < k; ++i)
        added.push_back(MakeRow(p.next_id++, p.rng));
      for (const Row& r : added) p.input.Update(r, +1);
    } else {
      for (const Row& r : added) p.input.Update(r, -1);
      added.clear();
    }
    p.Close();
  }
  // Leave the product as it was.
  for (const Row& r : added) p.input.Update(r, -1);
  p.Close();
  state.counters["rows"] = static_cast<double>(state.range(0));
}
BENCHMARK(BM_ProfileDelta)
    ->ArgsProduct({{100'000, 1'000'000, 10'000'000}, {1, 1000}})
    ->Unit(benchmark::kMillisecond)
    ->MinTime(2);

void BM_ProfileFromScratch(benchmark::State& state) {
  for (auto _ : state) {
    Profiled p(state.range(0));
    benchmark::DoNotOptimize(p.time);
  }
}
BENCHMARK(BM_ProfileFromScratch)
    ->Arg(100'000)
    ->Arg(1'000'000)
    ->Arg(10'000'000)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

}  // namespace
}  // namespace diffmesh

BENCHMARK_MAIN();
