// The mesh store under storage faults: a write, sync or read that fails at
// the n-th call, a full disk, a torn write. Every call that meets one
// returns a clear error, the mesh shows no half-applied change, a retry
// succeeds once the fault is gone, and a restart finds every acknowledged
// change once.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "catalog/mesh.h"
#include "engine/check.h"
#include "engine/graph.h"
#include "engine/status_macros.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/env.h"
#include "storage/rocks_mesh_store.h"
#include "tests/status_matchers.h"
#include "tests/storage/fault_fs.h"
#include "tests/temp_dir.h"

namespace diffmesh {
namespace {

using ::diffmesh::testing::FaultFileSystem;
using ::diffmesh::testing::IsOk;
using ::diffmesh::testing::StatusIs;
using ::testing::AnyOf;
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
  d.owner = "ops";
  d.tier = tier;
  d.description = "about " + id;
  return d;
}

// What a program sees of its mesh: every product's rows.
using Seen = std::vector<std::vector<Row>>;

class StoreFaultsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs_ = std::make_shared<FaultFileSystem>();
    env_ = rocksdb::NewCompositeEnv(fs_);
    store_dir_ = (root_ / "store").string();
    orders_ = root_.Write("orders.csv", Orders(3));
    customers_ = root_.Write("customers.csv", "customer_id,region\n1,n\n2,s\n");
  }

  // n orders, spread over two customers.
  static std::string Orders(int n) {
    std::string out = "order_id,customer_id,amount\n";
    for (int i = 1; i <= n; ++i) {
      out += std::to_string(i) + "," + std::to_string(1 + i % 2) + "," +
             std::to_string(i * 10) + "\n";
    }
    return out;
  }

  absl::StatusOr<std::unique_ptr<RocksMeshStore>> OpenStore() {
    return RocksMeshStore::Open(store_dir_, {.env = env_.get()});
  }

  static absl::Status Declare(Mesh* mesh, const std::string& orders,
                              const std::string& customers) {
    DM_ASSIGN_OR_RETURN(Table o, mesh->Source(Describe("s.orders", Tier::kRaw),
                                              {.path = orders}));
    DM_ASSIGN_OR_RETURN(
        Table c,
        mesh->Source(Describe("s.customers", Tier::kRaw), {.path = customers}));
    DM_ASSIGN_OR_RETURN(Table joined, o.Join(c, {"customer_id"}));
    DM_ASSIGN_OR_RETURN(
        Table by_region,
        joined.GroupBy({"region"})
            .Aggregate({Count("orders"), Sum("amount", "revenue")}));
    return mesh->Publish(by_region, Describe("s.by_region", Tier::kCurated))
        .status();
  }

  static Seen See(const Mesh& mesh) {
    Seen seen;
    for (const char* id : {"s.orders", "s.customers", "s.by_region"}) {
      seen.push_back(Must(mesh.Read(id)));
    }
    return seen;
  }

  ::diffmesh::testing::TempDir root_;
  std::shared_ptr<FaultFileSystem> fs_;
  std::unique_ptr<rocksdb::Env> env_;
  std::string store_dir_, orders_, customers_;
};

struct Fault {
  const char* name;
  FaultFileSystem::Op op;
  rocksdb::IOStatus status;
  bool torn;
};

std::vector<Fault> Faults() {
  return {
      {"write", FaultFileSystem::Op::kWrite,
       rocksdb::IOStatus::IOError("injected write failure"), false},
      {"torn write", FaultFileSystem::Op::kWrite,
       rocksdb::IOStatus::IOError("injected torn write"), true},
      {"sync", FaultFileSystem::Op::kSync,
       rocksdb::IOStatus::IOError("injected sync failure"), false},
      {"full disk", FaultFileSystem::Op::kWrite,
       rocksdb::IOStatus::NoSpace("injected: no space left on device"), false},
  };
}

