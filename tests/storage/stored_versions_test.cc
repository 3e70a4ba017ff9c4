// Data versions kept in the store (MeshOptions::versions_in_memory): a mesh
// that keeps only the newest versions' rows in memory reads every retained
// version exactly as a mesh that keeps them all, at every time, with
// retractions, through checkpoints of the products' logs, a failed store
// write and a restart; a snapshot that outlives its mesh says so for the
// versions it would read from the store; bad options are clear errors.
#include <atomic>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "catalog/mesh.h"
#include "engine/check.h"
#include "engine/graph.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/rocks_mesh_store.h"
#include "tests/status_matchers.h"
#include "tests/storage/forwarding_store.h"
#include "tests/temp_dir.h"

namespace diffmesh {
namespace {

using ::diffmesh::testing::IsOk;
using ::diffmesh::testing::StatusIs;
using ::diffmesh::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

template <class T>
T Must(absl::StatusOr<T> v) {
  DM_CHECK_MSG(v.ok(), v.status().ToString().c_str());
  return *std::move(v);
}

// Forwards to a real store; counts product-log reads and fails the next
// `failures` product appends.
class WatchedStore : public ::diffmesh::testing::ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  absl::Status AppendProductChanges(
      const std::vector<ProductAppend>& appends) override {
    if (failures > 0) {
      --failures;
      return absl::UnavailableError("disk full (injected)");
    }
    return inner_->AppendProductChanges(appends);
  }
  absl::StatusOr<std::vector<SourceBatch>> ReadProductChanges(
      const std::string& product, uint64_t upto) override {
    ++reads;
    return inner_->ReadProductChanges(product, upto);
  }
  absl::Status CheckpointProductChanges(const std::string& product,
                                        uint64_t upto) override {
    ++checkpoints;
    return inner_->CheckpointProductChanges(product, upto);
  }

  int failures = 0;
  std::atomic<int> reads{0};
  int checkpoints = 0;
};

ProductDescriptor Describe(const std::string& id) {
  ProductDescriptor d;
  d.id = id;
  d.owner = "ana";
  return d;
}

const std::vector<std::string> kProducts = {"sales.orders", "sales.big",
                                            "sales.by_customer"};

// Orders (id, customer, amount); a filter and an aggregate over them.
std::unique_ptr<Mesh> Declare(Worker& worker, MeshOptions options,
                              const std::string& orders) {
  auto mesh = Must(Mesh::Open(worker, options));
  Table raw = Must(mesh->Source(Describe("sales.orders"), {.path = orders}));
  Table big = Must(mesh->Publish(
      Must(raw.Filter({"amount"},
                      [](const Row& in) { return in[0].as_int64() >= 50; })),
      Describe("sales.big")));
  Must(mesh->Publish(
      Must(big.GroupBy({"customer"})
               .Aggregate({Count("orders"), Sum("amount", "total")})),
      Describe("sales.by_customer")));
  return mesh;
}

// Random orders: ids come and go, amounts change.
std::string Orders(std::mt19937_64& rng) {
  std::string text = "id,customer,amount\n";
  for (int id = 0; id < 30; ++id) {
    if (rng() % 4 == 0) continue;
    text += std::to_string(id) + "," + std::to_string(id % 5) + "," +
            std::to_string(rng() % 100) + "\n";
  }
  return text;
}

// Every retained version of every product reads the same on both meshes.
void ExpectSameVersions(const Mesh& stored, const Mesh& all, int round) {
  for (const std::string& id : kProducts) {
    std::vector<DataVersion> a = stored.DataVersions(id);
    std::vector<DataVersion> b = all.DataVersions(id);
    ASSERT_EQ(a.size(), b.size()) << id << " round " << round;
    for (size_t i = 0; i < a.size(); ++i) {
      ASSERT_EQ(a[i].number, b[i].number);
      ASSERT_EQ(a[i].time, b[i].time);
      auto got = stored.ReadAsOf(id, a[i].number);
      ASSERT_THAT(got, IsOk()) << id << " v" << a[i].number;
      EXPECT_EQ(*got, Must(all.ReadAsOf(id, b[i].number)))
          << id << " v" << a[i].number << " round " << round;
    }
  }
}

TEST(StoredVersions, OlderVersionsReadFromTheStoreMatchTheOnesKeptInMemory) {
  TempDir dir;
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    SCOPED_TRACE(seed);
    std::mt19937_64 rng(seed);
    const std::string orders = dir.Write("orders.csv", Orders(rng));
    const std::string path = (dir / ("store" + std::to_string(seed))).string();
    auto rocks = Must(RocksMeshStore::Open(path));
    WatchedStore store(rocks.get());
    Worker w1, w2;
    auto stored = Declare(w1,
                          {.store = &store,
                           .retained_versions = 8,
                           .checkpoint_after = 3,
                           .versions_in_memory = 2},
                          orders);
    auto all = Declare(w2, {.retained_versions = 8}, orders);
    for (int round = 0; round < 30; ++round) {
      dir.Write("orders.csv", Orders(rng));
      // Two product appends fail: the round's error says so, the rows of
      // those versions stay in memory, and the next round stores them.
      if (round == 10) store.failures = 2;
      absl::StatusOr<RefreshReport> refreshed = stored->Refresh();
      if (round == 10 || round == 11) {
        EXPECT_THAT(refreshed, StatusIs(absl::StatusCode::kUnavailable));
        EXPECT_THAT(refreshed.status().message(), HasSubstr("injected"));
      } else {
        ASSERT_THAT(refreshed, IsOk());
      }
      ASSERT_THAT(all->Refresh(), IsOk());
      ASSERT_NO_FATAL_FAILURE(ExpectSameVersions(*stored, *all, round));
    }
    // Versions were read back from the store, and the logs were folded.
    EXPECT_GT(store.reads.load(), 0);
    EXPECT_GT(store.checkpoints, 0);
    // A snapshot outlives its mesh: what it holds in memory still reads,
    // what it would read from the store is refused, clearly.
    std::shared_ptr<const MeshSnapshot> snapshot = stored->Snapshot();
    std::vector<DataVersion> versions = stored->DataVersions("sales.orders");
    ASSERT_EQ(versions.size(), 8u);
    stored.reset();
    EXPECT_THAT(snapshot->ReadAsOf("sales.orders", versions.back().number),
                IsOk());
    auto gone = snapshot->ReadAsOf("sales.orders", versions.front().number);
    EXPECT_THAT(gone, StatusIs(absl::StatusCode::kFailedPrecondition));
    EXPECT_THAT(gone.status().message(), HasSubstr("closed"));
  }
}

