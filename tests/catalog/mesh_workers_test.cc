// A mesh on 1, 2, 3 and 4 workers: the products, the catalog, the lineage,
// its closure, the search, the quarantine, the data versions and the
// recorded changes are the same as on one worker, on every worker, also
// across a restart from a RocksDB store with another number of workers.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "catalog/mesh.h"
#include "engine/check.h"
#include "engine/graph.h"
#include "engine/runtime.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/rocks_mesh_store.h"
#include "tests/status_matchers.h"
#include "tests/temp_dir.h"
#include "tests/worker_layout.h"

namespace diffmesh {
namespace {

using ::diffmesh::testing::IsOk;
using ::diffmesh::testing::StatusIs;
using ::testing::HasSubstr;

template <class T>
T Must(absl::StatusOr<T> v) {
  DM_CHECK_MSG(v.ok(), v.status().ToString().c_str());
  return *std::move(v);
}
void Must(absl::Status s) { DM_CHECK_MSG(s.ok(), s.ToString().c_str()); }

ProductDescriptor Describe(const std::string& id, Tier tier) {
  ProductDescriptor d;
  d.id = id;
  d.owner = "owner";
  d.tier = tier;
  d.description = "the " + id + " product";
  return d;
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// Equal line lists, or the first line where they differ.
::testing::AssertionResult SameLines(const std::vector<std::string>& a,
                                     const std::vector<std::string>& b) {
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    if (a[i] != b[i]) {
      return ::testing::AssertionFailure()
             << "line " << i << ":\n  " << a[i] << "\n  " << b[i];
    }
  }
  if (a.size() != b.size()) {
    return ::testing::AssertionFailure()
           << a.size() << " lines vs " << b.size() << "; first extra: "
           << (a.size() > b.size() ? a[b.size()] : b[a.size()]);
  }
  return ::testing::AssertionSuccess();
}

// Lines describing what a worker sees.
void Observe(const Mesh& mesh, const std::string& label,
             std::vector<std::string>* out) {
  for (const char* id : {"sales.orders", "crm.customers", "sales.enriched",
                         "finance.by_country"}) {
    auto rows = mesh.Read(id);
    std::vector<std::string> shown;
    if (rows.ok()) {
      for (const Row& r : *rows) shown.push_back(RowDebugString(r));
    } else {
      shown.push_back(std::string(rows.status().message()));
    }
    out->push_back(
        absl::StrCat(label, " ", id, ": ", absl::StrJoin(shown, " ")));
    std::vector<std::string> versions;
    for (const DataVersion& v : mesh.DataVersions(id)) {
      versions.push_back(absl::StrCat(v.number, "@", v.time));
    }
    out->push_back(absl::StrCat(label, " versions ", id, ": ",
                                absl::StrJoin(versions, " ")));
  }
  for (const ProductDescriptor& d : mesh.Catalog()) {
    out->push_back(absl::StrCat(label, " catalog ", d.VersionedId(), " ",
                                absl::StrJoin(d.upstream, ",")));
  }
  for (const LineageEdge& e : mesh.Lineage()) {
    out->push_back(absl::StrCat(label, " edge ", e.ToString()));
  }
  std::vector<std::string> impact;
  for (const ColumnRef& c : mesh.Downstream({"sales.orders", "amount"})) {
    impact.push_back(c.ToString());
  }
  out->push_back(absl::StrCat(label, " impact ", absl::StrJoin(impact, " ")));
  out->push_back(absl::StrCat(label, " search ",
                              absl::StrJoin(mesh.Search("orders"), " ")));
  for (const Row& q : mesh.Quarantine("sales.orders")) {
    out->push_back(absl::StrCat(label, " quarantine line ", q[1].DebugString(),
                                " ", q[2].DebugString()));
  }
  for (const SourceStatus& s : mesh.SourceStatuses()) {
    out->push_back(absl::StrCat(
        label, " source ", s.id, " ", absl::StatusCodeToString(s.status.code()),
        " since ", s.since, " failed ", s.failed_polls));
  }
}

// The program every worker runs; worker 0's observations (and its changes)
// go to `out`, every worker's to `each` (to compare them).
void Program(Worker& worker, MeshGroup* group, MeshStore* store,
             const std::string& dir, bool edit, std::vector<std::string>* out,
             std::mutex* each_mutex,
             std::vector<std::vector<std::string>>* each) {
  auto mesh = Must(Mesh::Open(worker, {.store = store, .group = group}));
  Table orders = Must(mesh->Source(Describe("sales.orders", Tier::kRaw),
                                   {.path = dir + "/orders.csv"}));
  Table customers = Must(mesh->Source(Describe("crm.customers", Tier::kRaw),
                                      {.path = dir + "/customers.jsonl"}));
  Table masked = Must(customers.Mask("email", [](const Value& v) {
    return v.is_null() ? v : Value("masked");
  }));
  Table paid = Must(orders.Filter(
      {"amount"}, [](const Row& in) { return in[0].as_int64() > 0; }));
  Table enriched =
      Must(mesh->Publish(Must(paid.Join(masked, {"customer_id"})),
                         Describe("sales.enriched", Tier::kCurated)));
  Must(mesh->Publish(Must(enriched.GroupBy({"country"})
                              .Aggregate({Count("n"), Sum("amount", "revenue"),
                                          Max("email", "some_email")})),
                     Describe("finance.by_country", Tier::kAuthoritative))
           .status());
  Must(mesh->Advance());
  std::vector<std::string> seen;
  Observe(*mesh, "start", &seen);
  if (edit) {
    if (worker.index() == 0) {
      WriteFile(dir + "/orders.csv",
                "order_id,customer_id,amount\n1,10,5\n2,11,70\n4,12,3\n"
                "5,10,x\n6,10,-1\n");
    }
    RefreshReport report = Must(mesh->Refresh());
    seen.push_back(absl::StrCat("report ", report.rows_inserted, " ",
                                report.rows_retracted, " ",
                                report.quarantine_changes));
    Observe(*mesh, "edited", &seen);
    // The customers' file goes away and comes back: the source keeps its
    // rows meanwhile, the same on every worker.
    const std::string customers_file = dir + "/customers.jsonl";
    if (worker.index() == 0) {
      std::filesystem::rename(customers_file, customers_file + ".away");
    }
    RefreshReport away = Must(mesh->Refresh());
    seen.push_back(absl::StrCat("failing ", away.failing_sources.size()));
    Observe(*mesh, "failing", &seen);
    if (worker.index() == 0) {
      std::filesystem::rename(customers_file + ".away", customers_file);
    }
    RefreshReport back = Must(mesh->Refresh());
    seen.push_back(absl::StrCat("failing ", back.failing_sources.size()));
    Observe(*mesh, "recovered", &seen);
    Must(mesh->Retire("sales.enriched"));
    Must(mesh->Advance());
    Observe(*mesh, "retired", &seen);
    Must(mesh->Publish(enriched, Describe("sales.enriched", Tier::kCurated))
             .status());
    Must(mesh->Advance());
    Observe(*mesh, "republished", &seen);
  }
  if (worker.index() == 0) {
    *out = seen;
    for (MeshChange& c : mesh->TakeChanges()) {
      // Where the files are is not a result.
      for (size_t at; (at = c.text.find(dir)) != std::string::npos;) {
        c.text.erase(at, dir.size());
      }
      out->push_back(absl::StrCat("change ", c.time, " ", c.stream, " ", c.diff,
                                  " ", c.text));
    }
  }
  std::lock_guard<std::mutex> lock(*each_mutex);
  (*each)[worker.index()] = std::move(seen);
}

class MeshWorkersTest : public ::testing::Test {
 protected:
  std::string Files(const std::string& name) {
    std::string dir = (root_ / name).string();
    std::filesystem::create_directories(dir);
    WriteFile(dir + "/orders.csv",
              "order_id,customer_id,amount\n1,10,5\n2,11,7\n3,10,9\n"
              "4,12,3\n");
    WriteFile(dir + "/customers.jsonl",
              "{\"customer_id\":10,\"email\":\"a@x\",\"country\":\"NO\"}\n"
              "{\"customer_id\":11,\"email\":\"b@x\",\"country\":\"SE\"}\n"
              "{\"customer_id\":12,\"email\":null,\"country\":\"NO\"}\n"
              "{\"customer_id\": 13, \n");
    return dir;
  }

