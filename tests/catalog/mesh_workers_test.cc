// A mesh on 1, 2, 3 and 4 workers, and across 2 and 3 processes: the
// products, the catalog, the lineage, its closure, the search, the
// quarantine, the data versions and the recorded changes are the same as on
// one worker, on every worker of every process, also across a restart from
// a RocksDB store with another number of workers or processes.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <regex>
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

// The program every worker runs; the observations of the first worker of
// each process (and its process's changes) go to `out`, every worker's to
// `each` (to compare them).
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
  if (worker.index() == worker.first_local()) {
    *out = seen;
    for (MeshChange& c : mesh->TakeChanges()) {
      // Where the files are is not a result (under mpirun process 0's
      // directory is not this process's `dir`).
      c.text = std::regex_replace(c.text, std::regex("/[^ \"':]*/"), "");
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

  // Runs the program on `layout` ("3": three worker threads, "2x2": two
  // processes of two); returns the output of this process's first worker
  // and checks that every worker of every process here saw the same. Each
  // process has its own group; only process 0's worker 0 uses the store.
  std::vector<std::string> Run(const std::string& layout_name,
                               const std::string& dir, MeshStore* store,
                               bool edit) {
    return Run(::diffmesh::testing::WorkerLayouts(layout_name).at(0), dir,
               store, edit);
  }
  std::vector<std::string> Run(const ::diffmesh::testing::WorkerLayout& layout,
                               const std::string& dir, MeshStore* store,
                               bool edit) {
    const int processes = std::max(layout.processes, Runtime::Processes());
    const int workers = processes * layout.threads;
    std::vector<std::unique_ptr<MeshGroup>> groups;
    for (int p = 0; p < processes; ++p) {
      groups.push_back(std::make_unique<MeshGroup>());
    }
    std::vector<std::vector<std::string>> outs(processes);
    std::mutex each_mutex;
    std::vector<std::vector<std::string>> each(workers);
    absl::Status status =
        ::diffmesh::testing::RunOnLayout(layout, [&](Worker& worker) {
          const int process = worker.first_local() / layout.threads;
          Program(worker, groups[process].get(), store, dir, edit,
                  &outs[process], &each_mutex, &each);
        });
    EXPECT_THAT(status, IsOk()) << layout.Name();
    const int here = Runtime::ProcessIndex();
    const std::vector<std::string>& first = each[here * layout.threads];
    for (int w = 0; w < workers; ++w) {
      if (each[w].empty() && Runtime::Processes() > 1) continue;  // not here
      EXPECT_TRUE(SameLines(each[w], first))
          << "worker " << w << " of " << layout.Name();
    }
    for (int p = 0; p < processes; ++p) {
      if (outs[p].empty() && Runtime::Processes() > 1) continue;
      EXPECT_TRUE(SameLines(outs[p], outs[here]))
          << "process " << p << " of " << layout.Name();
    }
    return outs[here];
  }

  ::diffmesh::testing::TempDir root_;
};

TEST_F(MeshWorkersTest, SameResultsOnOneToFourWorkers) {
  std::vector<std::string> one = Run("1", Files("w1"), nullptr, true);
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
  // Under mpirun the launch decides the processes, and "PxN" is skipped.
  for (const ::diffmesh::testing::WorkerLayout& layout :
       ::diffmesh::testing::WorkerLayouts("2,3,4,2x1,2x2,3x1")) {
    const std::string name = layout.Name();
    EXPECT_TRUE(SameLines(
        Run(layout,
            Files(absl::StrCat("w", layout.processes, "x", layout.threads)),
            nullptr, true),
        one))
        << name;
  }
}

TEST_F(MeshWorkersTest, RestartWithAnotherNumberOfWorkers) {
  // Reference: one worker, no restart.
  std::vector<std::string> reference = Run("1", Files("ref"), nullptr, false);
  const std::string dir = Files("stored");
  const std::string store_dir = (root_ / "store").string();
  {
    auto store = Must(RocksMeshStore::Open(store_dir));
    Run("2", dir, store.get(), false);
  }
  auto store = Must(RocksMeshStore::Open(store_dir));
  std::vector<std::string> restarted = Run("3", dir, store.get(), false);
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
  // And across processes, from the same store (process 0's).
  std::vector<std::string> across = Run("2x2", dir, store.get(), false);
  EXPECT_TRUE(SameLines(observations(across), observations(reference)));
}

// A row's multiplicity overflowing on whichever worker owns its key, in one
// process or across several, is the OutOfRange of that Advance on every
// worker (the progress that closes the time tells worker 0), and of that
// one only. Several keys, so that some are owned by workers other than 0.
TEST_F(MeshWorkersTest, AMultiplicityOverflowOnAnyWorkerIsReportedByEvery) {
  for (const char* key : {"1", "2", "3", "4"}) {
    const std::string twice =
        absl::StrCat("diff,k,v\n1099511627776,", key, ",a\n");
    const std::string a =
        root_.Write(absl::StrCat("a", key, ".changes.csv"), twice);
    const std::string b =
        root_.Write(absl::StrCat("b", key, ".changes.csv"), twice);
    for (const ::diffmesh::testing::WorkerLayout& layout :
         ::diffmesh::testing::WorkerLayouts("2,3,2x1,3x1")) {
      const int processes = std::max(layout.processes, Runtime::Processes());
      std::vector<std::unique_ptr<MeshGroup>> groups;
      for (int p = 0; p < processes; ++p) {
        groups.push_back(std::make_unique<MeshGroup>());
      }
      const int workers = processes * layout.threads;
      std::vector<absl::StatusCode> first(workers, absl::StatusCode::kUnknown);
      std::vector<absl::StatusCode> then(workers, absl::StatusCode::kUnknown);
      ASSERT_THAT(
          ::diffmesh::testing::RunOnLayout(
              layout,
              [&](Worker& worker) {
                const int process = worker.first_local() / layout.threads;
                auto mesh =
                    Must(Mesh::Open(worker, {.group = groups[process].get()}));
                Table ta = Must(
                    mesh->Source(Describe("t.a", Tier::kRaw), {.path = a}));
                Table tb = Must(
                    mesh->Source(Describe("t.b", Tier::kRaw), {.path = b}));
                Table joined =
                    Must(ta.JoinOn(Must(tb.Rename("v", "w")), {{"k", "k"}}));
                Must(mesh->Publish(joined, Describe("t.joined", Tier::kRaw)));
                first[worker.index()] = mesh->Advance().code();
                then[worker.index()] = mesh->Advance().code();
              }),
          IsOk());
      for (int w = 0; w < workers; ++w) {
        if (first[w] == absl::StatusCode::kUnknown &&
            Runtime::Processes() > 1) {
          continue;  // a worker of another MPI process
        }
        EXPECT_EQ(first[w], absl::StatusCode::kOutOfRange)
            << "key " << key << ", worker " << w << " of " << layout.Name();
        EXPECT_EQ(then[w], absl::StatusCode::kOk)
            << "key " << key << ", worker " << w << " of " << layout.Name();
      }
    }
  }
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

// Across processes a worker whose calls differ from worker 0's is told, in
// every process, and so is a process waiting for a worker 0 that left.
TEST_F(MeshWorkersTest, AcrossProcessesDivergenceAndALeftWorkerZeroAreTold) {
  const std::string dir = Files("across");
  // A group per process and mesh.
  std::vector<std::unique_ptr<MeshGroup>> groups;
  for (int i = 0; i < 4; ++i) groups.push_back(std::make_unique<MeshGroup>());
  std::mutex mu;
  std::vector<absl::Status> diverged(4), left(4);
  ASSERT_THAT(
      ::diffmesh::testing::RunOnLayout(
          {2, 2},
          [&](Worker& worker) {
            const int process = worker.first_local() / 2;
            const int w = worker.index();
            absl::Status first;
            {
              auto mesh =
                  Must(Mesh::Open(worker, {.group = groups[process].get()}));
              Must(mesh->Source(Describe("sales.orders", Tier::kRaw),
                                {.path = dir + "/orders.csv"}));
              Must(mesh->Advance());
              first = w == 0 ? mesh->Retire("sales.orders")
                             : mesh->UpdateDescriptor(
                                   Describe("sales.orders", Tier::kCurated));
            }
            // A second mesh whose worker 0 leaves at once.
            absl::Status waited;
            {
              auto mesh = Must(
                  Mesh::Open(worker, {.group = groups[2 + process].get()}));
              if (w != 0) {
                waited = mesh->Source(Describe("crm.customers", Tier::kRaw),
                                      {.path = dir + "/customers.jsonl"})
                             .status();
              }
            }
            std::lock_guard<std::mutex> lock(mu);
            diverged[w] = first;
            left[w] = waited;
          }),
      IsOk());
  EXPECT_THAT(diverged[0], IsOk());  // worker 0 cannot know
  for (int w = 1; w < 4; ++w) {
    EXPECT_THAT(diverged[w], StatusIs(absl::StatusCode::kFailedPrecondition))
        << "worker " << w;
    EXPECT_THAT(std::string(diverged[w].message()),
                ::testing::AllOf(HasSubstr("diverged"),
                                 HasSubstr("Retire(sales.orders)")))
        << "worker " << w;
  }
  // Process 1's workers were told by worker 0's relay.
  for (int w = 2; w < 4; ++w) {
    EXPECT_THAT(std::string(left[w].message()),
                HasSubstr("worker 0 left the mesh"))
        << "worker " << w;
  }
}

}  // namespace
}  // namespace diffmesh
