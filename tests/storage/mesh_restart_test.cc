// A mesh on a RocksDB store, restarted: the catalog, the lineage, the
// products' rows and their data versions come back as they were; files
// edited while it was down give exactly their difference; version
// immutability holds across the restart; a corrupt record is DataLoss
// naming its key.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "catalog/mesh.h"
#include "engine/check.h"
#include "engine/graph.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "storage/rocks_mesh_store.h"
#include "tests/status_matchers.h"
#include "tests/storage/forwarding_store.h"
#include "tests/temp_dir.h"

namespace diffmesh {
namespace {

using ::diffmesh::testing::IsOk;
using ::diffmesh::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

template <class T>
T Must(absl::StatusOr<T> v) {
  DM_CHECK_MSG(v.ok(), v.status().ToString().c_str());
  return *std::move(v);
}

ProductDescriptor Describe(const std::string& id, Tier tier) {
  ProductDescriptor d;
  d.id = id;
  d.owner = "owner-of-" + id;
  d.tier = tier;
  d.description = "about " + id;
  return d;
}

// Everything one run of the program sees.
struct Snapshot {
  std::vector<ProductDescriptor> catalog;
  std::vector<LineageEdge> lineage;
  std::vector<std::vector<Row>> rows;
  std::vector<std::vector<DataVersion>> versions;
  std::vector<std::vector<std::vector<Row>>> as_of;
};

const std::vector<std::string> kProducts = {
    "sales.orders", "crm.customers", "sales.enriched", "finance.by_country"};

class MeshRestartTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_dir_ = (root_ / "diffmesh-data").string();
    orders_ = Write("orders.csv",
                    "order_id,customer_id,amount\n1,10,5\n2,11,7\n3,10,9\n");
    customers_ = Write("customers.jsonl",
                       "{\"customer_id\":10,\"country\":\"NO\"}\n"
                       "{\"customer_id\":11,\"country\":\"SE\"}\n");
  }
  std::string Write(const std::string& name, const std::string& text) {
    return root_.Write(name, text);
  }

  // The program: the same declarations in every run.
  void Declare(Mesh* mesh) {
    Table orders = Must(
        mesh->Source(Describe("sales.orders", Tier::kRaw), {.path = orders_}));
    Table customers = Must(mesh->Source(Describe("crm.customers", Tier::kRaw),
                                        {.path = customers_}));
    Table enriched =
        Must(mesh->Publish(Must(orders.Join(customers, {"customer_id"})),
                           Describe("sales.enriched", Tier::kCurated)));
    Must(mesh->Publish(
        Must(enriched.GroupBy({"country"})
                 .Aggregate({Count("orders"), Sum("amount", "revenue")})),
        Describe("finance.by_country", Tier::kAuthoritative)));
  }

  Snapshot Take(const Mesh& mesh) {
    Snapshot s;
    s.catalog = mesh.Catalog();
    s.lineage = mesh.Lineage();
    for (const std::string& id : kProducts) {
      s.rows.push_back(Must(mesh.Read(id)));
      s.versions.push_back(mesh.DataVersions(id));
      std::vector<std::vector<Row>> as_of;
      for (const DataVersion& v : s.versions.back()) {
        as_of.push_back(Must(mesh.ReadAsOf(id, v.number)));
      }
      s.as_of.push_back(std::move(as_of));
    }
    return s;
  }

  ::diffmesh::testing::TempDir root_;
  std::string store_dir_, orders_, customers_;
};

void ExpectSame(const Snapshot& a, const Snapshot& b) {
  EXPECT_EQ(a.catalog, b.catalog);
  EXPECT_EQ(a.lineage, b.lineage);
  EXPECT_EQ(a.rows, b.rows);
  ASSERT_EQ(a.versions.size(), b.versions.size());
  for (size_t i = 0; i < a.versions.size(); ++i) {
    ASSERT_EQ(a.versions[i].size(), b.versions[i].size()) << kProducts[i];
    for (size_t j = 0; j < a.versions[i].size(); ++j) {
      EXPECT_EQ(a.versions[i][j].number, b.versions[i][j].number);
      EXPECT_EQ(a.versions[i][j].time, b.versions[i][j].time);
    }
  }
  EXPECT_EQ(a.as_of, b.as_of);
}

