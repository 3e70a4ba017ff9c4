// Oracle tests for the record-at-a-time operators and consolidate, with
// totally and partially ordered times.
#include <algorithm>
#include <cstdint>
#include <functional>
#include <random>
#include <tuple>
#include <vector>

#include "operators/combine.h"
#include "operators/concat.h"
#include "operators/consolidate.h"
#include "operators/exchange.h"
#include "operators/filter.h"
#include "operators/flat_map.h"
#include "operators/inspect.h"
#include "operators/map.h"
#include "operators/negate.h"
#include "tests/operators/oracle.h"

namespace diffmesh::testing {
namespace {

template <class T>
class StatelessOracle : public ::testing::Test {};
using TimeKinds = ::testing::Types<uint64_t, PTime>;
TYPED_TEST_SUITE(StatelessOracle, TimeKinds);

TYPED_TEST(StatelessOracle, Map) {
  CheckAgainstOracle<TypeParam, Rec, Rec, uint32_t>(
      "map",
      [](auto a, auto) {
        return Map(a, [](const Rec& r) { return r.first + r.second; });
      },
      [](const Multiset<Rec>& a, const Multiset<Rec>&) {
        Multiset<uint32_t> out;
        for (const auto& [r, m] : a) out[r.first + r.second] += m;
        return out;
      },
      GenRec, GenRec, {.allow_negative = true});
}

TYPED_TEST(StatelessOracle, Combine) {
  CheckAgainstOracle<TypeParam, Rec, Rec, Rec>(
      "combine", [](auto a, auto) { return Combine(a); },
      [](const Multiset<Rec>& a, const Multiset<Rec>&) { return a; }, GenRec,
      GenRec, {.allow_negative = true});
}

TYPED_TEST(StatelessOracle, Filter) {
  CheckAgainstOracle<TypeParam, Rec, Rec, Rec>(
      "filter",
      [](auto a, auto) {
        return Filter(a, [](const Rec& r) { return r.second % 2 == 0; });
      },
      [](const Multiset<Rec>& a, const Multiset<Rec>&) {
        Multiset<Rec> out;
        for (const auto& [r, m] : a) {
          if (r.second % 2 == 0) out[r] += m;
        }
        return out;
      },
      GenRec, GenRec);
}

TYPED_TEST(StatelessOracle, FlatMap) {
  CheckAgainstOracle<TypeParam, Rec, Rec, uint32_t>(
      "flat_map",
      [](auto a, auto) {
        return FlatMap(a, [](const Rec& r) {
          return std::vector<uint32_t>(r.second, r.first);
        });
      },
      [](const Multiset<Rec>& a, const Multiset<Rec>&) {
        Multiset<uint32_t> out;
        for (const auto& [r, m] : a) out[r.first] += m * r.second;
        return out;
      },
      GenRec, GenRec);
}

TYPED_TEST(StatelessOracle, Negate) {
  CheckAgainstOracle<TypeParam, Rec, Rec, Rec>(
      "negate", [](auto a, auto) { return Negate(a); },
      [](const Multiset<Rec>& a, const Multiset<Rec>&) {
        Multiset<Rec> out;
        for (const auto& [r, m] : a) out[r] = -m;
        return out;
      },
      GenRec, GenRec, {.allow_negative = true});
}

TYPED_TEST(StatelessOracle, Concat) {
  CheckAgainstOracle<TypeParam, Rec, Rec, Rec>(
      "concat", [](auto a, auto b) { return Concat(a, b); },
      [](const Multiset<Rec>& a, const Multiset<Rec>& b) {
        Multiset<Rec> out = a;
        for (const auto& [r, m] : b) out[r] += m;
        return out;
      },
      GenRec, GenRec, {.allow_negative = true});
}

TYPED_TEST(StatelessOracle, Consolidate) {
  CheckAgainstOracle<TypeParam, Rec, Rec, Rec>(
      "consolidate",
      [](auto a, auto b) { return Consolidate(Concat(a, Negate(b))); },
      [](const Multiset<Rec>& a, const Multiset<Rec>& b) {
        Multiset<Rec> out = a;
        for (const auto& [r, m] : b) out[r] -= m;
        return out;
      },
      GenRec, GenRec, {.allow_negative = true});
}

// Consolidated output has one update per (record, time) and no zeros.
TEST(ConsolidateTest, OutputIsConsolidated) {
  Worker worker;
  Graph& graph = worker.NewDataflow("consolidate");
  auto [in, coll] = NewInput<uint32_t>(graph);
  std::vector<Update<uint32_t, uint64_t, int64_t>> seen;
  auto out = Inspect(Consolidate(coll), [&](uint32_t d, uint64_t t, int64_t r) {
    seen.push_back({d, t, r});
  });
  auto probe = ProbeStream(out.stream);
  in.Insert(1);
  in.Insert(1);
  in.Insert(2);
  in.Remove(2);
  in.Insert(3);
  in.Remove(1);
  in.AdvanceTo(1);
  ASSERT_TRUE(worker.StepWhile([&] { return probe.LessThan(1); }));
  std::vector<Update<uint32_t, uint64_t, int64_t>> want = {{1, 0, 1},
                                                           {3, 0, 1}};
  EXPECT_EQ(seen, want);
}

TEST(InspectTest, SeesDataTimeAndDiff) {
  Worker worker;
  Graph& graph = worker.NewDataflow("inspect");
  auto [in, coll] = NewInput<uint32_t>(graph);
  std::vector<Update<uint32_t, uint64_t, int64_t>> seen;
  auto out = Inspect(coll, [&](uint32_t d, uint64_t t, int64_t r) {
    seen.push_back({d, t, r});
  });
  auto probe = ProbeStream(out.stream);
  in.Update(7, 3);
  in.AdvanceTo(4);
  in.Remove(7);
  in.AdvanceTo(5);
  ASSERT_TRUE(worker.StepWhile([&] { return probe.LessThan(5); }));
  std::vector<Update<uint32_t, uint64_t, int64_t>> want = {{7, 0, 3},
                                                           {7, 4, -1}};
  EXPECT_EQ(seen, want);
}

// A large input flows through a chain of record-at-a-time operators in
// pieces: an operator takes at most kRunUpdates per activation and the
// ones downstream take that part before it goes on, so no more than about
// that many updates are ever between two operators (not the whole input),
// and every update arrives.
TEST(StatelessTest, LargeInputFlowsThroughInPieces) {
  Worker worker;
  Graph& graph = worker.NewDataflow("pieces");
  auto [in, coll] = NewInput<uint32_t>(graph);
  int64_t mapped = 0, arrived = 0, most_between = 0;
  auto doubled = Map(coll, [&](uint32_t x) {
    ++mapped;
    return 2 * x;
  });
  using Batch = std::vector<Update<uint32_t, uint64_t, int64_t>>;
  auto out = InspectBatch(doubled, [&](const Batch& batch) {
    most_between = std::max(most_between, mapped - arrived);
    arrived += static_cast<int64_t>(batch.size());
  });
  auto probe = ProbeStream(out.stream);
  using Op = internal::UnaryOperator<uint32_t, uint32_t, uint64_t, int64_t,
                                     int64_t, std::function<void()>>;
  const int64_t total = 8 * static_cast<int64_t>(Op::kRunUpdates);
  for (int64_t i = 0; i < total; ++i) in.Insert(static_cast<uint32_t>(i));
  in.AdvanceTo(1);
  ASSERT_TRUE(worker.StepWhile([&] { return probe.LessThan(1); }));
  EXPECT_EQ(arrived, total);
  EXPECT_GT(most_between, 0);
  EXPECT_LE(most_between, 2 * static_cast<int64_t>(Op::kRunUpdates));
}

// Combine sends one update per distinct (record, time) of each message,
// with the diffs summed and zeros dropped.
TEST(StatelessTest, CombineSumsRepeatsWithinAMessage) {
  Worker worker;
  Graph& graph = worker.NewDataflow("combine");
  auto [in, coll] = NewInput<uint32_t>(graph);
  using Batch = std::vector<Update<uint32_t, uint64_t, int64_t>>;
  std::vector<Batch> seen;
  auto out = InspectBatch(Combine(coll),
                          [&](const Batch& batch) { seen.push_back(batch); });
  auto probe = ProbeStream(out.stream);
  for (int i = 0; i < 1000; ++i) in.Insert(static_cast<uint32_t>(i % 3));
  in.Update(7, 2);
  in.Update(7, -2);      // cancels out
  in.UpdateAt(1, 5, 4);  // another time
  in.AdvanceTo(6);
  ASSERT_TRUE(worker.StepWhile([&] { return probe.LessThan(6); }));
  ASSERT_EQ(seen.size(), 1u);
  Batch got = seen[0];
  std::sort(got.begin(), got.end(), [](const auto& a, const auto& b) {
    return std::tie(a.data, a.time) < std::tie(b.data, b.time);
  });
  Batch want = {{0, 0, 334}, {1, 0, 333}, {1, 5, 4}, {2, 0, 333}};
  EXPECT_EQ(got, want);
}

// An exchange splits a message by owner into parts allocated at exactly
// their size, each keeping the message's order.
TEST(ExchangeTest, SplitPartsAreExactAndInOrder) {
  std::mt19937 rng(7);
  for (int peers : {2, 3, 5}) {
    std::vector<uint32_t> payload(16384 + peers);
    std::vector<int> owners(payload.size());
    for (size_t i = 0; i < payload.size(); ++i) {
      payload[i] = static_cast<uint32_t>(i);
      owners[i] = static_cast<int>(rng() % peers);
    }
    std::vector<std::vector<uint32_t>> parts;
    std::vector<size_t> counts;
    internal::SplitByOwner(payload, owners, peers, &parts, &counts);
    ASSERT_EQ(parts.size(), static_cast<size_t>(peers));
    size_t total = 0;
    for (int peer = 0; peer < peers; ++peer) {
      const auto& part = parts[peer];
      EXPECT_EQ(part.capacity(), part.size()) << "peer " << peer;
      EXPECT_TRUE(std::is_sorted(part.begin(), part.end()));
      for (uint32_t i : part) EXPECT_EQ(owners[i], peer);
      total += part.size();
    }
    EXPECT_EQ(total, payload.size());
  }
}

}  // namespace
}  // namespace diffmesh::testing