  // Runs the program on `workers` workers; returns worker 0's output and
  // checks that every worker saw the same.
  std::vector<std::string> Run(int workers, const std::string& dir,
                               MeshStore* store, bool edit) {
    MeshGroup group;
    std::vector<std::string> out;
    std::mutex each_mutex;
    std::vector<std::vector<std::string>> each(workers);
    absl::Status status = Runtime::Execute(workers, [&](Worker& worker) {
      Program(worker, &group, store, dir, edit, &out, &each_mutex, &each);
    });
    EXPECT_THAT(status, IsOk());
    for (int w = 1; w < workers; ++w) {
      EXPECT_TRUE(SameLines(each[w], each[0]))
          << "worker " << w << " of " << workers;
    }
    return out;
  }

  ::diffmesh::testing::TempDir root_;
};

TEST_F(MeshWorkersTest, SameResultsOnOneToFourWorkers) {
  std::vector<std::string> one = Run(1, Files("w1"), nullptr, true);
  ASSERT_GT(one.size(), 40u);
  // Hand-checked corner: the NO group has one order with a null email.
  EXPECT_THAT(one, ::testing::Contains(
                       "start finance.by_country: (\"NO\", 3, 17, \"masked\") "
                       "(\"SE\", 1, 7, \"masked\")"));
  // The customers' file gone for one refresh: held, then recovered.
  EXPECT_THAT(one, ::testing::Contains(::testing::HasSubstr(
                       "failing source crm.customers NOT_FOUND since")));
  EXPECT_THAT(one, ::testing::Contains(
                       "recovered source crm.customers OK since 3 failed 0"));
  EXPECT_THAT(one, ::testing::Contains("failing 1"));
  for (int workers = 2; workers <= 4; ++workers) {
    EXPECT_TRUE(SameLines(
        Run(workers, Files(absl::StrCat("w", workers)), nullptr, true), one))
        << workers << " workers";
  }
}

TEST_F(MeshWorkersTest, RestartWithAnotherNumberOfWorkers) {
  // Reference: one worker, no restart.
  std::vector<std::string> reference = Run(1, Files("ref"), nullptr, false);
  const std::string dir = Files("stored");
  const std::string store_dir = (root_ / "store").string();
  {
    auto store = Must(RocksMeshStore::Open(store_dir));
    Run(2, dir, store.get(), false);
  }
  auto store = Must(RocksMeshStore::Open(store_dir));
  std::vector<std::string> restarted = Run(3, dir, store.get(), false);
  // The observations (not the changes: the restart adds replayed ones) are
  // those of the single run.
  auto observations = [](const std::vector<std::string>& v) {
    std::vector<std::string> out;
    for (const std::string& s : v) {
      if (s.rfind("start ", 0) == 0) out.push_back(s);
    }
    return out;
  };
  EXPECT_TRUE(SameLines(observations(restarted), observations(reference)));
  EXPECT_FALSE(observations(reference).empty());
}

// Workers whose mesh calls differ are told so, every one of them, instead
// of reading each other's results.
TEST_F(MeshWorkersTest, DivergentCallsAreReportedOnEveryWorker) {
  const std::string dir = Files("diverged");
  MeshGroup group;
  std::vector<absl::Status> first(2), then(2);
  ASSERT_THAT(Runtime::Execute(
                  2,
                  [&](Worker& worker) {
                    auto mesh = Must(Mesh::Open(worker, {.group = &group}));
                    Must(mesh->Source(Describe("sales.orders", Tier::kRaw),
                                      {.path = dir + "/orders.csv"}));
                    Must(mesh->Advance());
                    const int w = worker.index();
                    first[w] = w == 0 ? mesh->Retire("sales.orders")
                                      : mesh->UpdateDescriptor(Describe(
                                            "sales.orders", Tier::kCurated));
                    then[w] = mesh->Advance();
                  }),
              IsOk());
  EXPECT_THAT(first[0], IsOk());  // worker 0 cannot know yet
  EXPECT_THAT(first[1], StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(std::string(first[1].message()),
              ::testing::AllOf(HasSubstr("diverged"),
                               HasSubstr("UpdateDescriptor(sales.orders)"),
                               HasSubstr("Retire(sales.orders)")));
  for (const absl::Status& s : then) {
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition));
    EXPECT_EQ(s, first[1]);
  }
}

// A worker waiting for worker 0 to agree on a call gets an error when
// worker 0's mesh is gone, instead of waiting for ever.
TEST_F(MeshWorkersTest, AWorkerWaitingForALeftWorkerZeroIsTold) {
  const std::string dir = Files("left");
  MeshGroup group;
  absl::Status waited;
  ASSERT_THAT(Runtime::Execute(
                  2,
                  [&](Worker& worker) {
                    auto mesh = Must(Mesh::Open(worker, {.group = &group}));
                    if (worker.index() == 0) return;
                    waited = mesh->Source(Describe("sales.orders", Tier::kRaw),
                                          {.path = dir + "/orders.csv"})
                                 .status();
                  }),
              IsOk());
  EXPECT_THAT(waited, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(std::string(waited.message()),
              HasSubstr("worker 0 left the mesh"));
}

// Across processes the mesh says plainly that it cannot run there yet,
// on every worker of every process, instead of waiting for a group it
// does not share.
TEST_F(MeshWorkersTest, AMeshAcrossProcessesIsRefusedOnEveryWorker) {
  std::mutex mu;
  std::vector<absl::Status> opened;
  ASSERT_THAT(testing::RunOnLayout({2, 1},
                                   [&](Worker& worker) {
                                     MeshGroup group;
                                     auto mesh =
                                         Mesh::Open(worker, {.group = &group});
                                     std::lock_guard<std::mutex> lock(mu);
                                     opened.push_back(mesh.status());
                                   }),
              IsOk());
  ASSERT_EQ(opened.size(), 2u);
  for (const absl::Status& s : opened) {
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition));
    EXPECT_THAT(std::string(s.message()),
                HasSubstr("does not run across processes yet"));
  }
}

}  // namespace
}  // namespace diffmesh