// Every event a subscription takes until it has nothing more, as text.
std::vector<std::string> Drain(Subscription& sub) {
  std::vector<std::string> out;
  for (;;) {
    absl::StatusOr<MeshEvents> next = sub.TryNext();
    if (!next.ok()) {
      EXPECT_THAT(next, StatusIs(absl::StatusCode::kDeadlineExceeded));
      return out;
    }
    for (const MeshEvent& e : next->events) {
      out.push_back(absl::StrCat(e.time, " ", e.id, " ", e.diff, " ",
                                 RowDebugString(e.row())));
    }
  }
}

TEST(StoredVersions, SubscriptionsResumeFromTheStoreBeforeWhatMemoryHolds) {
  TempDir dir;
  std::mt19937_64 rng(11);
  const std::string orders = dir.Write("orders.csv", Orders(rng));
  auto rocks = Must(RocksMeshStore::Open((dir / "store").string()));
  Worker w1, w2;
  // Memory holds the changes of the newest time only.
  auto stored = Declare(w1,
                        {.store = rocks.get(),
                         .retained_versions = 8,
                         .subscription_log_events = 1,
                         .checkpoint_after = 3,
                         .versions_in_memory = 2},
                        orders);
  auto all = Declare(w2, {.retained_versions = 8}, orders);
  int resumed = 0;
  for (int round = 0; round < 24; ++round) {
    dir.Write("orders.csv", Orders(rng));
    ASSERT_THAT(stored->Refresh(), IsOk());
    ASSERT_THAT(all->Refresh(), IsOk());
    if (round < 6) continue;
    // From each retained version but the oldest (which a checkpoint may
    // have folded): the same events, in the same order, as from memory.
    const std::vector<DataVersion> versions = all->DataVersions("sales.big");
    for (size_t i = 1; i < versions.size(); ++i) {
      SCOPED_TRACE(absl::StrCat("round ", round, " from ", versions[i].time));
      SubscribeOptions options{.streams = {MeshStream::kProductRows},
                               .id = "sales.big",
                               .from = versions[i].time};
      auto want = all->Subscribe(options);
      ASSERT_THAT(want, IsOk());
      auto got = stored->Subscribe(options);
      ASSERT_THAT(got, IsOk());
      const std::vector<std::string> events = Drain(**want);
      ASSERT_FALSE(events.empty());
      EXPECT_EQ(Drain(**got), events);
      EXPECT_EQ((*got)->next_time(), (*want)->next_time());
      // Other streams are not in the store: a snapshot is the way back.
      if (versions[i].time < stored->time() - 1) {
        ++resumed;
        auto catalog = stored->Subscribe({.from = versions[i].time});
        EXPECT_THAT(catalog, StatusIs(absl::StatusCode::kOutOfRange));
        EXPECT_THAT(catalog.status().message(),
                    HasSubstr("only the rows of named products"));
      }
    }
  }
  EXPECT_GT(resumed, 0);
  // Folded times cannot be told apart: OutOfRange naming where they can.
  auto folded = stored->Subscribe(
      {.streams = {MeshStream::kProductRows}, .id = "sales.big", .from = 1});
  EXPECT_THAT(folded, StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(folded.status().message(), HasSubstr("one time at a time"));
}

TEST(StoredVersions, ARestartForgetsThePreviousRunsVersionsAndNumbersAnew) {
  TempDir dir;
  std::mt19937_64 rng(7);
  const std::string orders = dir.Write("orders.csv", Orders(rng));
  const std::string stored_path = (dir / "stored").string();
  const std::string all_path = (dir / "all").string();
  const MeshOptions kStored{.retained_versions = 6, .versions_in_memory = 1};
  for (int run = 0; run < 2; ++run) {
    SCOPED_TRACE(run);
    auto stored_store = Must(RocksMeshStore::Open(stored_path));
    auto all_store = Must(RocksMeshStore::Open(all_path));
    if (run == 1) {
      ASSERT_THAT(*stored_store->ReadProductChanges("sales.big", ~uint64_t{0}),
                  ::testing::Not(IsEmpty()));
    }
    MeshOptions options = kStored;
    options.store = stored_store.get();
    Worker w1, w2;
    auto stored = Declare(w1, options, orders);
    auto all =
        Declare(w2, {.store = all_store.get(), .retained_versions = 6}, orders);
    // The run before's changes are gone before this run writes its own.
    EXPECT_THAT(*stored_store->ReadProductChanges("sales.big", ~uint64_t{0}),
                IsEmpty());
    for (int round = 0; round < 10; ++round) {
      dir.Write("orders.csv", Orders(rng));
      ASSERT_THAT(stored->Refresh(), IsOk());
      ASSERT_THAT(all->Refresh(), IsOk());
      ASSERT_NO_FATAL_FAILURE(ExpectSameVersions(*stored, *all, round));
    }
  }
}

// A store that keeps no product changes (MeshStore's defaults).
class PlainStore : public WatchedStore {
 public:
  using WatchedStore::WatchedStore;
  absl::Status DropProductChanges() override {
    return MeshStore::DropProductChanges();
  }
};

TEST(StoredVersions, BadOptionsAreClearErrors) {
  TempDir dir;
  auto rocks = Must(RocksMeshStore::Open((dir / "store").string()));
  PlainStore plain(rocks.get());
  {
    Worker worker;
    auto refused =
        Mesh::Open(worker, {.store = &plain, .versions_in_memory = 2});
    EXPECT_THAT(refused, StatusIs(absl::StatusCode::kFailedPrecondition));
    EXPECT_THAT(refused.status().message(),
                HasSubstr("needs a store that keeps product changes"));
  }
  {
    Worker worker;
    EXPECT_THAT(Mesh::Open(worker, {.store = &plain}), IsOk());
  }
  Worker worker;
  auto negative = Mesh::Open(worker, {.versions_in_memory = -1});
  EXPECT_THAT(negative, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(negative.status().message(), HasSubstr("versions_in_memory"));
  auto no_store = Mesh::Open(worker, {.versions_in_memory = 2});
  EXPECT_THAT(no_store, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(no_store.status().message(),
              HasSubstr("needs MeshOptions::store"));
}

}  // namespace
}  // namespace diffmesh
