#include "catalog/product_versions.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/status_matchers.h"

namespace diffmesh {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing::IsOk;
using testing::StatusIs;

// Records every product write, and fails them on demand.
class RecordingStore : public MeshStore {
 public:
  absl::Status AppendSourceBatches(const std::vector<SourceAppend>&) override {
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<SourceBatch>> ReadSourceBatches(
      const std::string&) override {
    return std::vector<SourceBatch>();
  }
  absl::Status PutProducts(const std::vector<StoredProduct>& put) override {
    if (fail) return absl::UnavailableError("disk gone");
    writes.push_back(put);
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<StoredProduct>> ReadProducts() override {
    return std::vector<StoredProduct>();
  }
  absl::Status PutNextTime(uint64_t) override { return absl::OkStatus(); }
  absl::StatusOr<uint64_t> ReadNextTime() override { return 0; }

  bool fail = false;
  std::vector<std::vector<StoredProduct>> writes;
};

StoredProduct Version(int major, int minor, std::string owner = "ops") {
  StoredProduct sp;
  sp.descriptor.id = "sales.orders";
  sp.descriptor.version = {major, minor};
  sp.descriptor.owner = std::move(owner);
  sp.descriptor.schema = Schema({{"id", ValueType::kInt64}});
  return sp;
}

class ProductVersionsTest : public ::testing::Test {
 protected:
  // The agreement of a single worker: run the write, return its outcome.
  ProductVersions versions_{&store_, &catalog_,
                            [this](const std::string& what,
                                   const std::function<absl::Status()>& write) {
                              calls_.push_back(what);
                              return write();
                            }};
  RecordingStore store_;
  CatalogFlow catalog_;  // feeds nothing: only the versions are checked
  std::vector<std::string> calls_;
};

TEST_F(ProductVersionsTest, ANewVersionIsStoredWithTheOldOnesRetirement) {
  ASSERT_THAT(versions_.Activate(Version(1, 0)), IsOk());
  ASSERT_THAT(versions_.Activate(Version(1, 1)), IsOk());
  ASSERT_EQ(store_.writes.size(), 2u);
  StoredProduct retired = Version(1, 0);
  retired.active = false;
  EXPECT_THAT(store_.writes[1], ElementsAre(Version(1, 1), retired));
  EXPECT_EQ(versions_.Active("sales.orders")->descriptor.version,
            (ProductVersion{1, 1}));
  EXPECT_EQ(versions_.Newest("sales.orders")->descriptor.version,
            (ProductVersion{1, 1}));
  EXPECT_EQ(versions_.versions().at("sales.orders@1.0"), retired);
  EXPECT_THAT(calls_,
              ElementsAre("Publish(sales.orders)", "Publish(sales.orders)"));
  // The same version again writes nothing.
  ASSERT_THAT(versions_.Activate(Version(1, 1)), IsOk());
  EXPECT_EQ(store_.writes.size(), 2u);
}

TEST_F(ProductVersionsTest, AFailedWriteChangesNothing) {
  ASSERT_THAT(versions_.Activate(Version(1, 0)), IsOk());
  store_.fail = true;
  EXPECT_THAT(versions_.Activate(Version(2, 0)),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(versions_.Retire("sales.orders"),
              StatusIs(absl::StatusCode::kUnavailable));
  ProductDescriptor update = Version(1, 0, "finance").descriptor;
  EXPECT_THAT(versions_.Update(update),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(*versions_.Active("sales.orders"), Version(1, 0));
  EXPECT_EQ(versions_.versions().size(), 1u);
}

TEST_F(ProductVersionsTest, UpdatesKeepTheVersionAndRetireLeavesItStored) {
  ASSERT_THAT(versions_.Activate(Version(1, 0)), IsOk());
  EXPECT_THAT(versions_.Update(Version(2, 0).descriptor),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  ProductDescriptor update = Version(1, 0, "finance").descriptor;
  update.schema = Schema({{"other", ValueType::kString}});
  EXPECT_THAT(versions_.Update(update),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  update.schema = Schema();  // the active one's
  ASSERT_THAT(versions_.Update(update), IsOk());
  EXPECT_EQ(versions_.Active("sales.orders")->descriptor.owner, "finance");
  EXPECT_EQ(versions_.Active("sales.orders")->descriptor.schema,
            Version(1, 0).descriptor.schema);

  ASSERT_THAT(versions_.Retire("sales.orders"), IsOk());
  EXPECT_EQ(versions_.Active("sales.orders"), nullptr);
  EXPECT_FALSE(versions_.versions().at("sales.orders@1.0").active);
  EXPECT_THAT(versions_.Retire("sales.orders"),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(versions_.Update(update), StatusIs(absl::StatusCode::kNotFound));
  StoredProduct retired = Version(1, 0, "finance");
  retired.active = false;
  EXPECT_THAT(store_.writes.back(), ElementsAre(retired));
}

TEST_F(ProductVersionsTest, RestoreKeepsTheNewerOfTwoActiveVersions) {
  // Either order: the store may list them in any order after a crash.
  for (bool newer_first : {false, true}) {
    RecordingStore store;
    CatalogFlow catalog;
    ProductVersions restored(
        &store, &catalog,
        [](const std::string&, const std::function<absl::Status()>& write) {
          return write();
        });
    std::vector<StoredProduct> stored = {Version(1, 0), Version(1, 1)};
    if (newer_first) std::swap(stored[0], stored[1]);
    restored.Restore(stored);
    EXPECT_EQ(restored.Active("sales.orders")->descriptor.version,
              (ProductVersion{1, 1}));
    EXPECT_FALSE(restored.versions().at("sales.orders@1.0").active);
    EXPECT_TRUE(restored.versions().at("sales.orders@1.1").active);
    EXPECT_THAT(store.writes, IsEmpty());
  }
}

}  // namespace
}  // namespace diffmesh
