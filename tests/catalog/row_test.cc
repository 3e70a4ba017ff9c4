// The packed row: the same order, equality and values as a vector of
// Values on random rows (values of every type and width, long strings),
// a canonical encoding (equal rows have equal bytes), views that read in
// place, FromBytes refusing every non-canonical or truncated encoding with
// DataLoss naming the place, and a hash that does not change between runs.
#include "catalog/row.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "engine/batch.h"
#include "engine/batcher.h"
#include "engine/column.h"
#include "engine/cursor.h"
#include "engine/stable_hash.h"
#include "gtest/gtest.h"
#include "tests/status_matchers.h"

namespace diffmesh {
namespace {

using testing::StatusIs;

Value RandomValue(std::mt19937_64& rng) {
  switch (rng() % 6) {
    case 0:
      return Value::Null();
    case 1:
      return Value(rng() % 2 == 0);
    case 2: {
      // Every width: small, byte boundaries, extremes.
      const int64_t pool[] = {0,
                              1,
                              -1,
                              127,
                              128,
                              -128,
                              -129,
                              32767,
                              -32769,
                              int64_t{1} << 40,
                              -(int64_t{1} << 55),
                              std::numeric_limits<int64_t>::max(),
                              std::numeric_limits<int64_t>::min()};
      return Value(rng() % 3 == 0
                       ? pool[rng() % 13]
                       : static_cast<int64_t>(rng()) >> (rng() % 64));
    }
    case 3: {
      const double pool[] = {-1.5,
                             -0.0,
                             0.0,
                             2.25,
                             std::numeric_limits<double>::infinity(),
                             -std::numeric_limits<double>::infinity(),
                             std::nan(""),
                             1e-300};
      return Value(pool[rng() % 8]);
    }
    case 4: {
      const char* pool[] = {"",
                            "a",
                            "ab",
                            "ä",
                            "日本",
                            "a\"b\n",
                            "fourteen chars",
                            "fifteen chars!!"};
      std::string s = pool[rng() % 8];
      if (rng() % 5 == 0) s.append(rng() % 300, 'x');  // long form lengths
      if (rng() % 7 == 0) s.push_back('\0');
      return Value(s);
    }
    default:
      return Value(TimestampMicros{static_cast<int64_t>(rng() % 5) - 2 +
                                   (rng() % 2 ? 1700000000000000 : 0)});
  }
}

std::vector<Value> RandomValues(std::mt19937_64& rng) {
  std::vector<Value> out(rng() % 5);
  for (Value& v : out) v = RandomValue(rng);
  return out;
}

TEST(RowTest, OrderEqualityAndValuesAgreeWithVectorsOfValues) {
  std::mt19937_64 rng(7);
  std::vector<std::vector<Value>> plain;
  for (int i = 0; i < 400; ++i) plain.push_back(RandomValues(rng));
  // Near-equal pairs: the same row with its last value changed.
  for (int i = 0; i < 100; ++i) {
    std::vector<Value> v = plain[i];
    if (!v.empty()) v.back() = RandomValue(rng);
    plain.push_back(v);
  }
  std::vector<Row> packed;
  for (const auto& v : plain) packed.push_back(Row(v));
  for (size_t i = 0; i < plain.size(); ++i) {
    ASSERT_EQ(packed[i].ToValues(), plain[i]);
    ASSERT_EQ(packed[i].size(), plain[i].size());
    for (size_t c = 0; c < plain[i].size(); ++c) {
      ASSERT_TRUE(packed[i][c] == plain[i][c]) << c;
      ASSERT_EQ(packed[i][c].type(), plain[i][c].type());
    }
    for (size_t j = 0; j < plain.size(); ++j) {
      const auto want = plain[i] <=> plain[j];
      ASSERT_EQ(packed[i] <=> packed[j], want)
          << RowDebugString(packed[i]) << " vs " << RowDebugString(packed[j]);
      ASSERT_EQ(packed[i] == packed[j], want == 0);
      // The prefix never contradicts the order.
      if (want < 0) {
        ASSERT_LE(packed[i].SortPrefix(), packed[j].SortPrefix())
            << RowDebugString(packed[i]) << " vs " << RowDebugString(packed[j]);
      }
      if (want == 0) {
        ASSERT_EQ(packed[i].bytes(), packed[j].bytes());
        ASSERT_EQ(packed[i].StableHash(), packed[j].StableHash());
      }
    }
  }
}

TEST(RowTest, SortPrefixTellsFirstValuesApart) {
  // Distinct first values of every type get distinct prefixes when they
  // differ above the three bits the type takes (and in a string's first
  // seven bytes).
  const std::vector<Value> firsts = {
      Value(),
      Value(false),
      Value(true),
      Value(int64_t{-9}),
      Value(int64_t{0}),
      Value(int64_t{1} << 40),
      Value(-2.5),
      Value(0.0),
      Value(1e300),
      Value(std::numeric_limits<double>::infinity()),
      Value(std::numeric_limits<double>::quiet_NaN()),
      Value(""),
      Value("ATL"),
      Value("ATLX"),
      Value("SFO"),
      Value(TimestampMicros{-60'000'000}),
      Value(TimestampMicros{0}),
      Value(TimestampMicros{60'000'000})};
  for (size_t i = 0; i + 1 < firsts.size(); ++i) {
    const Row a{firsts[i], Value("z")}, b{firsts[i + 1], Value("a")};
    ASSERT_LT(a, b);
    EXPECT_LT(a.SortPrefix(), b.SortPrefix())
        << RowDebugString(a) << " vs " << RowDebugString(b);
  }
  EXPECT_EQ(Row().SortPrefix(), 0u);
}

// An exact prefix tells its value from every other: integers and
// timestamps apart only in their lowest bits, within (-2^60, 2^60); at and
// beyond the ends the prefix is clamped (still in order) and not exact.
TEST(RowTest, ExactPrefixesTellEveryValueApart) {
  std::mt19937_64 rng(9);
  const int64_t edge = int64_t{1} << 60;
  std::vector<int64_t> ints = {-edge + 1, -9, -8, -1, 0, 1, 7, 8, 9, edge - 2};
  for (int i = 0; i < 200; ++i) {
    ints.push_back(static_cast<int64_t>(rng() % (uint64_t{1} << 61)) - edge);
  }
  std::sort(ints.begin(), ints.end());
  ints.erase(std::unique(ints.begin(), ints.end()), ints.end());
  for (size_t i = 0; i < ints.size(); ++i) {
    for (const Row& row :
         {Row{Value(ints[i])}, Row{Value(TimestampMicros{ints[i]})}}) {
      const Datum d = row[0];
      if (ints[i] > -edge && ints[i] < edge - 1) {
        EXPECT_TRUE(d.SortPrefixIsExact()) << ints[i];
      }
    }
    if (i + 1 < ints.size() && ints[i] > -edge && ints[i + 1] < edge - 1) {
      EXPECT_LT(Row{Value(ints[i])}.SortPrefix(),
                Row{Value(ints[i + 1])}.SortPrefix())
          << ints[i] << " vs " << ints[i + 1];
    }
  }
  const Row low{Value(std::numeric_limits<int64_t>::min())};
  const Row high{Value(std::numeric_limits<int64_t>::max())};
  EXPECT_FALSE(low[0].SortPrefixIsExact());
  EXPECT_FALSE(high[0].SortPrefixIsExact());
  EXPECT_LE(low.SortPrefix(), Row{Value(-edge + 1)}.SortPrefix());
  EXPECT_GE(high.SortPrefix(), Row{Value(edge - 2)}.SortPrefix());
  EXPECT_TRUE(Row{Value()}[0].SortPrefixIsExact());
  EXPECT_TRUE(Row{Value(true)}[0].SortPrefixIsExact());
  EXPECT_FALSE(Row{Value("a")}[0].SortPrefixIsExact());
  EXPECT_FALSE(Row{Value(1.5)}[0].SortPrefixIsExact());
}

TEST(RowTest, DatumsReadInPlace) {
  Row row{Value(int64_t{300}), Value("a string longer than fifteen"),
          Value::Null(),       Value(true),
          Value(-0.0),         Value(TimestampMicros{-5})};
  std::vector<Datum> datums(row.begin(), row.end());
  ASSERT_EQ(datums.size(), 6u);
  EXPECT_EQ(datums[0].as_int64(), 300);
  EXPECT_EQ(datums[1].as_string(), "a string longer than fifteen");
  // The view points into the row's own bytes.
  EXPECT_GE(datums[1].as_string().data(), row.bytes().data());
  EXPECT_LT(datums[1].as_string().data(),
            row.bytes().data() + row.bytes().size());
  EXPECT_TRUE(datums[2].is_null());
  EXPECT_TRUE(datums[3].as_bool());
  EXPECT_FALSE(std::signbit(datums[4].as_double()));  // canonical 0.0
  EXPECT_EQ(datums[5].as_timestamp().micros, -5);
  Row copy;
  for (Datum d : row) copy.push_back(d);
  EXPECT_EQ(copy, row);
  Row joined{Value(int64_t{1})};
  joined.Extend(row);
  EXPECT_EQ(joined.size(), 7u);
  EXPECT_EQ(joined[2].as_string(), "a string longer than fifteen");
}

TEST(RowTest, EncodingIsCompact) {
  // Integers take the bytes they need; short strings one header byte.
  EXPECT_EQ(Row{Value(int64_t{0})}.bytes().size(), 1u);
  EXPECT_EQ(Row{Value(int64_t{-1})}.bytes().size(), 2u);
  EXPECT_EQ(Row{Value(int64_t{1000})}.bytes().size(), 3u);
  EXPECT_EQ(Row{Value(std::numeric_limits<int64_t>::min())}.bytes().size(), 9u);
  EXPECT_EQ(Row{Value("SFO")}.bytes().size(), 4u);
  EXPECT_EQ(Row{Value(std::string(200, 'x'))}.bytes().size(), 203u);
  // A flights row (timestamp, delay, distance, origin, destination) stays
  // inline: no heap allocation.
  Row flight{Value(TimestampMicros{1167609600000000}), Value(int64_t{-3}),
             Value(int64_t{1235}), Value("ORD"), Value("LAX")};
  EXPECT_LE(flight.bytes().size(), Row::kInlineBytes);
  EXPECT_EQ(flight.HeapBytes(), 0u);
  EXPECT_LE(sizeof(Row), 40u);
}

TEST(RowTest, ViewsReferToBytesAndCopiesOwnThem) {
  Row wide{Value(std::string(100, 'w')), Value(int64_t{42})};
  Row narrow{Value("ORD"), Value(int64_t{7})};
  for (const Row* original : {&wide, &narrow}) {
    std::string bytes(original->bytes());
    Row view =
        Row::View(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    EXPECT_TRUE(view.is_view());
    EXPECT_EQ(view.bytes().data(), bytes.data());  // no copy
    EXPECT_EQ(view, *original);
    EXPECT_EQ(view.HeapBytes(), 0u);
    Row copy = view;  // owns its bytes
    Row moved = std::move(view);
    EXPECT_FALSE(copy.is_view());
    EXPECT_FALSE(moved.is_view());
    bytes.assign(bytes.size(), '\0');  // the viewed bytes change...
    EXPECT_EQ(copy, *original);        // ...the copies do not
    EXPECT_EQ(moved, *original);
    // Appending to a view first takes its bytes.
    Row grown =
        Row::View(reinterpret_cast<const uint8_t*>(original->bytes().data()),
                  original->bytes().size());
    grown.AppendInt64(5);
    EXPECT_FALSE(grown.is_view());
    EXPECT_EQ(grown.size(), original->size() + 1);
    EXPECT_EQ(grown[grown.size() - 1].as_int64(), 5);
    EXPECT_EQ(*original, Row(original->ToValues()));  // untouched
  }
}

TEST(RowTest, ABatchColumnKeepsRowsInOneArena) {
  std::mt19937_64 rng(5);
  std::vector<Row> rows;
  for (int i = 0; i < 500; ++i) rows.emplace_back(RandomValues(rng));
  rows.push_back(Row{Value(std::string(300, 'x'))});  // beyond inline
  rows.push_back(Row{});                              // empty row
  std::sort(rows.begin(), rows.end());
  Column<Row> column;
  size_t bytes = 0;
  for (const Row& r : rows) {
    column.push_back(r);
    bytes += r.bytes().size();
  }
  ASSERT_EQ(column.size(), rows.size());
  EXPECT_EQ(column.ToVector(), rows);
  for (size_t i = 0; i < rows.size(); ++i) {
    Row view = column[i];
    EXPECT_TRUE(view.is_view());
    EXPECT_EQ(view, rows[i]);
    Row slot;
    EXPECT_EQ(*column.Bind(i, &slot), rows[i]);
  }
  column.Fit();
  // The arena plus one offset per row: no per-row object.
  EXPECT_LE(column.Bytes(), bytes + 4 * rows.size() + bytes / 16 + 64);
  EXPECT_LT(column.Bytes(), rows.size() * sizeof(Row));
}

TEST(RowTest, BatchesOfRowsMergeAndReadThroughCursors) {
  // Two batches of (Row key, Row value) updates merged by a Merger and read
  // by a cursor over both agree with a sorted, summed list of the updates.
  std::mt19937_64 rng(8);
  using B = BatchBuilder<Row, Row, uint64_t, int64_t>;
  std::vector<std::tuple<Row, Row, uint64_t, int64_t>> all;
  auto build = [&](uint64_t time) {
    std::vector<std::tuple<Row, Row, uint64_t, int64_t>> ups;
    for (int i = 0; i < 300; ++i) {
      Row key{Value(static_cast<int64_t>(rng() % 40)),
              Value(std::string(rng() % 50, 'k'))};
      Row val{Value(static_cast<int64_t>(rng() % 5))};
      ups.emplace_back(key, val, time, 1);
    }
    std::sort(ups.begin(), ups.end());
    B builder;
    for (size_t i = 0; i < ups.size(); ++i) {
      auto& [k, v, t, r] = ups[i];
      if (i + 1 < ups.size() && std::get<0>(ups[i + 1]) == k &&
          std::get<1>(ups[i + 1]) == v) {
        std::get<3>(ups[i + 1]) += r;
        continue;
      }
      builder.Push(k, v, t, r);
      all.emplace_back(k, v, t, r);
    }
    return builder.Build({Antichain<uint64_t>(time),
                          Antichain<uint64_t>(time + 1),
                          Antichain<uint64_t>(uint64_t{0})});
  };
  auto first = build(0);
  auto second = build(1);
  std::sort(all.begin(), all.end());
  auto read = [](TraceCursor<Row, Row, uint64_t, int64_t>& c) {
    std::vector<std::tuple<Row, Row, uint64_t, int64_t>> out;
    for (; c.KeyValid(); c.StepKey()) {
      c.MapKeyUpdates([&](const Row& v, uint64_t t, int64_t r) {
        out.emplace_back(c.Key(), v, t, r);
      });
    }
    std::sort(out.begin(), out.end());
    return out;
  };
  TraceCursor<Row, Row, uint64_t, int64_t> both;
  both.Add(first);
  both.Add(second);
  EXPECT_EQ(read(both), all);
  Merger<Row, Row, uint64_t, int64_t> merger(first, second,
                                             Antichain<uint64_t>(uint64_t{0}));
  int64_t fuel = 1 << 20;
  ASSERT_TRUE(merger.Work(&fuel));
  TraceCursor<Row, Row, uint64_t, int64_t> merged;
  merged.Add(merger.Finish());
  EXPECT_EQ(read(merged), all);
}

TEST(RowTest, ABatcherOfRowsSealsWhatAMapSums) {
  // Many updates of (Row key, Row value) -- narrow and wide rows, repeats
  // and cancellations across blocks, times beyond the seal kept -- sealed
  // twice; each batch holds exactly the summed updates of its times.
  std::mt19937_64 rng(21);
  Batcher<Row, Row, uint64_t, int64_t> batcher;
  std::map<std::tuple<Row, Row, uint64_t>, int64_t> sum;
  for (int i = 0; i < 60000; ++i) {
    Row key{Value(static_cast<int64_t>(rng() % 500)),
            Value(std::string(rng() % 3 == 0 ? 40 : 2, 'a' + rng() % 3))};
    Row val{Value(static_cast<int64_t>(rng() % 3))};
    const uint64_t time = rng() % 4;
    const int64_t diff = rng() % 2 == 0 ? 1 : -1;
    sum[{key, val, time}] += diff;
    batcher.Push(key, val, time, diff);
  }
  auto read = [](const auto& batch) {
    std::map<std::tuple<Row, Row, uint64_t>, int64_t> out;
    TraceCursor<Row, Row, uint64_t, int64_t> c;
    c.Add(batch);
    for (; c.KeyValid(); c.StepKey()) {
      c.MapKeyUpdates([&](const Row& v, uint64_t t, int64_t r) {
        EXPECT_TRUE(out.emplace(std::make_tuple(c.Key(), v, t), r).second);
      });
    }
    return out;
  };
  auto expect = [&](uint64_t lo, uint64_t hi) {
    std::map<std::tuple<Row, Row, uint64_t>, int64_t> out;
    for (const auto& [k, r] : sum) {
      if (std::get<2>(k) >= lo && std::get<2>(k) < hi && r != 0) out[k] = r;
    }
    return out;
  };
  Antichain<uint64_t> lower;
  EXPECT_EQ(read(batcher.Seal(Antichain<uint64_t>(uint64_t{2}), &lower)),
            expect(0, 2));
  EXPECT_EQ(batcher.pending(), expect(2, 4).size());
  EXPECT_EQ(read(batcher.Seal(Antichain<uint64_t>(uint64_t{4}), &lower)),
            expect(2, 4));
  EXPECT_TRUE(batcher.empty());
}

TEST(RowTest, FromBytesRoundTripsAndRefusesBadEncodings) {
  std::mt19937_64 rng(11);
  for (int i = 0; i < 300; ++i) {
    Row row(RandomValues(rng));
    absl::StatusOr<Row> back = Row::FromBytes(row.bytes(), "test");
    ASSERT_TRUE(back.ok()) << back.status();
    ASSERT_EQ(*back, row);
    // Every strict prefix that cuts a value is refused.
    for (size_t cut = 0; cut < row.bytes().size(); ++cut) {
      absl::StatusOr<Row> part =
          Row::FromBytes(row.bytes().substr(0, cut), "cut");
      if (part.ok()) {
        // A cut at a value boundary is a shorter valid row.
        ASSERT_LT(part->size(), row.size());
        ASSERT_EQ(part->bytes(), row.bytes().substr(0, cut));
      } else {
        ASSERT_THAT(part.status(), StatusIs(absl::StatusCode::kDataLoss));
      }
    }
  }
  struct Bad {
    std::string bytes;
    const char* why;
  };
  const Bad bad[] = {
      {std::string("\x07", 1), "unknown tag"},
      {std::string("\x12", 1), "unknown tag"},
      {std::string("\x21\x00", 2), "shortest form"},      // 0 in one byte
      {std::string("\x22\x05\x00", 3), "shortest form"},  // 5 in two bytes
      {std::string("\x29", 1), "wider than 8"},
      {std::string("\x23\x01", 2), "truncated integer"},
      {std::string("\x37", 1), "unknown tag"},
      {std::string("\x38\x00\x00", 3), "truncated double"},
      {std::string("\x38\x00\x00\x00\x00\x00\x00\x00\x80", 9), "canonical"},
      {std::string("\x43"
                   "ab",
                   3),
       "truncated string"},
      {std::string("\x4F\x03"
                   "abc",
                   5),
       "shortest form"},
      {std::string("\x4F\x90\x00", 3), "shortest form"},
      {std::string("\x4F\x90", 2), "truncated string length"},
      {std::string("\x60", 1), "unknown value type"},
  };
  for (const Bad& b : bad) {
    absl::StatusOr<Row> row = Row::FromBytes(b.bytes, "catalog/key 42");
    ASSERT_THAT(row.status(), StatusIs(absl::StatusCode::kDataLoss)) << b.why;
    EXPECT_NE(row.status().message().find("catalog/key 42"),
              absl::string_view::npos);
    EXPECT_NE(row.status().message().find(b.why), absl::string_view::npos)
        << row.status().message();
  }
}

// Worker ownership depends on these values: a change would route keys
// differently in processes built before and after it. (XXH3 of the bytes;
// the integer finalizer of the engine's integer keys.)
TEST(StableHashTest, ValuesDoNotChangeBetweenRuns) {
  EXPECT_EQ(StableHashBytes("", 0), 0x2d06800538d394c2ULL);
  EXPECT_EQ(StableHash(std::string("diffmesh")),
            StableHashBytes("diffmesh", 8));
  EXPECT_EQ(StableHash(uint64_t{1}), 0xb456bcfc34c2cb2cULL);
  EXPECT_EQ(Row{Value("diffmesh")}.StableHash(), StableHashBytes("\x48"
                                                                 "diffmesh",
                                                                 9));
  // Composites hash their parts in order.
  EXPECT_NE(StableHash(std::pair<int, int>(1, 2)),
            StableHash(std::pair<int, int>(2, 1)));
  EXPECT_EQ(StableHash(-0.0), StableHash(0.0));
  EXPECT_NE(StableHash(std::vector<int>{1}),
            StableHash(std::vector<int>{1, 1}));
}

}  // namespace
}  // namespace diffmesh
