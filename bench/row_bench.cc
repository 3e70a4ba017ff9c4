// The packed Row (catalog/row.h) against the row it replaced, a
// std::vector<Value>, on rows shaped like the flights data (timestamp,
// delay, distance, origin, destination): building a row from parsed
// values, reading every column, sorting (the order), hashing, consolidating
// (sort, then sum equal rows) and the bytes a row takes when held -- in a
// vector, and in an arrangement's trace.
//
//   build/bench/row_bench --benchmark_repetitions=3
//       --benchmark_report_aggregates_only=true   (one command line)
//
// "bytes_per_row" counts what malloc hands out (mallinfo2), so allocator
// headers and heap strings are included.
#include <malloc.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/hash/hash.h"
#include "benchmark/benchmark.h"
#include "catalog/row.h"
#include "catalog/source.h"
#include "engine/batch.h"
#include "engine/batcher.h"
#include "engine/cursor.h"
#include "engine/graph.h"
#include "engine/input.h"
#include "engine/probe.h"
#include "operators/arrange.h"

namespace diffmesh {
namespace {

using VectorRow = std::vector<Value>;

struct Flight {
  int64_t date;
  int64_t delay;
  int64_t distance;
  std::string origin, destination;
};

std::vector<Flight> Flights(size_t n, uint64_t seed) {
  static const char* airports[] = {"ORD", "LAX", "ATL", "DFW", "SFO", "JFK",
                                   "SEA", "DEN", "BOS", "MIA", "PHX", "LAS"};
  std::mt19937_64 rng(seed);
  std::vector<Flight> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(
        {1167609600000000 + static_cast<int64_t>(rng() % 3650) * 86400000000,
         static_cast<int64_t>(rng() % 200) - 30,
         static_cast<int64_t>(rng() % 2500) + 60, airports[rng() % 12],
         airports[rng() % 12]});
  }
  return out;
}

Row Pack(const Flight& f) {
  Row row;
  row.AppendTimestamp(TimestampMicros{f.date});
  row.AppendInt64(f.delay);
  row.AppendInt64(f.distance);
  row.AppendString(f.origin);
  row.AppendString(f.destination);
  return row;
}

VectorRow Unpacked(const Flight& f) {
  VectorRow row;
  row.reserve(5);
  row.emplace_back(TimestampMicros{f.date});
  row.emplace_back(f.delay);
  row.emplace_back(f.distance);
  row.emplace_back(f.origin);
  row.emplace_back(f.destination);
  return row;
}

template <class R>
R Make(const Flight& f) {
  if constexpr (std::is_same_v<R, Row>) {
    return Pack(f);
  } else {
    return Unpacked(f);
  }
}

template <class R>
std::vector<R> MakeAll(const std::vector<Flight>& flights) {
  std::vector<R> rows;
  rows.reserve(flights.size());
  for (const Flight& f : flights) rows.push_back(Make<R>(f));
  return rows;
}

constexpr size_t kRows = 100'000;

template <class R>
void BM_Build(benchmark::State& state) {
  std::vector<Flight> flights = Flights(kRows, 1);
  for (auto _ : state) {
    std::vector<R> rows = MakeAll<R>(flights);
    benchmark::DoNotOptimize(rows.data());
  }
  state.SetItemsProcessed(state.iterations() * kRows);
}

template <class R>
void BM_ReadColumns(benchmark::State& state) {
  std::vector<R> rows = MakeAll<R>(Flights(kRows, 2));
  for (auto _ : state) {
    int64_t sum = 0;
    for (const R& row : rows) {
      for (const auto& v : row) {
        switch (v.type()) {
          case ValueType::kInt64:
            sum += v.as_int64();
            break;
          case ValueType::kString:
            sum += static_cast<int64_t>(v.as_string().size());
            break;
          case ValueType::kTimestamp:
            sum += v.as_timestamp().micros & 1;
            break;
          default:
            break;
        }
      }
    }
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(state.iterations() * kRows);
}

template <class R>
void BM_Sort(benchmark::State& state) {
  std::vector<R> rows = MakeAll<R>(Flights(kRows, 3));
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<R> copy = rows;
    state.ResumeTiming();
    std::sort(copy.begin(), copy.end());
    benchmark::DoNotOptimize(copy.data());
  }
  state.SetItemsProcessed(state.iterations() * kRows);
}

template <class R>
void BM_Hash(benchmark::State& state) {
  std::vector<R> rows = MakeAll<R>(Flights(kRows, 4));
  for (auto _ : state) {
    size_t h = 0;
    for (const R& row : rows) h ^= absl::Hash<R>{}(row);
    benchmark::DoNotOptimize(h);
  }
  state.SetItemsProcessed(state.iterations() * kRows);
}

// Sorts (row, diff) pairs where every row appears twice, and sums them.
template <class R>
void BM_Consolidate(benchmark::State& state) {
  std::vector<Flight> flights = Flights(kRows / 2, 5);
  std::vector<std::pair<R, int64_t>> updates;
  for (const Flight& f : flights) {
    updates.emplace_back(Make<R>(f), 1);
    updates.emplace_back(Make<R>(f), 1);
  }
  std::shuffle(updates.begin(), updates.end(), std::mt19937_64(6));
  for (auto _ : state) {
    state.PauseTiming();
    auto copy = updates;
    state.ResumeTiming();
    std::sort(copy.begin(), copy.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    size_t out = 0;
    for (size_t i = 0; i < copy.size(); ++i) {
      if (out > 0 && copy[out - 1].first == copy[i].first) {
        copy[out - 1].second += copy[i].second;
      } else {
        copy[out++] = std::move(copy[i]);
      }
    }
    copy.resize(out);
    benchmark::DoNotOptimize(copy.data());
  }
  state.SetItemsProcessed(state.iterations() * kRows);
}

// The same input through the source's consolidation (catalog/source.h):
// rows sorted beside their sort prefixes, in parallel on large inputs.
void BM_ConsolidateRowDiffs(benchmark::State& state) {
  std::vector<Flight> flights = Flights(kRows / 2, 5);
  RowDiffs updates;
  for (const Flight& f : flights) {
    updates.emplace_back(Pack(f), 1);
    updates.emplace_back(Pack(f), 1);
  }
  std::shuffle(updates.begin(), updates.end(), std::mt19937_64(6));
  for (auto _ : state) {
    state.PauseTiming();
    RowDiffs copy = updates;
    state.ResumeTiming();
    ConsolidateRowDiffs(&copy);
    benchmark::DoNotOptimize(copy.data());
  }
  state.SetItemsProcessed(state.iterations() * kRows);
}

// In use: small blocks from the heap plus large ones mapped on their own.
size_t Allocated() {
  struct mallinfo2 info = mallinfo2();
  return info.uordblks + info.hblkhd;
}

// Bytes per row held in a vector of 1M rows.
template <class R>
void BM_BytesInVector(benchmark::State& state) {
  std::vector<Flight> flights = Flights(1'000'000, 7);
  double per_row = 0;
  for (auto _ : state) {
    size_t before = Allocated();
    std::vector<R> rows = MakeAll<R>(flights);
    per_row = static_cast<double>(Allocated() - before) / flights.size();
    benchmark::DoNotOptimize(rows.data());
  }
  state.counters["bytes_per_row"] = per_row;
}

// The flights rows, and with state.range(0) == 1 each with a sixth value,
// a 48-byte remark, so that rows no longer fit inline (wide rows).
template <class R>
std::vector<R> MakeRows(const std::vector<Flight>& flights, bool wide) {
  std::vector<R> rows = MakeAll<R>(flights);
  if (wide) {
    for (size_t i = 0; i < rows.size(); ++i) {
      std::string remark(48, 'a' + static_cast<char>(i % 26));
      if constexpr (std::is_same_v<R, Row>) {
        rows[i].AppendString(remark);
      } else {
        rows[i].emplace_back(remark);
      }
    }
  }
  return rows;
}

// Bytes per row held by an arrangement (ArrangeBySelf) of 1M distinct rows
// loaded at one time, after the load is final.
template <class R>
void BM_BytesInTrace(benchmark::State& state) {
  std::vector<Flight> flights = Flights(1'000'000, 8);
  double per_row = 0;
  for (auto _ : state) {
    std::vector<R> rows = MakeRows<R>(flights, state.range(0) == 1);
    std::sort(rows.begin(), rows.end());
    rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
    size_t before = Allocated();
    {
      Worker worker;
      Graph& graph = worker.NewDataflow("rows");
      auto [input, collection] = NewInput<R>(graph);
      auto arranged = ArrangeBySelf(collection);
      auto probe = ProbeStream(arranged.stream);
      for (const R& row : rows) input.Insert(row);
      input.AdvanceTo(1);
      worker.StepWhile([&] { return probe.LessThan(1); });
      per_row = static_cast<double>(Allocated() - before) / rows.size();
      input.Close();
      worker.StepWhile([&] { return !graph.Complete(); });
    }
    benchmark::DoNotOptimize(rows.data());
  }
  state.counters["bytes_per_row"] = per_row;
}

#define ROW_BENCHMARKS(name)                            \
  BENCHMARK_TEMPLATE(name, Row)->Name(#name "/packed"); \
  BENCHMARK_TEMPLATE(name, VectorRow)->Name(#name "/vector_of_values")

ROW_BENCHMARKS(BM_Build);
ROW_BENCHMARKS(BM_ReadColumns);
ROW_BENCHMARKS(BM_Sort);
ROW_BENCHMARKS(BM_Hash);
ROW_BENCHMARKS(BM_Consolidate);
BENCHMARK(BM_ConsolidateRowDiffs)->Name("BM_Consolidate/packed_by_prefix");
BENCHMARK_TEMPLATE(BM_BytesInVector, Row)
    ->Name("BM_BytesInVector/packed")
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_BytesInVector, VectorRow)
    ->Name("BM_BytesInVector/vector_of_values")
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_BytesInTrace, Row)
    ->Name("BM_BytesInTrace/packed")
    ->ArgName("wide")
    ->Arg(0)
    ->Arg(1)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_BytesInTrace, VectorRow)
    ->Name("BM_BytesInTrace/vector_of_values")
    ->ArgName("wide")
    ->Arg(0)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

// A spine's merge of two batches of 500K distinct rows each (keys only),
// then one walk of the result with a cursor.
void BM_MergeBatches(benchmark::State& state) {
  std::vector<Row> rows =
      MakeRows<Row>(Flights(1'000'000, 9), state.range(0) == 1);
  std::sort(rows.begin(), rows.end());
  rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
  using Builder = BatchBuilder<Row, Unit, uint64_t, int64_t>;
  Builder even, odd;
  for (size_t i = 0; i < rows.size(); ++i) {
    (i % 2 == 0 ? even : odd).Push(rows[i], Unit{}, i % 2, 1);
  }
  auto a = even.Build(
      {Antichain<uint64_t>(uint64_t{0}), Antichain<uint64_t>(uint64_t{1}), {}});
  auto b = odd.Build(
      {Antichain<uint64_t>(uint64_t{1}), Antichain<uint64_t>(uint64_t{2}), {}});
  size_t walked = 0;
  for (auto _ : state) {
    Merger<Row, Unit, uint64_t, int64_t> merger(
        a, b, Antichain<uint64_t>(uint64_t{0}));
    int64_t fuel = INT64_MAX;
    merger.Work(&fuel);
    TraceCursor<Row, Unit, uint64_t, int64_t> cursor;
    cursor.Add(merger.Finish());
    walked = 0;
    for (; cursor.KeyValid(); cursor.StepKey()) {
      walked += cursor.Key().bytes().size();
    }
    benchmark::DoNotOptimize(walked);
  }
  state.SetItemsProcessed(state.iterations() *
                          static_cast<int64_t>(rows.size()));
}
// 1M rows pushed into a batcher (unsorted, each twice with +1 and once
// more with -1 at a later time, so blocks cancel and merge), then sealed.
void BM_BatcherSeal(benchmark::State& state) {
  std::vector<Row> rows =
      MakeRows<Row>(Flights(1'000'000, 10), state.range(0) == 1);
  size_t sealed = 0;
  for (auto _ : state) {
    Batcher<Row, Unit, uint64_t, int64_t> batcher;
    for (size_t i = 0; i < rows.size(); ++i) {
      batcher.Push(rows[i], Unit{}, 0, 1);
      if (i % 2 == 0) batcher.Push(rows[i], Unit{}, 1, -1);
    }
    Antichain<uint64_t> lower;
    sealed = batcher.Seal(Antichain<uint64_t>(uint64_t{2}), &lower)->size();
    benchmark::DoNotOptimize(sealed);
  }
  state.counters["sealed"] = static_cast<double>(sealed);
  state.SetItemsProcessed(state.iterations() *
                          static_cast<int64_t>(rows.size() * 3 / 2));
}
BENCHMARK(BM_BatcherSeal)
    ->ArgName("wide")
    ->Arg(0)
    ->Arg(1)
    ->Unit(benchmark::kMillisecond);

BENCHMARK(BM_MergeBatches)
    ->ArgName("wide")
    ->Arg(0)
    ->Arg(1)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace diffmesh

BENCHMARK_MAIN();
