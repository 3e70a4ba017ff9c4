// Wire encoding (engine/wire.h): every crossable kind round-trips, a cut
// or malformed input decodes to false instead of reading past its end, and
// a type that cannot cross is refused at compile time.
#include "engine/wire.h"

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "engine/antichain.h"
#include "engine/lattice.h"
#include "engine/port.h"
#include "engine/progress_exchange.h"
#include "engine/update.h"
#include "gtest/gtest.h"

namespace diffmesh {
namespace {

template <class T>
std::string Encoded(const T& value) {
  std::string bytes;
  WireWriter writer(&bytes);
  WireEncode(writer, value);
  return bytes;
}

template <class T>
T RoundTrip(const T& value) {
  const std::string bytes = Encoded(value);
  WireReader reader(bytes);
  T back{};
  EXPECT_TRUE(WireDecode(reader, back));
  EXPECT_TRUE(reader.done()) << reader.remaining() << " bytes left";
  // Every shorter prefix is refused, never read past.
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    WireReader short_reader(absl::string_view(bytes.data(), cut));
    T partial{};
    EXPECT_FALSE(WireDecode(short_reader, partial) && short_reader.done())
        << "a prefix of " << cut << " of " << bytes.size() << " bytes decoded";
  }
  return back;
}

enum class Color : uint8_t { kRed = 1, kBlue = 7 };

struct Point {  // trivially copyable: its bytes
  int32_t x;
  double y;
  friend bool operator==(const Point&, const Point&) = default;
};

struct Named {  // fields named once for both directions
  std::string name;
  std::vector<int64_t> counts;
  std::optional<Point> where;
  friend bool operator==(const Named&, const Named&) = default;
  template <class Self>
  static auto WireFields(Self& self) {
    return std::tie(self.name, self.counts, self.where);
  }
};

struct Custom {  // its own pair; refuses odd numbers
  int64_t even = 0;
  friend bool operator==(const Custom&, const Custom&) = default;
  void WireEncode(WireWriter& w) const { diffmesh::WireEncode(w, even / 2); }
  bool WireDecode(WireReader& r) {
    int64_t half;
    if (!diffmesh::WireDecode(r, half)) return false;
    even = half * 2;
    return true;
  }
};

struct HoldsUniquePtr {
  std::unique_ptr<int> p;
};
struct NamesNoFields {
  std::string label;
};

// What cannot cross does not compile: these are the compile-time checks.
static_assert(Crossable<int64_t> && Crossable<double> && Crossable<bool>);
static_assert(Crossable<Color> && Crossable<Point> && Crossable<Named>);
static_assert(Crossable<std::pair<std::string, std::vector<Custom>>>);
static_assert(!Crossable<int*>);
static_assert(!Crossable<const char*>);
static_assert(!Crossable<std::unique_ptr<int>>);
static_assert(!Crossable<HoldsUniquePtr>);
static_assert(!Crossable<std::vector<std::unique_ptr<int>>>);
static_assert(!Crossable<std::pair<int, std::unique_ptr<int>>>);
static_assert(!Crossable<std::tuple<int, std::unique_ptr<int>>>);
static_assert(!Crossable<std::optional<std::unique_ptr<int>>>);
// A struct that is not trivially copyable and names no fields is refused.
static_assert(!Crossable<NamesNoFields>);

TEST(WireTest, ScalarsRoundTrip) {
  EXPECT_EQ(RoundTrip<int64_t>(-5), -5);
  EXPECT_EQ(RoundTrip<uint64_t>(~uint64_t{0}), ~uint64_t{0});
  EXPECT_EQ(RoundTrip<uint32_t>(7), 7u);
  EXPECT_EQ(RoundTrip(2.5), 2.5);
  EXPECT_EQ(RoundTrip(true), true);
  EXPECT_EQ(RoundTrip(false), false);
  EXPECT_EQ(RoundTrip(Color::kBlue), Color::kBlue);
  EXPECT_EQ(RoundTrip(Point{3, -1.5}), (Point{3, -1.5}));
}

TEST(WireTest, ContainersRoundTrip) {
  EXPECT_EQ(RoundTrip(std::string()), "");
  const std::string long_text(1000, 'q');
  EXPECT_EQ(RoundTrip(long_text), long_text);
  EXPECT_EQ(RoundTrip(std::pair<std::string, int64_t>("ada", 7)),
            (std::pair<std::string, int64_t>("ada", 7)));
  EXPECT_EQ(RoundTrip(std::pair<uint32_t, uint32_t>(1, 2)),
            (std::pair<uint32_t, uint32_t>(1, 2)));
  auto tuple = std::make_tuple(std::string("x"), int64_t{3}, true);
  EXPECT_EQ(RoundTrip(tuple), tuple);
  EXPECT_EQ(RoundTrip(std::optional<std::string>()), std::nullopt);
  EXPECT_EQ(RoundTrip(std::optional<std::string>("y")), "y");
  std::vector<uint64_t> numbers = {1, 2, 3, 1ull << 60};
  EXPECT_EQ(RoundTrip(numbers), numbers);
  std::vector<std::string> words = {"a", "", "ccc"};
  EXPECT_EQ(RoundTrip(words), words);
  std::array<std::string, 2> pair_of = {"l", "r"};
  EXPECT_EQ(RoundTrip(pair_of), pair_of);
  std::array<int32_t, 3> ints = {4, 5, 6};
  EXPECT_EQ(RoundTrip(ints), ints);
  absl::InlinedVector<Point, 2> points = {{1, 1}, {2, 2}, {3, 3}};
  EXPECT_EQ(RoundTrip(points), points);
  std::vector<std::vector<int32_t>> nested = {{}, {1}, {2, 3}};
  EXPECT_EQ(RoundTrip(nested), nested);
}

TEST(WireTest, StatusesRoundTrip) {
  EXPECT_EQ(RoundTrip(absl::OkStatus()), absl::OkStatus());
  const absl::Status error = absl::DataLossError("store key p/x: bad record");
  EXPECT_EQ(RoundTrip(error), error);
  const absl::Status last = absl::UnauthenticatedError("who");
  EXPECT_EQ(RoundTrip(last), last);
  // A code past absl::StatusCode's last is refused.
  std::string bytes = Encoded(last);
  bytes[0] = 17;
  WireReader reader(bytes);
  absl::Status back;
  EXPECT_FALSE(WireDecode(reader, back));
}

TEST(WireTest, UserTypesRoundTrip) {
  Named named{"n", {1, -2}, Point{1, 2}};
  EXPECT_EQ(RoundTrip(named), named);
  EXPECT_EQ(RoundTrip(Named{}), Named{});
  EXPECT_EQ(RoundTrip(Custom{42}), Custom{42});
  std::vector<Custom> customs = {{2}, {4}};
  EXPECT_EQ(RoundTrip(customs), customs);
}

TEST(WireTest, EngineTypesRoundTrip) {
  using PTime = Product<uint64_t, uint64_t>;
  Antichain<PTime> frontier({PTime{1, 5}, PTime{2, 3}});
  EXPECT_EQ(RoundTrip(frontier), frontier);
  EXPECT_EQ(RoundTrip(Antichain<uint64_t>()), Antichain<uint64_t>());
  Update<std::string, uint64_t, int64_t> update{"k", 3, -1};
  EXPECT_EQ(RoundTrip(update), update);
  Message<uint64_t, std::vector<Update<std::string, uint64_t, int64_t>>>
      message{Antichain<uint64_t>(4), {{"a", 4, 1}, {"b", 5, 2}}};
  auto back = RoundTrip(message);
  EXPECT_EQ(back.time, message.time);
  EXPECT_EQ(back.payload, message.payload);
  Message<PTime,
          std::vector<Update<std::pair<uint32_t, uint32_t>, PTime, int64_t>>>
      pod_message{Antichain<PTime>(PTime{1, 1}), {{{1, 2}, {1, 2}, 1}}};
  EXPECT_EQ(RoundTrip(pod_message).payload, pod_message.payload);
}

TEST(WireTest, ProgressBatchesRoundTripWithTheirUsedCoordinates) {
  ProgressBatch batch{3, {}};
  batch.changes.push_back(
      {true, 4, TimeCodec<uint64_t>::Encode(9), int64_t{-2}});
  batch.changes.push_back(
      {false, 0, TimeCodec<Product<uint64_t, uint64_t>>::Encode({1, 2}),
       int64_t{1}});
  ProgressBatch back = RoundTrip(batch);
  EXPECT_EQ(back.from, 3);
  EXPECT_FALSE(back.overflow);
  ASSERT_EQ(back.changes.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(back.changes[i].is_source, batch.changes[i].is_source);
    EXPECT_EQ(back.changes[i].index, batch.changes[i].index);
    EXPECT_EQ(back.changes[i].time, batch.changes[i].time);
    EXPECT_EQ(back.changes[i].delta, batch.changes[i].delta);
  }
  // Only the coordinates a time uses travel.
  EXPECT_LT(Encoded(batch).size(), 2 * sizeof(ProgressChange));
  // A batch that only says its sender overflowed a diff.
  ProgressBatch raised = RoundTrip(ProgressBatch{1, true, {}});
  EXPECT_EQ(raised.from, 1);
  EXPECT_TRUE(raised.overflow);
  EXPECT_TRUE(raised.changes.empty());
}

TEST(WireTest, MalformedInputIsRefused) {
  {  // a bool other than 0 or 1
    std::string bytes(1, '\x02');
    WireReader reader(bytes);
    bool b;
    EXPECT_FALSE(WireDecode(reader, b));
    EXPECT_TRUE(reader.failed());
  }
  {  // a string longer than what follows
    std::string bytes = Encoded(std::string("abc"));
    bytes[0] = 100;
    WireReader reader(bytes);
    std::string s;
    EXPECT_FALSE(WireDecode(reader, s));
  }
  {  // a vector size that no input could hold: refused before reserving
    std::string bytes;
    WireWriter writer(&bytes);
    writer.Size(uint64_t{1} << 62);
    WireReader reader(bytes);
    std::vector<uint64_t> v;
    EXPECT_FALSE(WireDecode(reader, v));
    EXPECT_TRUE(v.empty());
  }
  {  // a varint that never ends
    std::string bytes(12, '\xff');
    WireReader reader(bytes);
    std::vector<std::string> v;
    EXPECT_FALSE(WireDecode(reader, v));
  }
  {  // an optional flag other than 0 or 1
    std::string bytes = Encoded(std::optional<int32_t>(5));
    bytes[0] = 9;
    WireReader reader(bytes);
    std::optional<int32_t> o;
    EXPECT_FALSE(WireDecode(reader, o));
  }
  {  // an antichain whose elements are comparable
    std::vector<uint64_t> chain = {1, 2};
    std::string bytes = Encoded(chain);
    WireReader reader(bytes);
    Antichain<uint64_t> a;
    EXPECT_FALSE(WireDecode(reader, a));
  }
  {  // a progress change deeper than any time, and a bad location kind
    ProgressBatch batch{0, {}};
    batch.changes.push_back(
        {true, 1, TimeCodec<uint64_t>::Encode(1), int64_t{1}});
    std::string bytes = Encoded(batch);
    std::string deep = bytes;
    // sender (4 bytes), overflow flag, change count, kind, index (4), depth
    deep[4 + 1 + 1 + 1 + 4] = static_cast<char>(kMaxTimeDepth + 1);
    WireReader deep_reader(deep);
    ProgressBatch back;
    EXPECT_FALSE(WireDecode(deep_reader, back));
    std::string kind = bytes;
    kind[4 + 1 + 1] = 5;
    WireReader kind_reader(kind);
    EXPECT_FALSE(WireDecode(kind_reader, back));
    std::string flag = bytes;
    flag[4] = 2;
    WireReader flag_reader(flag);
    EXPECT_FALSE(WireDecode(flag_reader, back));
    WireReader good_reader(bytes);  // the bytes as encoded do decode
    EXPECT_TRUE(WireDecode(good_reader, back));
  }
}

}  // namespace
}  // namespace diffmesh
