// Values, rows and schemas: a total order that agrees with equality and
// hashing (rows are engine data), FlatBuffers round trips with corrupt input
// rejected as DataLoss naming its origin, schema validation naming the
// field, and rows counted by key on two workers.
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "absl/hash/hash.h"
#include "catalog/row.h"
#include "catalog/row_codec.h"
#include "catalog/schema.h"
#include "engine/input.h"
#include "engine/probe.h"
#include "engine/runtime.h"
#include "gtest/gtest.h"
#include "operators/count.h"
#include "operators/inspect.h"
#include "schemas/row_generated.h"
#include "tests/status_matchers.h"

namespace diffmesh {
namespace {

using testing::IsOk;
using testing::StatusIs;

Value RandomValue(std::mt19937_64& rng) {
  switch (rng() % 6) {
    case 0:
      return Value::Null();
    case 1:
      return Value(rng() % 2 == 0);
    case 2:
      return Value(static_cast<int64_t>(rng() % 7) - 3);
    case 3: {
      const double pool[] = {
          -1.5,        -0.0, 0.0, 2.25, std::numeric_limits<double>::infinity(),
          std::nan("")};
      return Value(pool[rng() % 6]);
    }
    case 4: {
      const char* pool[] = {"", "a", "ab", "ä", "日本", "a\"b\n"};
      return Value(pool[rng() % 6]);
    }
    default:
      return Value(TimestampMicros{static_cast<int64_t>(rng() % 3)});
  }
}

TEST(ValueTest, OrderIsTotalAndAgreesWithEqualityAndHash) {
  std::mt19937_64 rng(1);
  std::vector<Value> values;
  for (int i = 0; i < 300; ++i) values.push_back(RandomValue(rng));
  for (const Value& a : values) {
    for (const Value& b : values) {
      auto ab = a <=> b, ba = b <=> a;
      EXPECT_EQ(ab == 0, ba == 0);
      EXPECT_EQ(ab<0, ba> 0);
      EXPECT_EQ(ab == 0, a == b) << a.DebugString() << " " << b.DebugString();
      if (a == b) {
        EXPECT_EQ(absl::Hash<Value>{}(a), absl::Hash<Value>{}(b));
      }
    }
  }
  std::vector<Value> sorted = values;
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i + 1 < sorted.size(); ++i) {
    EXPECT_LE(sorted[i], sorted[i + 1]);
    for (size_t j = i + 1; j < sorted.size(); j += 37) {  // transitivity
      EXPECT_LE(sorted[i], sorted[j]);
    }
  }
}

TEST(ValueTest, DoublesAreCanonical) {
  EXPECT_EQ(Value(-0.0), Value(0.0));
  EXPECT_EQ(absl::Hash<Value>{}(Value(-0.0)), absl::Hash<Value>{}(Value(0.0)));
  EXPECT_EQ(Value(std::nan("1")), Value(-std::nan("2")));
  EXPECT_GT(Value(std::nan("")),
            Value(std::numeric_limits<double>::infinity()));
  // Types order first: null < bool < int64 < double < string < timestamp.
  EXPECT_LT(Value::Null(), Value(false));
  EXPECT_LT(Value(true), Value(int64_t{-5}));
  EXPECT_LT(Value(int64_t{99}), Value(-1.0));
  EXPECT_LT(Value(1e300), Value(""));
  EXPECT_LT(Value("zzz"), Value(TimestampMicros{-1}));
  EXPECT_EQ(Value("a\"b\n").DebugString(), "\"a\\\"b\\n\"");
  EXPECT_EQ(Value(TimestampMicros{5}).type(), ValueType::kTimestamp);
}

TEST(RowCodecTest, RoundTripsRandomRows) {
  std::mt19937_64 rng(2);
  for (int i = 0; i < 500; ++i) {
    Row row;
    size_t n = rng() % 8;
    for (size_t j = 0; j < n; ++j) row.push_back(RandomValue(rng));
    if (i == 0) {
      row = {Value(std::numeric_limits<int64_t>::min()),
             Value(std::numeric_limits<int64_t>::max()),
             Value(std::string("\0x\0", 3))};
    }
    auto back = DecodeRow(EncodeRow(row), "test");
    ASSERT_THAT(back.status(), IsOk());
    EXPECT_EQ(*back, row) << RowDebugString(row);
  }
}

TEST(RowCodecTest, CorruptBytesAreDataLossNamingTheOrigin) {
  std::string bytes = EncodeRow({Value(int64_t{1}), Value("x")});
  auto garbage = DecodeRow("definitely not a row", "orders.csv record 7");
  EXPECT_THAT(garbage.status(), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_NE(garbage.status().message().find("orders.csv record 7"),
            std::string::npos);
  for (size_t cut :
       {size_t{0}, size_t{4}, bytes.size() / 2, bytes.size() - 1}) {
    EXPECT_THAT(DecodeRow(bytes.substr(0, cut), "cut").status(),
                StatusIs(absl::StatusCode::kDataLoss))
        << "cut at " << cut;
  }
  // A well-formed buffer with a value kind this version does not know.
  flatbuffers::FlatBufferBuilder builder;
  std::vector<flatbuffers::Offset<fbs::ValueRecord>> values = {
      fbs::CreateValueRecord(builder, /*kind=*/9)};
  fbs::FinishRowRecordBuffer(
      builder, fbs::CreateRowRecord(builder, builder.CreateVector(values)));
  auto unknown = DecodeRow(
      std::string(reinterpret_cast<const char*>(builder.GetBufferPointer()),
                  builder.GetSize()),
      "key r1");
  EXPECT_THAT(unknown.status(), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_NE(unknown.status().message().find("unknown kind 9"),
            std::string::npos);
}

TEST(SchemaTest, MakeRejectsBadFieldLists) {
  EXPECT_THAT(Schema::Make({{"a", ValueType::kInt64}, {"a", ValueType::kBool}})
                  .status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Schema::Make({{"", ValueType::kInt64}}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Schema::Make({{"n", ValueType::kNull}}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Schema::Make({{"id", ValueType::kInt64, false, "key", {}},
                            {"email", ValueType::kString, true, "", {"pii"}}})
                  .status(),
              IsOk());
}

TEST(SchemaTest, ValidateNamesTheField) {
  Schema schema(
      {{"id", ValueType::kInt64, false}, {"email", ValueType::kString, true}});
  EXPECT_THAT(schema.Validate({Value(int64_t{1}), Value::Null()}), IsOk());
  EXPECT_EQ(schema.FieldIndex("email"), 1);
  EXPECT_EQ(schema.FieldIndex("nope"), std::nullopt);
  absl::Status null_id = schema.Validate({Value::Null(), Value("a")});
  EXPECT_THAT(null_id, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_NE(null_id.message().find("'id'"), std::string::npos);
  absl::Status wrong = schema.Validate({Value(int64_t{1}), Value(2.0)});
  EXPECT_NE(wrong.message().find("'email' expects string, got double"),
            std::string::npos)
      << wrong;
  EXPECT_THAT(schema.Validate({Value(int64_t{1})}),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

// Rows are ordinary engine data: counted by value on two workers (the
// exchange hashes whole rows), the counts equal a direct count.
TEST(RowsInTheEngine, CountOnTwoWorkers) {
  std::mt19937_64 rng(3);
  std::vector<Row> rows;
  for (int i = 0; i < 400; ++i) {
    rows.push_back({RandomValue(rng), Value(static_cast<int64_t>(rng() % 3))});
  }
  std::map<Row, int64_t> want;
  for (const Row& r : rows) ++want[r];
  std::mutex mutex;
  std::map<Row, int64_t> got;
  ASSERT_THAT(Runtime::Execute(2,
                               [&](Worker& worker) {
                                 Graph& graph = worker.NewDataflow("rows");
                                 auto [input, coll] = NewInput<Row>(graph);
                                 Inspect(Count(coll), [&](const auto& rc,
                                                          uint64_t, int64_t d) {
                                   std::lock_guard<std::mutex> lock(mutex);
                                   got[rc.first] += rc.second * d;
                                 });
                                 for (size_t i = worker.index();
                                      i < rows.size(); i += worker.peers()) {
                                   input.Insert(rows[i]);
                                 }
                               }),
              IsOk());
  std::erase_if(got, [](const auto& p) { return p.second == 0; });
  EXPECT_EQ(got, want);
}

}  // namespace
}  // namespace diffmesh