TEST_F(MeshRestartTest, CleanRestartRestoresEverything) {
  Snapshot before;
  uint64_t time_before = 0;
  {
    auto store = Must(RocksMeshStore::Open(store_dir_));
    Worker worker;
    auto mesh = Must(Mesh::Open(worker, {.store = store.get()}));
    Declare(mesh.get());
    ASSERT_THAT(mesh->Advance(), IsOk());
    Write("orders.csv",
          "order_id,customer_id,amount\n1,10,5\n2,11,8\n3,10,9\n4,11,1\n");
    Must(mesh->Refresh());
    Write("customers.jsonl",
          "{\"customer_id\":10,\"country\":\"DK\"}\n"
          "{\"customer_id\":11,\"country\":\"SE\"}\n");
    Must(mesh->Refresh());
    before = Take(*mesh);
    time_before = mesh->time();
    ASSERT_EQ(before.catalog.size(), 4u);
    ASSERT_EQ(before.versions[3].size(), 3u);  // three different revenues
  }
  {
    auto store = Must(RocksMeshStore::Open(store_dir_));
    Worker worker;
    auto mesh = Must(Mesh::Open(worker, {.store = store.get()}));
    EXPECT_EQ(mesh->time(), time_before);
    Declare(mesh.get());
    ASSERT_THAT(mesh->Advance(), IsOk());
    ExpectSame(before, Take(*mesh));
    // Nothing changed while down: the restored state produced every
    // change, the files none.
    for (const MeshChange& c : mesh->TakeChanges()) {
      EXPECT_LT(c.time, time_before) << c.stream << " " << c.text;
    }
    // An edit after the restart is exactly its difference.
    Write("orders.csv",
          "order_id,customer_id,amount\n1,10,5\n2,11,8\n3,10,9\n4,11,1\n"
          "5,10,100\n");
    RefreshReport report = Must(mesh->Refresh());
    EXPECT_EQ(report.rows_inserted, 1);
    EXPECT_EQ(report.rows_retracted, 0);
    EXPECT_THAT(
        Must(mesh->Read("finance.by_country")),
        ElementsAre(Row{Value("DK"), Value(int64_t{3}), Value(int64_t{114})},
                    Row{Value("SE"), Value(int64_t{2}), Value(int64_t{9})}));
  }
}

TEST_F(MeshRestartTest, EditsWhileDownArriveAsTheirDifference) {
  {
    auto store = Must(RocksMeshStore::Open(store_dir_));
    Worker worker;
    auto mesh = Must(Mesh::Open(worker, {.store = store.get()}));
    Declare(mesh.get());
    ASSERT_THAT(mesh->Advance(), IsOk());
  }
  Write("orders.csv", "order_id,customer_id,amount\n1,10,5\n3,10,9\n");
  auto store = Must(RocksMeshStore::Open(store_dir_));
  Worker worker;
  auto mesh = Must(Mesh::Open(worker, {.store = store.get()}));
  Declare(mesh.get());
  ASSERT_THAT(mesh->Advance(), IsOk());
  std::vector<std::string> now;
  for (const MeshChange& c : mesh->TakeChanges()) {
    if (c.time + 1 == mesh->time() && c.stream == "product sales.orders") {
      now.push_back(std::to_string(c.diff) + " " + c.text);
    }
  }
  EXPECT_THAT(now, ElementsAre("-1 (2, 11, 7)"));
}

