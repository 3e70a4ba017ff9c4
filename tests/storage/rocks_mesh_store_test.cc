// The RocksDB mesh store: record round trips, restart round trips in a real
// RocksDB, key order and replace semantics, corrupt and foreign records
// (written with raw RocksDB) reported as DataLoss naming the key, and paths
// that cannot be opened.
#include "storage/rocks_mesh_store.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <ostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "catalog/row_codec.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "schemas/mesh_generated.h"
#include "storage/mesh_records.h"
#include "tests/status_matchers.h"

namespace diffmesh {

// Readable gtest failure output (found by argument-dependent lookup, so these
// live in the types' namespace).
void PrintTo(const SourceBatch& batch, std::ostream* os) {
  *os << "{time " << batch.time;
  for (const auto& [row, diff] : batch.updates) {
    *os << ", " << RowDebugString(row) << " " << diff;
  }
  *os << "}";
}
void PrintTo(const StoredProduct& product, std::ostream* os) {
  *os << "{" << product.descriptor.VersionedId() << ", " << product.edges.size()
      << " edges, " << (product.active ? "active" : "inactive") << "}";
}

namespace {

using ::diffmesh::testing::IsOk;
using ::diffmesh::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// The raw key of a source's batch, as the store lays it out.
std::string SourceKey(const std::string& source, uint64_t sequence) {
  std::string key = source;
  key.push_back('\0');
  for (int shift = 56; shift >= 0; shift -= 8) {
    key.push_back(static_cast<char>((sequence >> shift) & 0xff));
  }
  return key;
}

ProductDescriptor Descriptor(const std::string& id, int major, int minor) {
  ProductDescriptor d;
  d.id = id;
  d.version = ProductVersion{major, minor};
  d.owner = "ana";
  d.schema = Schema({{"id", ValueType::kInt64, false, "key", {}}});
  return d;
}

StoredProduct FullProduct() {
  StoredProduct p;
  p.descriptor.id = "crm.contacts";
  p.descriptor.version = ProductVersion{3, 14};
  p.descriptor.owner = "crm-team";
  p.descriptor.tier = Tier::kAuthoritative;
  p.descriptor.description = "Contacts, one per person (\"deduplicated\")";
  p.descriptor.tags = {"gold", "crm", ""};
  p.descriptor.schema = Schema({
      {"id", ValueType::kInt64, false, "person id", {"key"}},
      {"email", ValueType::kString, true, "primary email", {"pii", "contact"}},
      {"vip", ValueType::kBool, false, "", {}},
      {"score", ValueType::kDouble, true, "churn score", {}},
      {"seen", ValueType::kTimestamp, true, "last seen", {"audit"}},
  });
  p.descriptor.upstream = {"crm.customers", "web.signups"};
  for (int k = 0; k <= static_cast<int>(TransformKind::kMasking); ++k) {
    p.edges.push_back(LineageEdge{{"crm.customers", absl::StrCat("c", k)},
                                  {"crm.contacts", "email"},
                                  static_cast<TransformKind>(k)});
  }
  p.edges.push_back(LineageEdge{{"web.signups", ""}, {"crm.contacts", ""}});
  p.active = false;
  return p;
}

SourceBatch EveryValueBatch() {
  SourceBatch b;
  b.time = std::numeric_limits<uint64_t>::max();
  b.updates = {
      {Row{Value::Null(), Value(true), Value(false)}, 1},
      {Row{Value(std::numeric_limits<int64_t>::min()),
           Value(std::numeric_limits<int64_t>::max()), Value(int64_t{0})},
       -7},
      {Row{Value(std::nan("")), Value(-0.0), Value(1.5e300),
           Value(-std::numeric_limits<double>::infinity())},
       std::numeric_limits<int64_t>::min()},
      {Row{Value(""), Value(std::string("nul\0inside", 10)), Value("ünï")},
       std::numeric_limits<int64_t>::max()},
      {Row{Value(TimestampMicros{-1}),
           Value(TimestampMicros{1700000000000000})},
       0},
      {Row{}, -1},
  };
  return b;
}

SourceBatch SmallBatch(uint64_t time, int64_t n) {
  return SourceBatch{
      time, {{Row{Value(n), Value(absl::StrCat("r", n))}, n % 2 ? -1 : 1}}};
}

// Each test gets a directory of its own, removed afterwards.
class RocksMeshStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    root_ = std::filesystem::path(::testing::TempDir()) /
            absl::StrCat("diffmesh_mesh_store_", info->name(), "_", ::getpid(),
                         "_", counter++);
    std::filesystem::remove_all(root_);
    dir_ = (root_ / "store").string();
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  std::unique_ptr<RocksMeshStore> OpenStore() {
    auto store = RocksMeshStore::Open(dir_);
    EXPECT_THAT(store, IsOk());
    return store.ok() ? *std::move(store) : nullptr;
  }

  // Writes `value` under `key` in `family` with plain RocksDB, bypassing the
  // store (which must be closed).
  void RawPut(const std::string& family, const std::string& key,
              const std::string& value) {
    RawWrite(family, [&](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf) {
      return db->Put(rocksdb::WriteOptions(), cf, key, value);
    });
  }
  void RawDelete(const std::string& family, const std::string& key) {
    RawWrite(family, [&](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf) {
      return db->Delete(rocksdb::WriteOptions(), cf, key);
    });
  }