// A Refresh whose store writes fail (at the 1st, 2nd, ... write or sync
// from then on) fails with a clear error and shows nothing half-applied;
// once the disk is fixed the next Refresh brings the change, and a restart
// finds it once.
TEST_F(StoreFaultsTest, FailedWritesShowNothingAndSucceedOnRetry) {
  for (const Fault& fault : Faults()) {
    int failed_refreshes = 0;
    for (int nth = 1; nth <= 8; ++nth) {
      SCOPED_TRACE(std::string(fault.name) + " at call " + std::to_string(nth));
      std::filesystem::remove_all(store_dir_);
      root_.Write("orders.csv", Orders(3));
      fs_->Disarm();
      Seen before, after;
      {
        auto store = Must(OpenStore());
        Worker worker;
        auto mesh = Must(Mesh::Open(worker, {.store = store.get()}));
        ASSERT_THAT(Declare(mesh.get(), orders_, customers_), IsOk());
        ASSERT_THAT(mesh->Advance(), IsOk());
        before = See(*mesh);
        root_.Write("orders.csv", Orders(5));
        fs_->Arm(fault.op, nth, fault.status, fault.torn);
        absl::StatusOr<RefreshReport> failed = mesh->Refresh();
        if (failed.ok()) {
          // This Refresh makes fewer calls: done with this fault.
          fs_->Disarm();
          break;
        }
        ++failed_refreshes;
        EXPECT_GT(fs_->failed(), 0);
        EXPECT_THAT(failed.status().code(),
                    AnyOf(absl::StatusCode::kUnavailable,
                          absl::StatusCode::kResourceExhausted));
        // Names what was being written, and why it failed.
        EXPECT_THAT(std::string(failed.status().message()),
                    AllOf(HasSubstr("writing"), HasSubstr("injected")));
        // Nothing half-applied: the rows of before, or (when the rows were
        // durable and the time's end failed to be recorded) all of the
        // change.
        const Seen seen_failed = See(*mesh);
        // Still failing: still no other state.
        EXPECT_FALSE(mesh->Refresh().ok());
        EXPECT_EQ(See(*mesh), seen_failed);
        fs_->Disarm();
        absl::StatusOr<RefreshReport> retried = mesh->Refresh();
        ASSERT_THAT(retried, IsOk());
        after = See(*mesh);
        ASSERT_NE(after, before);
        EXPECT_THAT(seen_failed, AnyOf(before, after));
        auto logged = store->ReadSourceBatches("s.orders");
        ASSERT_THAT(logged, IsOk());
        size_t rows = 0;
        for (const SourceBatch& b : *logged) rows += b.updates.size();
        EXPECT_EQ(rows, 5u) << "the log holds every order once";
      }
      auto store = Must(OpenStore());
      Worker worker;
      auto mesh = Must(Mesh::Open(worker, {.store = store.get()}));
      ASSERT_THAT(Declare(mesh.get(), orders_, customers_), IsOk());
      absl::StatusOr<RefreshReport> restarted = mesh->Refresh();
      ASSERT_THAT(restarted, IsOk());
      EXPECT_EQ(restarted->rows_inserted, 0);  // all of it was in the log
      EXPECT_EQ(See(*mesh), after);
    }
    // The source log's write and the time's end, at least.
    EXPECT_GE(failed_refreshes, 2) << fault.name;
  }
}

// A source-log write whose sync failed may be in the log all the same; the
// store takes it back before the next write, so the retry is there once.
TEST_F(StoreFaultsTest, AFailedAppendIsTakenBackBeforeTheRetry) {
  for (const Fault& fault : Faults()) {
    SCOPED_TRACE(fault.name);
    std::filesystem::remove_all(store_dir_);
    fs_->Disarm();
    auto store = Must(OpenStore());
    const SourceBatch first{1, {{Row{Value(int64_t{1})}, 1}}};
    const SourceBatch second{2, {{Row{Value(int64_t{2})}, 1}}};
    ASSERT_THAT(store->AppendSourceBatch("s.x", first), IsOk());
    fs_->Arm(fault.op, 1, fault.status, fault.torn);
    EXPECT_FALSE(store->AppendSourceBatch("s.x", second).ok());
    fs_->Disarm();
    ASSERT_THAT(store->AppendSourceBatch("s.x", second), IsOk());
    EXPECT_THAT(*store->ReadSourceBatches("s.x"), ElementsAre(first, second));
    store.reset();
    store = Must(OpenStore());
    EXPECT_THAT(*store->ReadSourceBatches("s.x"), ElementsAre(first, second));
  }
}

