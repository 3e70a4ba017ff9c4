// A data mesh over CSV files: what a one-row edit costs against building the
// same products from scratch. Products: raw orders (N rows) and customers
// (N/10 rows), paid orders (a filter), orders joined with customers, and
// revenue per country (an aggregate), with the catalog, lineage and closure.
//
//   BM_MeshFromScratch/N  open a mesh, declare the products, read the files
//                         and compute everything (what recomputation costs).
//   BM_MeshRefreshOneRow/N  one order's amount edited in the file, then
//                         Refresh: re-read and diff the file, feed the two
//                         changed rows, update every product incrementally.
//   BM_SourcePollOneRow/N  the file part of that alone (read, parse, diff).
//   BM_MeshRefreshNoChange/N  Refresh when no file changed (the watch's
//                         cost: reading and hashing the files).
//   BM_SnapshotDownstream/P  Downstream of one product's column in a mesh of
//                         P products (chains of 10 derived products over
//                         P/10 sources): must not grow with P.
//   BM_SnapshotRead/P     Read of one 1,000-row product in that mesh.
//   BM_SnapshotCount/P    one row's count (a seek) in that product.
//   BM_SubscriptionFanOut/S  one-row edit of a 10K-row source, Refresh, and
//                         S subscribers to the product each take the change
//                         (S = 1, 10, 100): the cost per change and
//                         subscriber.
//   BM_AddProductRunning/N  revenue per country added (Use, GroupBy,
//                         Publish, Advance) to a running mesh whose orders
//                         hold N rows: the time to its first answer.
//   BM_AddProductFromScratch/N  the same product in a new mesh over the
//                         same file: what building it from scratch costs.
//   BM_AddLookupProductRunning/N/I  the orders of ten customers added to
//                         that running mesh: importing the running join's
//                         arrangement of the orders (I = 1) or arranging
//                         them again (I = 0).
//   BM_RestartAfterLongHistory/C  restart (open the store, declare, first
//                         Advance, read) of a mesh whose 10K-row source saw
//                         400 refreshes of 100 changed rows each, with
//                         checkpoints every C logged batches (0: none).
//   BM_ReadOldestVersion/S  the oldest of 16 versions of a 100K-row source
//                         (each changed 10K rows) read with every version in
//                         memory (S = 0) or only the newest (S = 1, the rest
//                         read from the store); heap_MiB: what the mesh holds.
//   BM_RefreshVersionsInStore/S  a one-row Refresh of that source with a
//                         store, versions in memory (S = 0) or written to
//                         the store (S = 1).
//
//   build/bench/mesh_bench --benchmark_repetitions=3
//   --benchmark_report_aggregates_only=true
#include <malloc.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "benchmark/benchmark.h"
#include "catalog/mesh.h"
#include "engine/check.h"
#include "engine/graph.h"
#include "storage/rocks_mesh_store.h"

namespace diffmesh {
namespace {

template <class T>
T Must(absl::StatusOr<T> v) {
  DM_CHECK_MSG(v.ok(), v.status().ToString().c_str());
  return *std::move(v);
}

// Orders file text with order `edited` at amount `amount`.
std::string Orders(int64_t n, int64_t edited, int64_t amount) {
  std::string text = "order_id,customer_id,amount,status\n";
  text.reserve(static_cast<size_t>(n) * 24);
  for (int64_t i = 0; i < n; ++i) {
    text += std::to_string(i) + "," + std::to_string(i % (n / 10)) + "," +
            std::to_string(i == edited ? amount : i % 997) + "," +
            (i % 7 == 0 ? "cancelled" : "paid") + "\n";
  }
  return text;
}

std::string Customers(int64_t n) {
  static const char* kCountries[] = {"NO", "SE", "DK", "FI", "IS"};
  std::string text = "customer_id,country\n";
  for (int64_t i = 0; i < n / 10; ++i) {
    text += std::to_string(i) + "," + kCountries[i % 5] + "\n";
  }
  return text;
}

ProductDescriptor Describe(const std::string& id) {
  ProductDescriptor d;
  d.id = id;
  d.owner = "bench";
  return d;
}

class Files {
 public:
  explicit Files(int64_t n) {
    dir_ = std::filesystem::temp_directory_path() /
           ("diffmesh_mesh_bench_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    Write("orders.csv", Orders(n, -1, 0));
    Write("customers.csv", Customers(n));
  }
  ~Files() { std::filesystem::remove_all(dir_); }
  void Write(const std::string& name, const std::string& text) {
    std::ofstream(path(name), std::ios::binary) << text;
  }
  std::string path(const std::string& name) const {
    return (dir_ / name).string();
  }

 private:
  std::filesystem::path dir_;
};

struct Retail {
  Worker worker;
  std::unique_ptr<Mesh> mesh;