// A source whose file is gone at a restart keeps the rows restored from
// the store (none retracted, none doubled) and says why; when the file is
// back it recovers with nothing to change.
TEST_F(MeshRestartTest, ASourceFailingAtARestartKeepsItsRowsWithoutDoubling) {
  std::vector<Row> before;
  {
    auto store = Must(RocksMeshStore::Open(store_dir_));
    Worker worker;
    auto mesh = Must(Mesh::Open(worker, {.store = store.get()}));
    Declare(mesh.get());
    ASSERT_THAT(mesh->Advance(), IsOk());
    before = Must(mesh->Read("finance.by_country"));
  }
  auto store = Must(RocksMeshStore::Open(store_dir_));
  Worker worker;
  auto mesh = Must(Mesh::Open(worker, {.store = store.get()}));
  Declare(mesh.get());
  const std::string text =
      "order_id,customer_id,amount\n1,10,5\n2,11,7\n3,10,9\n";
  std::filesystem::remove(orders_);
  ASSERT_THAT(mesh->Advance(), IsOk());
  EXPECT_THAT(Must(mesh->SourceStatusOf("sales.orders")).status,
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_TRUE(Must(mesh->SourceStatusOf("crm.customers")).status.ok());
  EXPECT_EQ(Must(mesh->Read("finance.by_country")), before);
  Write("orders.csv", text);
  RefreshReport report = Must(mesh->Refresh());
  EXPECT_TRUE(report.failing_sources.empty());
  EXPECT_EQ(report.rows_inserted + report.rows_retracted, 0);
  EXPECT_TRUE(Must(mesh->SourceStatusOf("sales.orders")).status.ok());
  EXPECT_EQ(Must(mesh->Read("finance.by_country")), before);
}

TEST_F(MeshRestartTest, VersionsStayImmutableAcrossRestarts) {
  {
    auto store = Must(RocksMeshStore::Open(store_dir_));
    Worker worker;
    auto mesh = Must(Mesh::Open(worker, {.store = store.get()}));
    Declare(mesh.get());
    ASSERT_THAT(mesh->Advance(), IsOk());
  }
  auto store = Must(RocksMeshStore::Open(store_dir_));
  Worker worker;
  auto mesh = Must(Mesh::Open(worker, {.store = store.get()}));
  Table orders = Must(
      mesh->Source(Describe("sales.orders", Tier::kRaw), {.path = orders_}));
  // Another schema under the version published in the first run.
  auto changed = mesh->Publish(Must(orders.Select({"order_id"})),
                               Describe("finance.by_country", Tier::kCurated));
  EXPECT_THAT(changed, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(std::string(changed.status().message()), HasSubstr("immutable"));
}

// A store that records what each append call held and can be told to fail
// the next appends.
class RecordingStore : public ::diffmesh::testing::ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  absl::Status AppendSourceBatches(
      const std::vector<SourceAppend>& appends) override {
    if (failures > 0) {
      --failures;
      return absl::UnavailableError("disk full (injected)");
    }
    std::vector<std::string> sources;
    for (const SourceAppend& a : appends) sources.push_back(a.source);
    calls.push_back(sources);
    return inner_->AppendSourceBatches(appends);
  }

  std::vector<std::vector<std::string>> calls;
  int failures = 0;
};

// Changes to several sources at one time are logged by one store write (so
// a crash cannot log one source's and not the other's), and a failed write
// feeds none of them: the next Refresh brings both.
TEST_F(MeshRestartTest, ChangesOfOneTimeAreLoggedTogetherOrNotAtAll) {
  auto rocks = Must(RocksMeshStore::Open(store_dir_));
  RecordingStore store(rocks.get());
  Worker worker;
  auto mesh = Must(Mesh::Open(worker, {.store = &store}));
  Declare(mesh.get());
  ASSERT_THAT(mesh->Advance(), IsOk());
  ASSERT_EQ(store.calls.size(), 1u);
  EXPECT_THAT(store.calls[0], ElementsAre("crm.customers", "sales.orders"));
  const std::vector<Row> before = Must(mesh->Read("finance.by_country"));

  Write("orders.csv", "order_id,customer_id,amount\n1,10,5\n2,12,7\n");
  Write("customers.jsonl",
        "{\"customer_id\":10,\"country\":\"NO\"}\n"
        "{\"customer_id\":12,\"country\":\"FI\"}\n");
  store.failures = 1;
  absl::StatusOr<RefreshReport> failed = mesh->Refresh();
  EXPECT_THAT(failed, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(std::string(failed.status().message()), HasSubstr("disk full"));
  EXPECT_EQ(Must(mesh->Read("finance.by_country")), before);
  EXPECT_EQ(store.calls.size(), 1u);

  RefreshReport report = Must(mesh->Refresh());
  EXPECT_EQ(report.files_changed.size(), 2u);
  ASSERT_EQ(store.calls.size(), 2u);
  EXPECT_THAT(store.calls[1], ElementsAre("crm.customers", "sales.orders"));
  EXPECT_THAT(
      Must(mesh->Read("finance.by_country")),
      ElementsAre(Row{Value("FI"), Value(int64_t{1}), Value(int64_t{7})},
                  Row{Value("NO"), Value(int64_t{1}), Value(int64_t{5})}));
}

TEST_F(MeshRestartTest, CorruptRecordIsDataLossNamingTheKey) {
  {
    auto store = Must(RocksMeshStore::Open(store_dir_));
    Worker worker;
    auto mesh = Must(Mesh::Open(worker, {.store = store.get()}));
    Declare(mesh.get());
    ASSERT_THAT(mesh->Advance(), IsOk());
  }
  {
    std::vector<std::string> names;
    ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(),
                                                store_dir_, &names)
                    .ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    for (const std::string& name : names) {
      families.emplace_back(name, rocksdb::ColumnFamilyOptions());
    }
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::DBOptions(), store_dir_, families,
                                  &handles, &raw)
                    .ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    for (auto* h : handles) {
      if (h->GetName() == "catalog") {
        ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), h, "sales.enriched@1.0",
                            "not a flatbuffer")
                        .ok());
      }
    }
    for (auto* h : handles) ASSERT_TRUE(db->DestroyColumnFamilyHandle(h).ok());
  }
  auto store = Must(RocksMeshStore::Open(store_dir_));
  Worker worker;
  auto mesh = Mesh::Open(worker, {.store = store.get()});
  EXPECT_THAT(mesh, StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(std::string(mesh.status().message()),
              HasSubstr("sales.enriched@1.0"));
}

}  // namespace
}  // namespace diffmesh