  template <typename Write>
  void RawWrite(const std::string& family, Write write) {
    std::vector<std::string> names;
    ASSERT_TRUE(
        rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir_, &names)
            .ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    for (const std::string& name : names)
      families.emplace_back(name, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    rocksdb::Status s =
        rocksdb::DB::Open(rocksdb::DBOptions(), dir_, families, &handles, &raw);
    ASSERT_TRUE(s.ok()) << s.ToString();
    std::unique_ptr<rocksdb::DB> db(raw);
    rocksdb::ColumnFamilyHandle* target = nullptr;
    for (auto* h : handles) {
      if (h->GetName() == family) target = h;
    }
    ASSERT_NE(target, nullptr) << family;
    s = write(db.get(), target);
    EXPECT_TRUE(s.ok()) << s.ToString();
    for (auto* h : handles) ASSERT_TRUE(db->DestroyColumnFamilyHandle(h).ok());
  }

  std::filesystem::path root_;
  std::string dir_;
};

TEST(MeshRecordsTest, StoredProductRoundTripKeepsEveryField) {
  StoredProduct p = FullProduct();
  auto back = DecodeStoredProduct(EncodeStoredProduct(p), "test");
  ASSERT_THAT(back, IsOk());
  EXPECT_EQ(*back, p);
  // operator== on descriptors compares through the schema; spot-check the
  // parts it might not reach.
  EXPECT_EQ(back->descriptor.schema.fields()[1].tags,
            (std::vector<std::string>{"pii", "contact"}));
  EXPECT_EQ(back->descriptor.upstream, p.descriptor.upstream);
  EXPECT_EQ(back->edges, p.edges);
  EXPECT_FALSE(back->active);

  p.active = true;
  p.edges.clear();
  back = DecodeStoredProduct(EncodeStoredProduct(p), "test");
  ASSERT_THAT(back, IsOk());
  EXPECT_EQ(*back, p);
  EXPECT_TRUE(back->active);
}

TEST(MeshRecordsTest, SourceBatchRoundTripKeepsEveryValue) {
  SourceBatch b = EveryValueBatch();
  auto back = DecodeSourceBatch(EncodeSourceBatch(b), "test");
  ASSERT_THAT(back, IsOk());
  EXPECT_EQ(*back, b);
  ASSERT_EQ(back->updates.size(), 6u);
  EXPECT_TRUE(back->updates[0].first[0].is_null());
  EXPECT_TRUE(std::isnan(back->updates[2].first[0].as_double()));
  EXPECT_EQ(back->updates[2].second, std::numeric_limits<int64_t>::min());
  EXPECT_EQ(back->updates[3].first[1].as_string(),
            std::string("nul\0inside", 10));
  EXPECT_EQ(back->updates[4].first[0].type(), ValueType::kTimestamp);
  EXPECT_EQ(back->updates[4].first[0].as_timestamp().micros, -1);

  SourceBatch empty;
  back = DecodeSourceBatch(EncodeSourceBatch(empty), "test");
  ASSERT_THAT(back, IsOk());
  EXPECT_EQ(*back, empty);
}

TEST(MeshRecordsTest, GarbageTruncatedAndForeignBytesAreDataLoss) {
  std::string product = EncodeStoredProduct(FullProduct());
  std::string batch = EncodeSourceBatch(EveryValueBatch());
  std::string row = EncodeRow(Row{Value(int64_t{1})});
  for (const std::string& bytes :
       {std::string(), std::string("not a flatbuffer at all"),
        product.substr(0, product.size() / 2), batch, row}) {
    auto decoded = DecodeStoredProduct(bytes, "catalog record 'k@1.0'");
    EXPECT_THAT(decoded, StatusIs(absl::StatusCode::kDataLoss));
    EXPECT_THAT(decoded.status().message(),
                HasSubstr("catalog record 'k@1.0': not a stored product"));
  }
  for (const std::string& bytes :
       {std::string("\x01\x02"), batch.substr(0, batch.size() - 9), product,
        row}) {
    auto decoded = DecodeSourceBatch(bytes, "source_log record 's#1'");
    EXPECT_THAT(decoded, StatusIs(absl::StatusCode::kDataLoss));
    EXPECT_THAT(decoded.status().message(),
                HasSubstr("source_log record 's#1': not a source batch"));
  }
}

// Builds a product record by hand, so it can hold what the encoder refuses.
std::string HandBuiltProduct(uint8_t tier, uint8_t field_type,
                             const std::vector<std::string>& field_names,
                             uint8_t edge_kind, int major = 1) {
  flatbuffers::FlatBufferBuilder b;
  std::vector<flatbuffers::Offset<fbs::FieldRecord>> fields;
  for (const std::string& name : field_names) {
    fields.push_back(fbs::CreateFieldRecordDirect(b, name.c_str(), field_type));
  }
  auto descriptor = fbs::CreateDescriptorRecordDirect(
      b, "a.b", major, 0, "ana", tier, nullptr, nullptr, &fields);
  std::vector<flatbuffers::Offset<fbs::LineageEdgeRecord>> edges = {
      fbs::CreateLineageEdgeRecord(
          b, fbs::CreateColumnRefRecordDirect(b, "x.y"),
          fbs::CreateColumnRefRecordDirect(b, "a.b"), edge_kind)};
  auto root = fbs::CreateStoredProductRecordDirect(b, descriptor, &edges, true);
  b.Finish(root, "DMSP");
  return std::string(reinterpret_cast<const char*>(b.GetBufferPointer()),
                     b.GetSize());
}

TEST(MeshRecordsTest, SemanticallyInvalidRecordsAreDataLoss) {
  // The hand builder itself makes valid records.
  auto good = DecodeStoredProduct(HandBuiltProduct(2, 4, {"x", "y"}, 5), "w");
  ASSERT_THAT(good, IsOk());
  EXPECT_EQ(good->descriptor.tier, Tier::kAuthoritative);
  EXPECT_EQ(good->edges.at(0).kind, TransformKind::kMasking);

  struct Case {
    std::string bytes;
    std::string cause;
  } cases[] = {
      {HandBuiltProduct(3, 4, {"x"}, 0), "unknown tier 3"},
      {HandBuiltProduct(0, 6, {"x"}, 0), "field 'x' has unknown type 6"},
      {HandBuiltProduct(0, 0, {"x"}, 0), "cannot have type null"},
      {HandBuiltProduct(0, 1, {"x", "x"}, 0), "'x' appears twice"},
      {HandBuiltProduct(0, 1, {""}, 0), "empty name"},
      {HandBuiltProduct(0, 1, {"x"}, 6), "unknown kind 6"},
      {HandBuiltProduct(0, 1, {"x"}, 0, -1), "negative version"},
  };
  for (const Case& c : cases) {
    auto decoded = DecodeStoredProduct(c.bytes, "catalog record 'a.b@1.0'");
    EXPECT_THAT(decoded, StatusIs(absl::StatusCode::kDataLoss)) << c.cause;
    EXPECT_THAT(decoded.status().message(), HasSubstr(c.cause));
    EXPECT_THAT(decoded.status().message(),
                HasSubstr("catalog record 'a.b@1.0'"));
  }

  // Packed rows that are not a canonical encoding, row ends that run past
  // the rows, diffs that do not match the rows in number.
  struct Bad {
    std::string rows;
    std::vector<uint32_t> ends;
    std::vector<int64_t> diffs;  // empty: none stored
    std::string cause;
  };
  for (const Bad& c : std::vector<Bad>{
           {std::string("\x22\x05\x00", 3),
            {3},
            {},
            "update 0: not a valid row"},
           {std::string("\x21\x07\x60", 3),
            {2, 3},
            {},
            "update 1: not a valid row"},
           {std::string("\x21\x07", 2), {5}, {}, "update 0 ends at byte 5"},
           {std::string("\x21\x07\x00", 3),
            {2},
            {},
            "1 bytes after the last row"},
           {std::string("\x21\x07", 2), {2}, {1, -1}, "1 rows but 2 diffs"}}) {
    flatbuffers::FlatBufferBuilder b;
    std::vector<uint8_t> rows(c.rows.begin(), c.rows.end());
    b.Finish(fbs::CreateSourceBatchRecordDirect(
                 b, 1, &rows, &c.ends, c.diffs.empty() ? nullptr : &c.diffs),
             "DMSB");
    std::string bytes(reinterpret_cast<const char*>(b.GetBufferPointer()),
                      b.GetSize());
    auto decoded = DecodeSourceBatch(bytes, "source_log record 's'");
    EXPECT_THAT(decoded, StatusIs(absl::StatusCode::kDataLoss));
    EXPECT_THAT(decoded.status().message(),
                HasSubstr("source_log record 's': "));
    EXPECT_THAT(decoded.status().message(), HasSubstr(c.cause));
  }
}

// A record that decodes but holds what no storable product holds (found by
// store_fuzz: an id that is not domain.name) is DataLoss naming the record.
TEST(MeshRecordsTest, RecordsOfUnstorableProductsAreDataLoss) {
  StoredProduct p = FullProduct();
  p.descriptor.id = "crm/contacts";
  ASSERT_FALSE(CheckStorable(p).ok());
  auto decoded = DecodeStoredProduct(EncodeStoredProduct(p), "catalog 'k'");
  EXPECT_THAT(decoded, StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(decoded.status().message(),
              HasSubstr("catalog 'k': not a storable product"));
  p = FullProduct();
  p.descriptor.owner = "";
  EXPECT_THAT(DecodeStoredProduct(EncodeStoredProduct(p), "catalog 'k'"),
              StatusIs(absl::StatusCode::kDataLoss));
}

TEST(MeshRecordsTest, CheckStorableRefusesWhatCouldNotBeReadBack) {
  EXPECT_THAT(CheckStorable(FullProduct()), IsOk());
  StoredProduct p = FullProduct();
  p.descriptor.tier = static_cast<Tier>(3);
  EXPECT_THAT(CheckStorable(p), StatusIs(absl::StatusCode::kInvalidArgument));
  p = FullProduct();
  p.descriptor.schema =
      Schema({{"x", static_cast<ValueType>(6), true, "", {}}});
  EXPECT_THAT(CheckStorable(p), StatusIs(absl::StatusCode::kInvalidArgument));
  p = FullProduct();
  p.edges[0].kind = static_cast<TransformKind>(6);
  EXPECT_THAT(CheckStorable(p), StatusIs(absl::StatusCode::kInvalidArgument));
  p = FullProduct();
  p.descriptor.version.minor = -1;
  EXPECT_THAT(CheckStorable(p), StatusIs(absl::StatusCode::kInvalidArgument));
  p = FullProduct();
  p.descriptor.owner = "";
  EXPECT_THAT(CheckStorable(p), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(RocksMeshStoreTest, SourceBatchesSurviveReopenInAppendOrder) {
  // "sales.orders" is a prefix of "sales.orders_raw": their batches must not
  // mix.
  const std::string a = "sales.orders", b = "sales.orders_raw";
  std::vector<SourceBatch> want_a = {EveryValueBatch(), SmallBatch(1, 1),
                                     SmallBatch(1, 2)};
  std::vector<SourceBatch> want_b = {SmallBatch(0, 10), SourceBatch{},
                                     SmallBatch(9, 11)};
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    for (int i = 0; i < 3; ++i) {
      ASSERT_THAT(store->AppendSourceBatch(b, want_b[i]), IsOk());
      ASSERT_THAT(store->AppendSourceBatch(a, want_a[i]), IsOk());
    }
    auto read = store->ReadSourceBatches(a);
    ASSERT_THAT(read, IsOk());
    EXPECT_EQ(*read, want_a);
  }
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    auto read_a = store->ReadSourceBatches(a);
    ASSERT_THAT(read_a, IsOk());
    EXPECT_EQ(*read_a, want_a);
    auto read_b = store->ReadSourceBatches(b);
    ASSERT_THAT(read_b, IsOk());
    EXPECT_EQ(*read_b, want_b);

    // Appending after the restart continues each source's order.
    want_b.push_back(SmallBatch(10, 12));
    ASSERT_THAT(store->AppendSourceBatch(b, want_b.back()), IsOk());
    want_a.push_back(SmallBatch(10, 3));
    ASSERT_THAT(store->AppendSourceBatch(a, want_a.back()), IsOk());
    read_b = store->ReadSourceBatches(b);
    ASSERT_THAT(read_b, IsOk());
    EXPECT_EQ(*read_b, want_b);
  }
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  auto read_a = store->ReadSourceBatches(a);
  ASSERT_THAT(read_a, IsOk());
  EXPECT_EQ(*read_a, want_a);
  auto read_b = store->ReadSourceBatches(b);
  ASSERT_THAT(read_b, IsOk());
  EXPECT_EQ(*read_b, want_b);
  auto none = store->ReadSourceBatches("sales.order");
  ASSERT_THAT(none, IsOk());
  EXPECT_THAT(*none, IsEmpty());
}

// A batch of more than kRecordRows rows is stored as consecutive records
// at its time (written together: in one WriteBatch, or, from kIngestBytes
// of rows, as an ingested table file) and reads back as those parts, in
// order; the sequence goes on after them, across a reopen too, and no
// ingest file is left behind.
TEST_F(RocksMeshStoreTest, LargeBatchesAreStoredInPartsWrittenTogether) {
  auto batch_of = [](uint64_t time, size_t rows, size_t width) {
    SourceBatch batch{time, {}};
    for (size_t i = 0; i < rows; ++i) {
      batch.updates.emplace_back(
          Row{Value(static_cast<int64_t>(i)), Value(std::string(width, 'x'))},
          i % 7 == 0 ? -2 : 1);
    }
    return batch;
  };
  // Parts the reader gives back: the batch split every kRecordRows rows.
  auto parts_of = [](const SourceBatch& batch) {
    std::vector<SourceBatch> parts;
    for (size_t at = 0; at < batch.updates.size(); at += kRecordRows) {
      const size_t end = std::min(batch.updates.size(), at + kRecordRows);
      parts.push_back({batch.time,
                       {batch.updates.begin() + static_cast<ptrdiff_t>(at),
                        batch.updates.begin() + static_cast<ptrdiff_t>(end)}});
    }
    return parts;
  };
  // Rows small enough for one WriteBatch; rows large enough to ingest.
  const SourceBatch written = batch_of(3, 2 * kRecordRows + 5, 2);
  const SourceBatch ingested = batch_of(4, kRecordRows + 1, 100);
  size_t ingested_bytes = 0;
  for (const auto& [row, diff] : ingested.updates) {
    ingested_bytes += row.bytes().size();
  }
  ASSERT_GE(ingested_bytes, kIngestBytes);
  std::vector<SourceBatch> want = parts_of(written);
  for (SourceBatch& part : parts_of(ingested)) want.push_back(std::move(part));
  want.push_back(SmallBatch(5, 1));
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    ASSERT_THAT(store->AppendSourceBatch("big", written), IsOk());
    ASSERT_THAT(store->AppendSourceBatch("big", ingested), IsOk());
    ASSERT_THAT(store->AppendSourceBatch("big", want.back()), IsOk());
    auto read = store->ReadSourceBatches("big");
    ASSERT_THAT(read, IsOk());
    ASSERT_EQ(read->size(), 6u);  // 3 + 2 parts and the small batch
    EXPECT_EQ(*read, want);
  }
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  want.push_back(SmallBatch(6, 2));
  ASSERT_THAT(store->AppendSourceBatch("big", want.back()), IsOk());
  auto read = store->ReadSourceBatches("big");
  ASSERT_THAT(read, IsOk());
  EXPECT_EQ(*read, want);
  const std::filesystem::path ingest = std::filesystem::path(dir_) / "ingest";
  EXPECT_TRUE(!std::filesystem::exists(ingest) ||
              std::filesystem::is_empty(ingest));
}

// A store records its format; one written in another format is refused
// naming both (never misread), and so is one from before formats were
// recorded (format 1: a meta family without the key).
TEST_F(RocksMeshStoreTest, StoresOfAnotherFormatAreRefused) {
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    ASSERT_THAT(store->AppendSourceBatch("s.x", SmallBatch(1, 1)), IsOk());
  }
  ASSERT_NE(OpenStore(), nullptr);  // its own format opens again
  for (const auto& [stored, named] :
       std::vector<std::pair<std::string, std::string>>{{"7", "format 7"},
                                                        {"", "format 1"}}) {
    if (stored.empty()) {
      RawDelete("meta", "format");
    } else {
      RawPut("meta", "format", stored);
    }
    auto refused = RocksMeshStore::Open(dir_);
    EXPECT_THAT(refused, StatusIs(absl::StatusCode::kFailedPrecondition));
    EXPECT_THAT(refused.status().message(), HasSubstr(named));
    EXPECT_THAT(refused.status().message(),
                HasSubstr(absl::StrCat("reads format ", kMeshStoreFormat)));
    EXPECT_THAT(refused.status().message(), HasSubstr(dir_));
  }
}

// A process that died while creating a store (its families made, the
// format not yet written) leaves an empty store: it opens as a new one
// (found by the crash test), while an old store with records stays refused.
TEST_F(RocksMeshStoreTest, AStoreCutShortAtCreationOpensAsNew) {
  ASSERT_NE(OpenStore(), nullptr);
  RawDelete("meta", "format");
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    ASSERT_THAT(store->AppendSourceBatch("s.x", SmallBatch(1, 1)), IsOk());
  }
  ASSERT_NE(OpenStore(), nullptr);  // the format was written
  RawDelete("meta", "format");
  EXPECT_THAT(RocksMeshStore::Open(dir_),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(RocksMeshStoreTest, SourceLogKeysAreSourceZeroBigEndianSequence) {
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    for (int i = 0; i < 3; ++i) {
      ASSERT_THAT(store->AppendSourceBatch("s.x", SmallBatch(i, i)), IsOk());
    }
  }
  // Sequence 4 written under the documented layout is read as the 4th batch:
  // readers and writers agree on the key format.
  RawPut("source_log", SourceKey("s.x", 4),
         EncodeSourceBatch(SmallBatch(4, 44)));
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_THAT(store->AppendSourceBatch("s.x", SmallBatch(5, 55)), IsOk());
  auto read = store->ReadSourceBatches("s.x");
  ASSERT_THAT(read, IsOk());
  ASSERT_EQ(read->size(), 5u);
  EXPECT_EQ((*read)[2], SmallBatch(2, 2));
  EXPECT_EQ((*read)[3], SmallBatch(4, 44));
  EXPECT_EQ((*read)[4], SmallBatch(5, 55));
}

TEST_F(RocksMeshStoreTest, BadSourceIdsAreInvalidArgument) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  EXPECT_THAT(store->AppendSourceBatch("", SourceBatch{}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(store->AppendSourceBatch(std::string("a\0b", 3), SourceBatch{}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(store->ReadSourceBatches(std::string("a\0b", 3)),
              StatusIs(absl::StatusCode::kInvalidArgument));
  auto read = store->ReadSourceBatches("a");
  ASSERT_THAT(read, IsOk());
  EXPECT_THAT(*read, IsEmpty());
}

// Batches of several sources appended in one call are all stored or none;
// each source's sequence goes on where it was.
TEST_F(RocksMeshStoreTest, SeveralSourcesAreAppendedAllOrNone) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  const SourceBatch a1 = SmallBatch(1, 1), a2 = SmallBatch(2, 2),
                    b2 = SmallBatch(2, 3);
  ASSERT_THAT(store->AppendSourceBatch("s.a", a1), IsOk());
  // A bad id anywhere refuses the whole call.
  EXPECT_THAT(
      store->AppendSourceBatches({{"s.b", &b2}, {std::string("x\0y", 3), &a2}}),
      StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(*store->ReadSourceBatches("s.b"), IsEmpty());
  // Given out of order, stored per source in order.
  ASSERT_THAT(store->AppendSourceBatches({{"s.b", &b2}, {"s.a", &a2}}), IsOk());
  store.reset();
  store = OpenStore();
  ASSERT_NE(store, nullptr);
  EXPECT_THAT(*store->ReadSourceBatches("s.a"), ElementsAre(a1, a2));
  EXPECT_THAT(*store->ReadSourceBatches("s.b"), ElementsAre(b2));
  // PutProducts: one bad product refuses them all.
  StoredProduct good = FullProduct(), bad = FullProduct();
  bad.descriptor.id = "";
  EXPECT_THAT(store->PutProducts({good, bad}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(*store->ReadProducts(), IsEmpty());
}

TEST_F(RocksMeshStoreTest, PutProductReplacesAndReadsInIdVersionOrder) {
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    auto empty = store->ReadProducts();
    ASSERT_THAT(empty, IsOk());
    EXPECT_THAT(*empty, IsEmpty());
    // Inserted out of order, with ids and versions whose key order differs
    // from (id, version) order.
    for (auto [id, major, minor] : {std::tuple{"b.x", 1, 0},
                                    {"a.y", 10, 0},
                                    {"a.y2", 1, 0},
                                    {"a.y", 2, 0},
                                    {"a.y", 2, 1}}) {
      StoredProduct p{Descriptor(id, major, minor), {}, true};
      ASSERT_THAT(store->PutProduct(p), IsOk());
    }
    // Replacing a version keeps one record with the new contents.
    StoredProduct replaced{Descriptor("a.y", 2, 0),
                           {LineageEdge{{"b.x", "id"}, {"a.y", "id"}}},
                           false};
    replaced.descriptor.tier = Tier::kCurated;
    ASSERT_THAT(store->PutProduct(replaced), IsOk());
  }
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  auto products = store->ReadProducts();
  ASSERT_THAT(products, IsOk());
  std::vector<std::string> ids;
  for (const StoredProduct& p : *products) {
    ids.push_back(p.descriptor.VersionedId());
  }
  EXPECT_THAT(ids, ElementsAre("a.y@2.0", "a.y@2.1", "a.y@10.0", "a.y2@1.0",
                               "b.x@1.0"));
  ASSERT_EQ(products->size(), 5u);
  const StoredProduct& p = (*products)[0];
  EXPECT_EQ(p.descriptor.tier, Tier::kCurated);
  EXPECT_FALSE(p.active);
  ASSERT_EQ(p.edges.size(), 1u);
  EXPECT_EQ(p.edges[0].ToString(), "b.x.id -> a.y.id (direct)");
  EXPECT_TRUE((*products)[1].active);
  ASSERT_THAT(store->PutProduct(FullProduct()), IsOk());
  products = store->ReadProducts();
  ASSERT_THAT(products, IsOk());
  ASSERT_EQ(products->size(), 6u);
  EXPECT_EQ((*products)[5], FullProduct());  // "crm.contacts" after "b.x"
}

TEST_F(RocksMeshStoreTest, InvalidProductIsRefusedAndNotStored) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  StoredProduct bad{Descriptor("Not An Id", 1, 0), {}, true};
  EXPECT_THAT(store->PutProduct(bad),
              StatusIs(absl::StatusCode::kInvalidArgument));
  bad = StoredProduct{Descriptor("a.b", 1, 0), {}, true};
  bad.descriptor.tier = static_cast<Tier>(9);
  EXPECT_THAT(store->PutProduct(bad),
              StatusIs(absl::StatusCode::kInvalidArgument));
  auto products = store->ReadProducts();
  ASSERT_THAT(products, IsOk());
  EXPECT_THAT(*products, IsEmpty());
}

TEST_F(RocksMeshStoreTest, NextTimePersistsAcrossReopen) {
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    auto time = store->ReadNextTime();
    ASSERT_THAT(time, IsOk());
    EXPECT_EQ(*time, 0u);
    ASSERT_THAT(store->PutNextTime(42), IsOk());
    ASSERT_THAT(store->PutNextTime(0x0102030405060708u), IsOk());
  }
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    auto time = store->ReadNextTime();
    ASSERT_THAT(time, IsOk());
    EXPECT_EQ(*time, 0x0102030405060708u);
    ASSERT_THAT(store->PutNextTime(std::numeric_limits<uint64_t>::max()),
                IsOk());
  }
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  auto time = store->ReadNextTime();
  ASSERT_THAT(time, IsOk());
  EXPECT_EQ(*time, std::numeric_limits<uint64_t>::max());
}

TEST_F(RocksMeshStoreTest, CorruptSourceBatchIsDataLossNamingTheKey) {
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    for (int i = 0; i < 3; ++i) {
      ASSERT_THAT(store->AppendSourceBatch("sales.orders", SmallBatch(i, i)),
                  IsOk());
      ASSERT_THAT(store->AppendSourceBatch("sales.other", SmallBatch(i, i)),
                  IsOk());
    }
  }
  const std::string key = SourceKey("sales.orders", 2);
  RawPut("source_log", key, "\x01\x02garbage");
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  auto read = store->ReadSourceBatches("sales.orders");
  EXPECT_THAT(read, StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(read.status().message(),
              HasSubstr(absl::StrCat("source_log record '",
                                     absl::CHexEscape(key), "'")));
  EXPECT_THAT(read.status().message(), HasSubstr("#2 of sales.orders"));
  EXPECT_THAT(read.status().message(), HasSubstr("not a source batch"));
  // The other source is untouched.
  auto other = store->ReadSourceBatches("sales.other");
  ASSERT_THAT(other, IsOk());
  EXPECT_EQ(other->size(), 3u);
}

TEST_F(RocksMeshStoreTest, ForeignRecordsAreDataLoss) {
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    ASSERT_THAT(store->AppendSourceBatch("s.x", SmallBatch(0, 0)), IsOk());
    ASSERT_THAT(store->PutProduct(FullProduct()), IsOk());
  }
  // Valid FlatBuffers, of the wrong kind.
  RawPut("source_log", SourceKey("s.x", 2), EncodeStoredProduct(FullProduct()));
  RawPut("catalog", "crm.contacts@3.14", EncodeRow(Row{Value("x")}));
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  auto batches = store->ReadSourceBatches("s.x");
  EXPECT_THAT(batches, StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(batches.status().message(),
              HasSubstr(absl::CHexEscape(SourceKey("s.x", 2))));
  EXPECT_THAT(batches.status().message(), HasSubstr("not a source batch"));
  auto products = store->ReadProducts();
  EXPECT_THAT(products, StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(products.status().message(),
              HasSubstr("catalog record 'crm.contacts@3.14': not a stored "
                        "product"));
}

TEST_F(RocksMeshStoreTest, CorruptCatalogAndMetaRecordsAreDataLoss) {
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    ASSERT_THAT(store->PutProduct(FullProduct()), IsOk());
  }
  RawPut("catalog", "a.b@1.0", "\xff\xfe\xfd");
  RawPut("meta", "next_time", "abc");
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    auto products = store->ReadProducts();
    EXPECT_THAT(products, StatusIs(absl::StatusCode::kDataLoss));
    EXPECT_THAT(products.status().message(),
                HasSubstr("catalog record 'a.b@1.0'"));
    auto time = store->ReadNextTime();
    EXPECT_THAT(time, StatusIs(absl::StatusCode::kDataLoss));
    EXPECT_THAT(time.status().message(), HasSubstr("meta record 'next_time'"));
  }
  // A valid product under another product's key.
  RawPut("catalog", "a.b@1.0", EncodeStoredProduct(FullProduct()));
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  auto products = store->ReadProducts();
  EXPECT_THAT(products, StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(products.status().message(),
              HasSubstr("catalog record 'a.b@1.0': holds product "
                        "crm.contacts@3.14"));
}

TEST_F(RocksMeshStoreTest, MissingBatchIsDataLoss) {
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    for (int i = 0; i < 4; ++i) {
      ASSERT_THAT(store->AppendSourceBatch("s.x", SmallBatch(i, i)), IsOk());
    }
  }
  RawDelete("source_log", SourceKey("s.x", 2));
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  auto read = store->ReadSourceBatches("s.x");
  EXPECT_THAT(read, StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(read.status().message(),
              HasSubstr(absl::StrCat(
                  "source_log record '", absl::CHexEscape(SourceKey("s.x", 3)),
                  "' (batch #3 of s.x): batch #2 is missing")));
}

TEST_F(RocksMeshStoreTest, MalformedSourceLogKeyFailsOpenNamingIt) {
  { ASSERT_NE(OpenStore(), nullptr); }
  RawPut("source_log", "no-zero-byte", EncodeSourceBatch(SourceBatch{}));
  auto store = RocksMeshStore::Open(dir_);
  EXPECT_THAT(store, StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(store.status().message(),
              HasSubstr("source_log record 'no-zero-byte': malformed key"));
}

TEST_F(RocksMeshStoreTest, OpensDatabaseWithoutItsFamiliesAndKeepsOthers) {
  std::filesystem::create_directories(dir_);
  {
    rocksdb::Options options;
    options.create_if_missing = true;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(options, dir_, &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), "k", "v").ok());
    rocksdb::ColumnFamilyHandle* other = nullptr;
    ASSERT_TRUE(db->CreateColumnFamily(rocksdb::ColumnFamilyOptions(),
                                       "checkpoints", &other)
                    .ok());
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), other, "c", "1").ok());
    ASSERT_TRUE(db->DestroyColumnFamilyHandle(other).ok());
  }
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    ASSERT_THAT(store->AppendSourceBatch("s.x", SmallBatch(1, 1)), IsOk());
    ASSERT_THAT(store->PutNextTime(7), IsOk());
  }
  std::vector<std::string> names;
  ASSERT_TRUE(
      rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir_, &names).ok());
  EXPECT_THAT(names, ::testing::UnorderedElementsAre("default", "checkpoints",
                                                     "catalog", "source_log",
                                                     "product_log", "meta"));
  // The other component's data is still there, and so is ours.
  RawWrite("checkpoints", [](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf) {
    std::string value;
    rocksdb::Status s = db->Get(rocksdb::ReadOptions(), cf, "c", &value);
    EXPECT_EQ(value, "1");
    return s;
  });
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  auto time = store->ReadNextTime();
  ASSERT_THAT(time, IsOk());
  EXPECT_EQ(*time, 7u);
}