// A read that fails while the store opens or a mesh restores is an error
// naming what was read; with the fault gone, the same store opens whole.
TEST_F(StoreFaultsTest, FailedReadsAreErrorsAndPassWithTheFault) {
  Seen want;
  {
    auto store = Must(OpenStore());
    Worker worker;
    auto mesh = Must(Mesh::Open(worker, {.store = store.get()}));
    ASSERT_THAT(Declare(mesh.get(), orders_, customers_), IsOk());
    ASSERT_THAT(mesh->Advance(), IsOk());
    ASSERT_THAT(store->Flush(), IsOk());  // reads come from table files
    want = See(*mesh);
  }
  int failed_opens = 0;
  for (int nth = 1; nth <= 12; ++nth) {
    SCOPED_TRACE("read " + std::to_string(nth));
    fs_->Arm(FaultFileSystem::Op::kRead, nth,
             rocksdb::IOStatus::IOError("injected read failure"));
    absl::Status failed;
    {
      absl::StatusOr<std::unique_ptr<RocksMeshStore>> store = OpenStore();
      if (!store.ok()) {
        failed = store.status();
      } else {
        Worker worker;
        absl::StatusOr<std::unique_ptr<Mesh>> mesh =
            Mesh::Open(worker, {.store = store->get()});
        if (!mesh.ok()) {
          failed = mesh.status();
        } else {
          failed = Declare(mesh->get(), orders_, customers_);
          if (failed.ok()) failed = (*mesh)->Advance();
        }
      }
    }
    if (fs_->failed() == 0) break;  // past the last read
    ++failed_opens;
    EXPECT_THAT(failed.code(), AnyOf(absl::StatusCode::kUnavailable,
                                     absl::StatusCode::kDataLoss))
        << failed;
    EXPECT_THAT(std::string(failed.message()), HasSubstr("injected"));
    fs_->Disarm();
    auto store = Must(OpenStore());
    Worker worker;
    auto mesh = Must(Mesh::Open(worker, {.store = store.get()}));
    ASSERT_THAT(Declare(mesh.get(), orders_, customers_), IsOk());
    ASSERT_THAT(mesh->Advance(), IsOk());
    EXPECT_EQ(See(*mesh), want);
  }
  // The options file, the manifest, the log, the records: several reads.
  EXPECT_GE(failed_opens, 3);
}