namespace diffmesh {
namespace {

// A long history: the source's log is folded into checkpoints behind the
// oldest retained version, so it stays short, and a restart still gives
// the same rows and the same retained versions (times and rows).
TEST_F(MeshRestartTest, CheckpointsKeepTheLogShortAndRestartsExact) {
  std::mt19937_64 rng(11);
  std::map<int, int> amounts = {{1, 5}, {2, 7}, {3, 9}};
  auto write_orders = [&] {
    std::string text = "order_id,customer_id,amount\n";
    for (const auto& [id, amount] : amounts) {
      absl::StrAppend(&text, id, ",", 10 + id % 2, ",", amount, "\n");
    }
    Write("orders.csv", text);
  };
  const MeshOptions options{.retained_versions = 4, .checkpoint_after = 8};
  std::vector<Row> rows_before, by_country_before;
  std::vector<DataVersion> versions_before;
  std::vector<std::vector<Row>> as_of_before;
  {
    auto store = Must(RocksMeshStore::Open(store_dir_));
    Worker worker;
    MeshOptions o = options;
    o.store = store.get();
    auto mesh = Must(Mesh::Open(worker, o));
    Declare(mesh.get());
    for (int round = 0; round < 60; ++round) {
      amounts[1 + static_cast<int>(rng() % 5)] = static_cast<int>(rng() % 50);
      write_orders();
      ASSERT_THAT(mesh->Refresh(), IsOk());
      // Never more than the batches since the last checkpoint, the
      // retained versions' and the checkpoint itself.
      ASSERT_LE(Must(store->ReadSourceBatches("sales.orders")).size(),
                8u + 4u + 1u)
          << "round " << round;
    }
    rows_before = Must(mesh->Read("sales.orders"));
    by_country_before = Must(mesh->Read("finance.by_country"));
    versions_before = mesh->DataVersions("sales.orders");
    for (const DataVersion& v : versions_before) {
      as_of_before.push_back(Must(mesh->ReadAsOf("sales.orders", v.number)));
    }
  }
  auto store = Must(RocksMeshStore::Open(store_dir_));
  Worker worker;
  MeshOptions o = options;
  o.store = store.get();
  auto mesh = Must(Mesh::Open(worker, o));
  Declare(mesh.get());
  ASSERT_THAT(mesh->Advance(), IsOk());
  EXPECT_EQ(Must(mesh->Read("sales.orders")), rows_before);
  EXPECT_EQ(Must(mesh->Read("finance.by_country")), by_country_before);
  const std::vector<DataVersion> versions = mesh->DataVersions("sales.orders");
  ASSERT_EQ(versions.size(), versions_before.size());
  for (size_t i = 0; i < versions.size(); ++i) {
    EXPECT_EQ(versions[i].time, versions_before[i].time);
    EXPECT_EQ(Must(mesh->ReadAsOf("sales.orders", versions[i].number)),
              as_of_before[i]);
  }
}

}  // namespace
}  // namespace diffmesh

namespace diffmesh {
namespace {

// After a restart the history before it comes back collapsed: a
// subscription resumes from the restart time on, and one from before it is
// told to start from a snapshot.
TEST_F(MeshRestartTest, SubscriptionsResumeFromTheRestartOn) {
  uint64_t restart_time = 0;
  {
    auto store = Must(RocksMeshStore::Open(store_dir_));
    Worker worker;
    auto mesh = Must(Mesh::Open(worker, {.store = store.get()}));
    Declare(mesh.get());
    ASSERT_THAT(mesh->Advance(), IsOk());
    Write("orders.csv", "order_id,customer_id,amount\n1,10,5\n");
    ASSERT_THAT(mesh->Refresh(), IsOk());
    restart_time = mesh->time();
  }
  auto store = Must(RocksMeshStore::Open(store_dir_));
  Worker worker;
  auto mesh = Must(Mesh::Open(worker, {.store = store.get()}));
  EXPECT_EQ(mesh->time(), restart_time);
  EXPECT_THAT(mesh->Subscribe({.from = restart_time - 1}).status(),
              StatusIs(absl::StatusCode::kOutOfRange));
  auto sub = Must(mesh->Subscribe({.from = restart_time}));
  Declare(mesh.get());
  Write("orders.csv", "order_id,customer_id,amount\n1,10,5\n4,11,8\n");
  ASSERT_THAT(mesh->Refresh(), IsOk());
  // The replayed history (before the restart time) is not delivered; the
  // change made at the restart time is.
  MeshEvents events = Must(sub->TryNext());
  EXPECT_EQ(events.time, restart_time);
  std::vector<std::string> orders;
  for (const MeshEvent& e : events.events) {
    if (e.stream == MeshStream::kProductRows && e.id == "sales.orders") {
      orders.push_back(std::to_string(e.diff) + " " + RowDebugString(e.row()));
    }
  }
  EXPECT_THAT(orders, ElementsAre("1 (4, 11, 8)"));
}

}  // namespace
}  // namespace diffmesh