TEST_F(RocksMeshStoreTest, CreatesMissingParentDirectories) {
  dir_ = (root_ / "a" / "b" / "c").string();
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_THAT(store->PutNextTime(3), IsOk());
  EXPECT_TRUE(std::filesystem::is_directory(dir_));
  EXPECT_EQ(store->path(), dir_);
}

TEST_F(RocksMeshStoreTest, RegularFileIsAnErrorNamingThePath) {
  std::filesystem::create_directories(root_);
  std::string file = (root_ / "plain_file").string();
  std::ofstream(file) << "not a database";
  auto store = RocksMeshStore::Open(file);
  EXPECT_THAT(store, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(store.status().message(), HasSubstr(file));
  // A path below a regular file cannot be created either.
  auto below = RocksMeshStore::Open(file + "/store");
  EXPECT_THAT(below, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(below.status().message(), HasSubstr(file + "/store"));
  std::ifstream in(file);
  std::string content;
  std::getline(in, content);
  EXPECT_EQ(content, "not a database");  // untouched
  EXPECT_THAT(RocksMeshStore::Open(""),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(RocksMeshStoreTest, SecondOpenOfALockedStoreIsAnError) {
  auto first = OpenStore();
  ASSERT_NE(first, nullptr);
  ASSERT_THAT(first->PutNextTime(5), IsOk());
  auto second = RocksMeshStore::Open(dir_);
  EXPECT_THAT(second, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(second.status().message(), HasSubstr(dir_));
  EXPECT_THAT(second.status().message(), HasSubstr("another store"));
  // The first store still works, and once it is closed the lock is free.
  auto time = first->ReadNextTime();
  ASSERT_THAT(time, IsOk());
  EXPECT_EQ(*time, 5u);
  first.reset();
  auto third = OpenStore();
  ASSERT_NE(third, nullptr);
}

}  // namespace
}  // namespace diffmesh

namespace diffmesh {
namespace {

// Checkpoints: batches up to a time fold into their consolidated sum at the
// last folded batch's time, the later ones stay, sequence numbers stay
// without gaps (so later appends and a reopen read back in order), also
// when the folded part spans records of a large batch.
// Products' change logs: their own family, read up to a time, folded by a
// checkpoint, dropped at once, and checked like the sources' logs.
TEST_F(RocksMeshStoreTest, ProductChangesAreKeptApartAndReadUpToATime) {
  std::map<Row, int64_t> upto_4;
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    for (uint64_t t = 1; t <= 6; ++t) {
      const SourceBatch a = SmallBatch(t, static_cast<int64_t>(t));
      const SourceBatch b = SmallBatch(t, static_cast<int64_t>(t) + 10);
      ASSERT_THAT(store->AppendProductChanges({{"p.a", &a}, {"p.b", &b}}),
                  IsOk());
      if (t <= 4) upto_4[a.updates[0].first] += a.updates[0].second;
    }
    // A source of the same name is another log.
    ASSERT_THAT(store->AppendSourceBatch("p.a", SmallBatch(9, 9)), IsOk());
    const SourceBatch bad = SmallBatch(1, 1);
    EXPECT_THAT(store->AppendProductChanges({{"", &bad}}),
                StatusIs(absl::StatusCode::kInvalidArgument));
  }
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  auto read = store->ReadProductChanges("p.a", 4);
  ASSERT_THAT(read, IsOk());
  ASSERT_EQ(read->size(), 4u);
  for (uint64_t t = 1; t <= 4; ++t) {
    EXPECT_EQ((*read)[t - 1], SmallBatch(t, static_cast<int64_t>(t)));
  }
  EXPECT_THAT(*store->ReadProductChanges("unknown", 4), IsEmpty());
  // Appends go on after the reopen without a gap.
  const SourceBatch seventh = SmallBatch(7, 7);
  ASSERT_THAT(store->AppendProductChanges({{"p.a", &seventh}}), IsOk());
  // Folded up to 4: the checkpoint at time 4 holds their sum.
  ASSERT_THAT(store->CheckpointProductChanges("p.a", 4), IsOk());
  read = store->ReadProductChanges("p.a", 100);
  ASSERT_THAT(read, IsOk());
  ASSERT_EQ(read->size(), 4u);  // the checkpoint, 5, 6, 7
  EXPECT_EQ((*read)[0].time, 4u);
  std::vector<std::pair<Row, int64_t>> want(upto_4.begin(), upto_4.end());
  std::erase_if(want, [](const auto& u) { return u.second == 0; });
  EXPECT_EQ((*read)[0].updates, want);
  EXPECT_EQ((*read)[3], seventh);
  // The source log is untouched by all of it.
  auto source = store->ReadSourceBatches("p.a");
  ASSERT_THAT(source, IsOk());
  EXPECT_THAT(*source, ElementsAre(SmallBatch(9, 9)));
  ASSERT_THAT(store->DropProductChanges(), IsOk());
  EXPECT_THAT(*store->ReadProductChanges("p.a", 100), IsEmpty());
  EXPECT_THAT(*store->ReadProductChanges("p.b", 100), IsEmpty());
  EXPECT_THAT(store->DropProductChanges(), IsOk());  // nothing to drop
  // A new run starts its sequence numbers again.
  ASSERT_THAT(store->AppendProductChanges({{"p.a", &seventh}}), IsOk());
  EXPECT_THAT(*store->ReadProductChanges("p.a", 100), ElementsAre(seventh));
  EXPECT_THAT(*store->ReadSourceBatches("p.a"), ElementsAre(SmallBatch(9, 9)));
}

TEST_F(RocksMeshStoreTest, CorruptOrMissingProductChangesAreDataLoss) {
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    for (uint64_t t = 1; t <= 3; ++t) {
      const SourceBatch b = SmallBatch(t, static_cast<int64_t>(t));
      ASSERT_THAT(store->AppendProductChanges({{"p.a", &b}}), IsOk());
    }
  }
  RawPut("product_log", SourceKey("p.a", 2), "\x01\x02garbage");
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    auto read = store->ReadProductChanges("p.a", 10);
    EXPECT_THAT(read, StatusIs(absl::StatusCode::kDataLoss));
    EXPECT_THAT(read.status().message(),
                HasSubstr(absl::StrCat("product_log record '",
                                       absl::CHexEscape(SourceKey("p.a", 2)),
                                       "' (batch #2 of p.a)")));
  }
  RawDelete("product_log", SourceKey("p.a", 2));
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  auto read = store->ReadProductChanges("p.a", 10);
  EXPECT_THAT(read, StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(read.status().message(), HasSubstr("batch #2 is missing"));
}

TEST_F(RocksMeshStoreTest, ProductChangesAreReadFromOtherThreadsWhileWriting) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  const SourceBatch first = SmallBatch(1, 1);
  ASSERT_THAT(store->AppendProductChanges({{"p.a", &first}}), IsOk());
  std::atomic<bool> done{false};
  std::atomic<int> bad{0};
  std::thread reader([&] {
    while (!done.load()) {
      auto read = store->ReadProductChanges("p.a", 1);
      if (!read.ok() || *read != std::vector<SourceBatch>{first}) ++bad;
    }
  });
  for (uint64_t t = 2; t <= 200; ++t) {
    const SourceBatch b = SmallBatch(t, static_cast<int64_t>(t));
    ASSERT_THAT(store->AppendProductChanges({{"p.a", &b}}), IsOk());
    if (t % 50 == 0) {
      ASSERT_THAT(store->CheckpointProductChanges("p.a", 1), IsOk());
    }
  }
  done = true;
  reader.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(store->ReadProductChanges("p.a", 1000)->size(), 200u);
}

TEST(RocksMeshStoreCheckpoint, FoldsThePrefixIntoItsSumAndKeepsTheRest) {
  const std::filesystem::path root =
      std::filesystem::path(::testing::TempDir()) /
      absl::StrCat("diffmesh_checkpoint_", ::getpid());
  std::filesystem::remove_all(root);
  const std::string dir = (root / "store").string();
  std::mt19937_64 rng(5);
  std::vector<SourceBatch> appended;
  std::map<Row, int64_t> sum_upto_6;
  {
    auto store = *RocksMeshStore::Open(dir);
    for (uint64_t t = 1; t <= 10; ++t) {
      SourceBatch b{t, {}};
      const size_t n = t == 2 ? kRecordRows + 3 : 1 + rng() % 5;
      for (size_t i = 0; i < n; ++i) {
        Row row{Value(static_cast<int64_t>(rng() % 40))};
        const int64_t diff = rng() % 3 == 0 ? -1 : 1;
        b.updates.emplace_back(row, diff);
        if (t <= 6) sum_upto_6[row] += diff;
      }
      ASSERT_THAT(store->AppendSourceBatch("s", b), IsOk());
      appended.push_back(std::move(b));
    }
    ASSERT_THAT(store->CheckpointSource("s", 6), IsOk());
    // Again at the same time: nothing left to fold.
    ASSERT_THAT(store->CheckpointSource("s", 6), IsOk());
    ASSERT_THAT(store->CheckpointSource("unknown", 6), IsOk());
    SourceBatch later{11, {{Row{Value(int64_t{99})}, 1}}};
    ASSERT_THAT(store->AppendSourceBatch("s", later), IsOk());
    appended.push_back(later);
  }
  auto store = *RocksMeshStore::Open(dir);
  auto read = store->ReadSourceBatches("s");
  ASSERT_THAT(read, IsOk());
  ASSERT_FALSE(read->empty());
  const SourceBatch& checkpoint = (*read)[0];
  EXPECT_EQ(checkpoint.time, 6u);
  std::vector<std::pair<Row, int64_t>> want;
  for (const auto& [row, n] : sum_upto_6) {
    if (n != 0) want.emplace_back(row, n);
  }
  EXPECT_EQ(checkpoint.updates, want);
  std::vector<SourceBatch> rest(read->begin() + 1, read->end());
  std::vector<SourceBatch> want_rest(appended.begin() + 6, appended.end());
  EXPECT_EQ(rest, want_rest);
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace diffmesh