// Damaged stores. Files of the store directory, by a name part.
std::vector<std::filesystem::path> StoreFiles(const std::string& dir,
                                              const std::string& part) {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().filename().string().find(part) != std::string::npos) {
      out.push_back(e.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void FlipByte(const std::filesystem::path& file, double at) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(0, std::ios::end);
  const auto size = static_cast<std::streamoff>(f.tellg());
  const std::streamoff offset = static_cast<std::streamoff>(size * at);
  f.seekg(offset);
  char c = 0;
  f.read(&c, 1);
  c = static_cast<char>(c ^ 0x5a);
  f.seekp(offset);
  f.write(&c, 1);
}

SourceBatch BatchAt(uint64_t time) {
  SourceBatch b{time, {}};
  for (int64_t i = 0; i < 20; ++i) {
    b.updates.push_back(
        {Row{Value(static_cast<int64_t>(time) * 100 + i), Value("some text")},
         1});
  }
  return b;
}

// A damaged record inside the write-ahead log, with acknowledged writes
// after it: RocksDB's point-in-time recovery would stop at it and drop the
// rest; the store sees that fewer writes came back than it acknowledged.
TEST_F(StoreFaultsTest, DamageInsideTheLogIsDataLoss) {
  // In the middle, and in the last (acknowledged) record.
  for (const double at : {0.4, 0.995}) {
    SCOPED_TRACE(at);
    std::filesystem::remove_all(store_dir_);
    {
      auto store = Must(RocksMeshStore::Open(store_dir_));
      for (uint64_t t = 1; t <= 20; ++t) {
        ASSERT_THAT(store->AppendSourceBatch("s.x", BatchAt(t)), IsOk());
      }
    }
    std::vector<std::filesystem::path> logs = StoreFiles(store_dir_, ".log");
    ASSERT_EQ(logs.size(), 1u);
    FlipByte(logs[0], at);
    auto reopened = RocksMeshStore::Open(store_dir_);
    EXPECT_THAT(reopened, StatusIs(absl::StatusCode::kDataLoss));
    EXPECT_THAT(std::string(reopened.status().message()),
                AllOf(HasSubstr(store_dir_), HasSubstr("acknowledged")));
  }
}

// A write torn by the process dying (never acknowledged) is cut off at
// recovery, and everything acknowledged before it is there.
TEST_F(StoreFaultsTest, ATornUnacknowledgedLastWriteRecovers) {
  const std::string ack = store_dir_ + "/ACKNOWLEDGED";
  std::string acknowledged;
  {
    auto store = Must(RocksMeshStore::Open(store_dir_));
    for (uint64_t t = 1; t <= 5; ++t) {
      ASSERT_THAT(store->AppendSourceBatch("s.x", BatchAt(t)), IsOk());
    }
    acknowledged = ReadFile(ack);
    ASSERT_THAT(store->AppendSourceBatch("s.x", BatchAt(6)), IsOk());
  }
  // As if the process had died inside the sixth write: its record only
  // half in the log, and not acknowledged.
  std::vector<std::filesystem::path> logs = StoreFiles(store_dir_, ".log");
  ASSERT_EQ(logs.size(), 1u);
  std::filesystem::resize_file(logs[0],
                               std::filesystem::file_size(logs[0]) - 20);
  root_.Write(ack, acknowledged);
  auto store = Must(RocksMeshStore::Open(store_dir_));
  auto batches = store->ReadSourceBatches("s.x");
  ASSERT_THAT(batches, IsOk());
  EXPECT_THAT(*batches, ElementsAre(BatchAt(1), BatchAt(2), BatchAt(3),
                                    BatchAt(4), BatchAt(5)));
  // ...and the store goes on from there.
  ASSERT_THAT(store->AppendSourceBatch("s.x", BatchAt(7)), IsOk());
  EXPECT_EQ(store->ReadSourceBatches("s.x")->size(), 6u);
}

// The record of the last acknowledged write, damaged (cut short, another
// magic), is DataLoss naming it; an empty one is a store that never
// acknowledged a write.
TEST_F(StoreFaultsTest, ADamagedAcknowledgementRecordIsDataLoss) {
  const std::string ack = store_dir_ + "/ACKNOWLEDGED";
  {
    auto store = Must(RocksMeshStore::Open(store_dir_));
    ASSERT_THAT(store->AppendSourceBatch("s.x", BatchAt(1)), IsOk());
  }
  const std::string good = ReadFile(ack);
  ASSERT_EQ(good.size(), 16u);
  for (const std::string& damaged :
       {good.substr(0, 9), std::string("dmack v2") + good.substr(8)}) {
    root_.Write(ack, damaged);
    auto store = RocksMeshStore::Open(store_dir_);
    EXPECT_THAT(store, StatusIs(absl::StatusCode::kDataLoss));
    EXPECT_THAT(std::string(store.status().message()),
                AllOf(HasSubstr(ack), HasSubstr("damaged")));
  }
  root_.Write(ack, "");
  {
    auto store = Must(RocksMeshStore::Open(store_dir_));
    EXPECT_EQ(store->ReadSourceBatches("s.x")->size(), 1u);
  }
  root_.Write(ack, good);
  EXPECT_THAT(RocksMeshStore::Open(store_dir_).status(), IsOk());
}

// A flipped byte in a table file is DataLoss naming the file, when the
// store opens or when the record is read; never a crash or partial data.
TEST_F(StoreFaultsTest, AFlippedByteInATableFileIsDataLoss) {
  {
    auto store = Must(RocksMeshStore::Open(store_dir_));
    for (uint64_t t = 1; t <= 50; ++t) {
      ASSERT_THAT(store->AppendSourceBatch("s.x", BatchAt(t)), IsOk());
    }
    ASSERT_THAT(store->Flush(), IsOk());
  }
  std::vector<std::filesystem::path> tables = StoreFiles(store_dir_, ".sst");
  ASSERT_FALSE(tables.empty());
  std::filesystem::path biggest = tables[0];
  for (const auto& t : tables) {
    if (std::filesystem::file_size(t) > std::filesystem::file_size(biggest)) {
      biggest = t;
    }
  }
  FlipByte(biggest, 0.3);
  absl::Status status;
  if (auto store = RocksMeshStore::Open(store_dir_); !store.ok()) {
    status = store.status();
  } else {
    status = (*store)->ReadSourceBatches("s.x").status();
  }
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(std::string(status.message()),
              HasSubstr(biggest.filename().string()));
}

// A truncated or damaged manifest: Open fails with DataLoss naming the
// store, never opens an empty or partial store.
TEST_F(StoreFaultsTest, ADamagedManifestIsDataLoss) {
  for (const bool truncate : {true, false}) {
    SCOPED_TRACE(truncate ? "truncated" : "flipped byte");
    std::filesystem::remove_all(store_dir_);
    {
      auto store = Must(RocksMeshStore::Open(store_dir_));
      for (uint64_t t = 1; t <= 5; ++t) {
        ASSERT_THAT(store->AppendSourceBatch("s.x", BatchAt(t)), IsOk());
      }
      ASSERT_THAT(store->Flush(), IsOk());
    }
    std::vector<std::filesystem::path> manifests =
        StoreFiles(store_dir_, "MANIFEST-");
    ASSERT_EQ(manifests.size(), 1u);
    if (truncate) {
      std::filesystem::resize_file(
          manifests[0], std::filesystem::file_size(manifests[0]) / 2);
    } else {
      FlipByte(manifests[0], 0.5);
    }
    auto store = RocksMeshStore::Open(store_dir_);
    EXPECT_THAT(store, StatusIs(absl::StatusCode::kDataLoss));
    EXPECT_THAT(std::string(store.status().message()), HasSubstr(store_dir_));
  }
}

}  // namespace
}  // namespace diffmesh