  explicit Retail(const Files& files) {
    mesh = Must(Mesh::Open(worker, {.record_changes = false}));
    Table orders = Must(mesh->Source(Describe("sales.orders_raw"),
                                     {.path = files.path("orders.csv")}));
    Table customers = Must(mesh->Source(Describe("crm.customers"),
                                        {.path = files.path("customers.csv")}));
    Table paid = Must(mesh->Publish(
        Must(orders.Filter(
            {"status"}, [](const Row& in) { return in[0] == Value("paid"); })),
        Describe("sales.orders")));
    Table joined =
        Must(mesh->Publish(Must(paid.Join(customers, {"customer_id"})),
                           Describe("sales.enriched")));
    Must(mesh->Publish(
        Must(joined.GroupBy({"country"})
                 .Aggregate({Count("orders"), Sum("amount", "revenue")})),
        Describe("finance.revenue")));
    DM_CHECK(mesh->Advance().ok());
  }
};

// Every mesh benchmark runs on 10K and 100K orders.
void MeshSizes(benchmark::internal::Benchmark* b) {
  b->Arg(10'000)->Arg(100'000)->Unit(benchmark::kMillisecond);
}

// Rewrites orders.csv with order 3 (a paid one) at a new amount, off the
// clock.
void EditOrderUntimed(benchmark::State& state, Files& files, int64_t n,
                      int64_t* amount) {
  state.PauseTiming();
  files.Write("orders.csv", Orders(n, 3, ++*amount));
  state.ResumeTiming();
}

void BM_MeshFromScratch(benchmark::State& state) {
  Files files(state.range(0));
  for (auto _ : state) {
    Retail retail(files);
    benchmark::DoNotOptimize(retail.mesh->time());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_MeshFromScratch)->Apply(MeshSizes);

void BM_MeshRefreshOneRow(benchmark::State& state) {
  const int64_t n = state.range(0);
  Files files(n);
  Retail retail(files);
  int64_t amount = 5000;
  for (auto _ : state) {
    EditOrderUntimed(state, files, n, &amount);
    RefreshReport report = Must(retail.mesh->Refresh());
    DM_CHECK(report.rows_inserted == 1 && report.rows_retracted == 1);
  }
}
BENCHMARK(BM_MeshRefreshOneRow)->Apply(MeshSizes);

// The file part of a one-row refresh alone: re-read, re-parse and diff.
void BM_SourcePollOneRow(benchmark::State& state) {
  const int64_t n = state.range(0);
  Files files(n);
  auto source = Must(FileSource::Open({.path = files.path("orders.csv")}));
  Must(source->Poll());
  int64_t amount = 5000;
  for (auto _ : state) {
    EditOrderUntimed(state, files, n, &amount);
    SourceDiff diff = Must(source->Poll());
    DM_CHECK(diff.rows.size() == 2);
  }
}
BENCHMARK(BM_SourcePollOneRow)->Apply(MeshSizes);

void BM_MeshRefreshNoChange(benchmark::State& state) {
  Files files(state.range(0));
  Retail retail(files);
  for (auto _ : state) {
    RefreshReport report = Must(retail.mesh->Refresh());
    DM_CHECK(report.rows_inserted == 0 && report.rows_retracted == 0);
  }
}
BENCHMARK(BM_MeshRefreshNoChange)->Apply(MeshSizes);

// P products: P/10 sources of 1,000 rows (id, v), each followed by a chain
// of 9 products (Select of both columns).
struct Wide {
  std::filesystem::path dir;
  Worker worker;
  std::unique_ptr<Mesh> mesh;

  explicit Wide(int64_t products) {
    dir = std::filesystem::temp_directory_path() /
          ("diffmesh_mesh_bench_wide_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    std::string text = "id,v\n";
    for (int i = 0; i < 1000; ++i) {
      text += std::to_string(i) + "," + std::to_string(i % 37) + "\n";
    }
    mesh = Must(Mesh::Open(worker, {.record_changes = false}));
    for (int64_t c = 0; c < products / 10; ++c) {
      const std::string file =
          (dir / ("s" + std::to_string(c) + ".csv")).string();
      std::ofstream(file, std::ios::binary) << text;
      Table t = Must(mesh->Source(Describe("d" + std::to_string(c) + ".p0"),
                                  {.path = file}));
      for (int k = 1; k < 10; ++k) {
        t = Must(mesh->Publish(
            Must(t.Select({"id", "v"})),
            Describe("d" + std::to_string(c) + ".p" + std::to_string(k))));
      }
    }
    DM_CHECK(mesh->Advance().ok());
  }
  ~Wide() { std::filesystem::remove_all(dir); }
};

void WideSizes(benchmark::internal::Benchmark* b) {
  b->Arg(10)->Arg(100)->Arg(1000)->Unit(benchmark::kMicrosecond);
}

void BM_SnapshotDownstream(benchmark::State& state) {
  Wide wide(state.range(0));
  std::shared_ptr<const MeshSnapshot> s = wide.mesh->Snapshot();
  for (auto _ : state) {
    std::vector<ColumnRef> down = s->Downstream({"d0.p0", "v"});
    DM_CHECK(down.size() == 9);
    benchmark::DoNotOptimize(down);
  }
}
BENCHMARK(BM_SnapshotDownstream)->Apply(WideSizes);

void BM_SnapshotRead(benchmark::State& state) {
  Wide wide(state.range(0));
  std::shared_ptr<const MeshSnapshot> s = wide.mesh->Snapshot();
  for (auto _ : state) {
    std::vector<Row> rows = Must(s->Read("d0.p5"));
    DM_CHECK(rows.size() == 1000);
    benchmark::DoNotOptimize(rows);
  }
}
BENCHMARK(BM_SnapshotRead)->Apply(WideSizes);

void BM_SnapshotCount(benchmark::State& state) {
  Wide wide(state.range(0));
  std::shared_ptr<const MeshSnapshot> s = wide.mesh->Snapshot();
  const Row row{Value(int64_t{500}), Value(int64_t{500 % 37})};
  for (auto _ : state) {
    DM_CHECK(Must(s->Count("d0.p5", row)) == 1);
  }
}
BENCHMARK(BM_SnapshotCount)->Apply(WideSizes);

void BM_SubscriptionFanOut(benchmark::State& state) {
  const int64_t n = 10'000;
  Files files(n);
  Retail retail(files);
  std::vector<std::shared_ptr<Subscription>> subs;
  for (int64_t i = 0; i < state.range(0); ++i) {
    subs.push_back(Must(retail.mesh->Subscribe(
        {.streams = {MeshStream::kProductRows}, .id = "sales.orders"})));
  }
  int64_t amount = 5000;
  for (auto _ : state) {
    EditOrderUntimed(state, files, n, &amount);
    Must(retail.mesh->Refresh());
    for (auto& sub : subs) {
      MeshEvents events = Must(sub->TryNext());
      DM_CHECK(events.events.size() == 2);
    }
  }
}
BENCHMARK(BM_SubscriptionFanOut)
    ->Arg(0)
    ->Arg(1)
    ->Arg(10)
    ->Arg(100)
    ->Unit(benchmark::kMillisecond);

ProductDescriptor Numbered(const std::string& prefix, int64_t n) {
  return Describe(prefix + std::to_string(n));
}

void BM_AddProductRunning(benchmark::State& state) {
  Files files(state.range(0));
  Retail retail(files);
  int64_t added = 0;
  for (auto _ : state) {
    Table orders = Must(retail.mesh->Use("sales.orders"));
    Table revenue =
        Must(orders.GroupBy({"customer_id"})
                 .Aggregate({Count("orders"), Sum("amount", "revenue")}));
    const ProductDescriptor d = Numbered("finance.added", added++);
    DM_CHECK(retail.mesh->Publish(revenue, d).ok());
    DM_CHECK(retail.mesh->Advance().ok());
    DM_CHECK(!Must(retail.mesh->Read(d.id)).empty());
  }
}
BENCHMARK(BM_AddProductRunning)
    ->Arg(100'000)
    ->Arg(1'000'000)
    ->Iterations(3)
    ->Unit(benchmark::kMillisecond);

void BM_AddProductFromScratch(benchmark::State& state) {
  Files files(state.range(0));
  for (auto _ : state) {
    Worker worker;
    auto mesh = Must(Mesh::Open(worker, {.record_changes = false}));
    Table orders = Must(mesh->Source(Describe("sales.orders_raw"),
                                     {.path = files.path("orders.csv")}));
    Table paid = Must(mesh->Publish(
        Must(orders.Filter(
            {"status"}, [](const Row& in) { return in[0] == Value("paid"); })),
        Describe("sales.orders")));
    Table revenue =
        Must(paid.GroupBy({"customer_id"})
                 .Aggregate({Count("orders"), Sum("amount", "revenue")}));
    DM_CHECK(mesh->Publish(revenue, Describe("finance.added")).ok());
    DM_CHECK(mesh->Advance().ok());
    DM_CHECK(!Must(mesh->Read("finance.added")).empty());
  }
}
BENCHMARK(BM_AddProductFromScratch)
    ->Arg(100'000)
    ->Arg(1'000'000)
    ->Iterations(3)
    ->Unit(benchmark::kMillisecond);

// The orders of ten customers, added to a running mesh whose orders hold N
// rows: a join on customer_id, the key sales.enriched joins orders on. With
// import = 1 the new dataflow imports the running arrangement of the
// orders; with 0 the orders go through a Select first (a table that is not
// the product's own rows), so they are loaded and arranged again, as every
// product added while running did before arrangements were shared.
void BM_AddLookupProductRunning(benchmark::State& state) {
  Files files(state.range(0));
  Retail retail(files);
  const bool import = state.range(1) == 1;
  int64_t added = 0;
  for (auto _ : state) {
    Table orders = Must(retail.mesh->Use("sales.orders"));
    if (!import) {
      orders =
          Must(orders.Select({"order_id", "customer_id", "amount", "status"}));
    }
    Table few = Must(Must(retail.mesh->Use("crm.customers"))
                         .Filter({"customer_id"}, [](const Row& in) {
                           return in[0].as_int64() < 10;
                         }));
    Table lookup = Must(orders.Join(few, {"customer_id"}));
    const ProductDescriptor d = Numbered("sales.lookup", added++);
    DM_CHECK(retail.mesh->Publish(lookup, d).ok());
    DM_CHECK(retail.mesh->Advance().ok());
    DM_CHECK(!Must(retail.mesh->Read(d.id)).empty());
    state.PauseTiming();
    DM_CHECK(retail.mesh->Retire(d.id).ok());
    DM_CHECK(retail.mesh->Advance().ok());
    DM_CHECK(retail.mesh->Advance().ok());
    state.ResumeTiming();
  }
}
BENCHMARK(BM_AddLookupProductRunning)
    ->Args({100'000, 1})
    ->Args({100'000, 0})
    ->Args({1'000'000, 1})
    ->Args({1'000'000, 0})
    ->Iterations(3)
    ->Unit(benchmark::kMillisecond);

// Orders file text with the amounts of orders [first, first + count)
// shifted by `shift`.
std::string OrdersShifted(int64_t n, int64_t first, int64_t shift,
                          int64_t count = 100) {
  std::string text = "order_id,customer_id,amount,status\n";
  for (int64_t i = 0; i < n; ++i) {
    const bool shifted = i >= first && i < first + count;
    text += std::to_string(i) + "," + std::to_string(i % (n / 10)) + "," +
            std::to_string(i % 997 + (shifted ? shift : 0)) + ",paid\n";
  }
  return text;
}

void BM_RestartAfterLongHistory(benchmark::State& state) {
  const int64_t n = 10'000;
  Files files(n);
  const std::string store_dir = files.path("store");
  const int checkpoint_after = static_cast<int>(state.range(0));
  {
    auto store = Must(RocksMeshStore::Open(store_dir));
    Worker worker;
    auto mesh = Must(Mesh::Open(worker, {.store = store.get(),
                                         .checkpoint_after = checkpoint_after,
                                         .record_changes = false}));
    Must(mesh->Source(Describe("sales.orders_raw"),
                      {.path = files.path("orders.csv")}));
    DM_CHECK(mesh->Advance().ok());
    for (int64_t round = 0; round < 400; ++round) {
      files.Write("orders.csv",
                  OrdersShifted(n, (round * 100) % (n - 100), round + 1));
      Must(mesh->Refresh());
    }
  }
  size_t logged = 0;
  for (auto _ : state) {
    auto store = Must(RocksMeshStore::Open(store_dir));
    Worker worker;
    auto mesh = Must(Mesh::Open(worker, {.store = store.get(),
                                         .checkpoint_after = checkpoint_after,
                                         .record_changes = false}));
    Must(mesh->Source(Describe("sales.orders_raw"),
                      {.path = files.path("orders.csv")}));
    DM_CHECK(mesh->Advance().ok());
    DM_CHECK(Must(mesh->Read("sales.orders_raw")).size() ==
             static_cast<size_t>(n));
    state.PauseTiming();
    logged = Must(store->ReadSourceBatches("sales.orders_raw")).size();
    state.ResumeTiming();
  }
  state.counters["logged_batches"] = static_cast<double>(logged);
}
BENCHMARK(BM_RestartAfterLongHistory)
    ->Arg(0)
    ->Arg(64)
    ->Iterations(3)
    ->Unit(benchmark::kMillisecond);

// A 100K-row source with 16 retained versions, each of which changed 10K
// rows, all in memory (S = 0) or the newest one only (S = 1, the rest in
// the store): reading the oldest version, and the heap the mesh holds.
void BM_ReadOldestVersion(benchmark::State& state) {
  const int64_t n = 100'000;
  Files files(n);
  auto store = Must(RocksMeshStore::Open(files.path("store")));
  const size_t heap_before = mallinfo2().uordblks;
  Worker worker;
  auto mesh = Must(Mesh::Open(
      worker, {.store = store.get(),
               .retained_versions = 16,
               .versions_in_memory = static_cast<int>(state.range(0)),
               .record_changes = false}));
  Must(mesh->Source(Describe("sales.orders_raw"),
                    {.path = files.path("orders.csv")}));
  DM_CHECK(mesh->Advance().ok());
  for (int64_t round = 0; round < 16; ++round) {
    files.Write("orders.csv",
                OrdersShifted(n, (round * 5'000) % (n / 2), round + 1, 10'000));
    Must(mesh->Refresh());
  }
  const size_t heap = mallinfo2().uordblks - heap_before;
  const DataVersion oldest = mesh->DataVersions("sales.orders_raw").front();
  for (auto _ : state) {
    auto rows = Must(mesh->ReadAsOf("sales.orders_raw", oldest.number));
    DM_CHECK(rows.size() == static_cast<size_t>(n));
    benchmark::DoNotOptimize(rows);
  }
  state.counters["heap_MiB"] = static_cast<double>(heap) / (1 << 20);
}
BENCHMARK(BM_ReadOldestVersion)
    ->Arg(0)
    ->Arg(1)
    ->Iterations(5)
    ->Unit(benchmark::kMillisecond);

// One order's amount edited in a 100K-row source, Refresh, with a store:
// every version's rows in memory (S = 0), or the newest only and each
// version's change written to the store (S = 1).
void BM_RefreshVersionsInStore(benchmark::State& state) {
  const int64_t n = 100'000;
  Files files(n);
  auto store = Must(RocksMeshStore::Open(files.path("store")));
  Worker worker;
  auto mesh = Must(Mesh::Open(
      worker, {.store = store.get(),
               .versions_in_memory = static_cast<int>(state.range(0)),
               .record_changes = false}));
  Must(mesh->Source(Describe("sales.orders_raw"),
                    {.path = files.path("orders.csv")}));
  DM_CHECK(mesh->Advance().ok());
  int64_t amount = 0;
  for (auto _ : state) {
    EditOrderUntimed(state, files, n, &amount);
    Must(mesh->Refresh());
  }
}
BENCHMARK(BM_RefreshVersionsInStore)
    ->Arg(0)
    ->Arg(1)
    ->Iterations(20)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace diffmesh

BENCHMARK_MAIN();
