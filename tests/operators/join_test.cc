// Oracle tests for join, join_map, semijoin and antijoin, with totally and
// partially ordered times, plus sharing of one arrangement by two joins.
#include "operators/join.h"

#include <cstdint>
#include <map>
#include <utility>

#include "operators/antijoin.h"
#include "operators/distinct.h"
#include "operators/filter.h"
#include "operators/inspect.h"
#include "operators/semijoin.h"
#include "tests/operators/oracle.h"

namespace diffmesh::testing {
namespace {

template <class T>
class JoinOracle : public ::testing::Test {};
using TimeKinds = ::testing::Types<uint64_t, PTime>;
TYPED_TEST_SUITE(JoinOracle, TimeKinds);

using Joined = std::pair<uint32_t, std::pair<uint32_t, uint32_t>>;

TYPED_TEST(JoinOracle, Join) {
  CheckAgainstOracle<TypeParam, Rec, Rec, Joined>(
      "join", [](auto a, auto b) { return Join(a, b); },
      [](const Multiset<Rec>& a, const Multiset<Rec>& b) {
        Multiset<Joined> out;
        for (const auto& [x, m] : a) {
          for (const auto& [y, n] : b) {
            if (x.first == y.first)
              out[{x.first, {x.second, y.second}}] += m * n;
          }
        }
        return out;
      },
      GenRec, GenRec, {.allow_negative = true});
}

TYPED_TEST(JoinOracle, JoinMap) {
  CheckAgainstOracle<TypeParam, Rec, Rec, uint32_t>(
      "join_map",
      [](auto a, auto b) {
        return JoinMap(a, b, [](uint32_t k, uint32_t v1, uint32_t v2) {
          return k * 100 + v1 * 10 + v2;
        });
      },
      [](const Multiset<Rec>& a, const Multiset<Rec>& b) {
        Multiset<uint32_t> out;
        for (const auto& [x, m] : a) {
          for (const auto& [y, n] : b) {
            if (x.first == y.first)
              out[x.first * 100 + x.second * 10 + y.second] += m * n;
          }
        }
        return out;
      },
      GenRec, GenRec);
}

TYPED_TEST(JoinOracle, Semijoin) {
  CheckAgainstOracle<TypeParam, Rec, uint32_t, Rec>(
      "semijoin", [](auto a, auto b) { return Semijoin(a, b); },
      [](const Multiset<Rec>& a, const Multiset<uint32_t>& b) {
        Multiset<Rec> out;
        for (const auto& [x, m] : a) {
          auto it = b.find(x.first);
          if (it != b.end()) out[x] += m * it->second;
        }
        return out;
      },
      GenRec, GenKey, {.allow_negative = true});
}

TYPED_TEST(JoinOracle, Antijoin) {
  CheckAgainstOracle<TypeParam, Rec, uint32_t, Rec>(
      "antijoin", [](auto a, auto b) { return Antijoin(a, Distinct(b)); },
      [](const Multiset<Rec>& a, const Multiset<uint32_t>& b) {
        Multiset<Rec> out;
        for (const auto& [x, m] : a) {
          auto it = b.find(x.first);
          if (it == b.end() || it->second <= 0) out[x] += m;
        }
        return out;
      },
      GenRec, GenKey);
}

// Law: join with an empty side is empty at every time.
TYPED_TEST(JoinOracle, EmptySideIsEmpty) {
  CheckAgainstOracle<TypeParam, Rec, Rec, Joined>(
      "join_empty",
      [](auto a, auto b) {
        return Join(a, Filter(b, [](const Rec&) { return false; }));
      },
      [](const Multiset<Rec>&, const Multiset<Rec>&) {
        return Multiset<Joined>{};
      },
      GenRec, GenRec);
}

// Two joins over one ArrangeByKey hold one trace: two readers, one copy.
TEST(JoinSharing, TwoJoinsShareOneTrace) {
  Worker worker;
  Graph& graph = worker.NewDataflow("sharing");
  auto [in_a, a] = NewInput<Rec>(graph);
  auto [in_b, b] = NewInput<Rec>(graph);
  auto [in_c, c] = NewInput<Rec>(graph);
  auto shared = ArrangeByKey(a);
  auto j1 = JoinCore(shared, ArrangeByKey(b),
                     [](uint32_t k, uint32_t, uint32_t) { return k; });
  auto j2 = JoinCore(shared, ArrangeByKey(c),
                     [](uint32_t k, uint32_t, uint32_t) { return k; });
  EXPECT_EQ(shared.trace->NumReaders(), 2u);
  auto p1 = ProbeStream(j1.stream);
  auto p2 = ProbeStream(j2.stream);
  for (uint32_t i = 0; i < 1000; ++i) in_a.Insert({i, i});
  in_a.AdvanceTo(1);
  in_b.AdvanceTo(1);
  in_c.AdvanceTo(1);
  ASSERT_TRUE(
      worker.StepWhile([&] { return p1.LessThan(1) || p2.LessThan(1); }));
  // One copy of the 1000 updates, whatever the number of readers.
  EXPECT_EQ(shared.trace->StoredUpdates(), 1000u);
  // Closing the other sides lets both joins release their holds.
  in_b.Close();
  in_c.Close();
  in_a.Close();
  ASSERT_TRUE(worker.StepWhile([&] { return !p1.Done() || !p2.Done(); }));
  while (worker.Step()) {
  }
  EXPECT_EQ(shared.trace->NumReaders(), 0u);
}

// A join whose output far exceeds one activation's fuel works in slices over
// several steps, holding its capability meanwhile, and still emits every
// pair exactly once, including when both sides change at the same time.
TEST(JoinFuel, LargeOutputIsProducedInSlicesExactlyOnce) {
  Worker worker;
  Graph& graph = worker.NewDataflow("fuel");
  auto [in_a, a] = NewInput<Rec>(graph);
  auto [in_b, b] = NewInput<Rec>(graph);
  std::map<uint64_t, int64_t> per_time;
  std::map<std::pair<uint32_t, uint32_t>, int64_t> pairs;
  auto joined = Inspect(
      JoinCore(ArrangeByKey(a), ArrangeByKey(b),
               [](uint32_t, uint32_t va, uint32_t vb) {
                 return std::pair<uint32_t, uint32_t>(va, vb);
               }),
      [&](const std::pair<uint32_t, uint32_t>& p, uint64_t t, int64_t r) {
        per_time[t] += r;
        pairs[p] += r;
      });
  auto probe = ProbeStream(joined.stream);
  // 4 keys x 200 x 200 values = 160,000 pairs at time 0.
  for (uint32_t k = 0; k < 4; ++k) {
    for (uint32_t v = 0; v < 200; ++v) {
      in_a.Insert({k, k * 1000 + v});
      in_b.Insert({k, k * 1000 + v});
    }
  }
  in_a.AdvanceTo(1);
  in_b.AdvanceTo(1);
  int steps = 0;
  while (probe.LessThan(1)) {
    ASSERT_TRUE(worker.Step());
    ++steps;
  }
  EXPECT_GT(steps, 2);  // more than one activation did join work
  EXPECT_EQ(per_time[0], 160000);
  EXPECT_EQ(pairs.size(), 160000u);
  for (const auto& [p, r] : pairs) ASSERT_EQ(r, 1);
  // Time 1: both sides of key 0 lose one value and gain one.
  in_a.Remove({0, 0});
  in_b.Remove({0, 1});
  in_a.Insert({0, 500});
  in_b.Insert({0, 501});
  in_a.AdvanceTo(2);
  in_b.AdvanceTo(2);
  ASSERT_TRUE(worker.StepWhile([&] { return probe.LessThan(2); }));
  // Key 0 goes from 200 x 200 to 200 x 200 pairs with different members.
  EXPECT_EQ(per_time[1], 0);
  EXPECT_EQ((pairs[{0, 1}]), 0);
  EXPECT_EQ((pairs[{1, 1}]), 0);
  EXPECT_EQ((pairs[{500, 501}]), 1);
  EXPECT_EQ((pairs[{500, 0}]), 1);
  int64_t total = 0;
  for (const auto& [p, r] : pairs) total += r;
  EXPECT_EQ(total, 160000);
}

// Keys of 3,000 records each, several to a chunk of output and a chunk
// ending inside none of them: every pair still comes out exactly once, at
// its time, whether the keys arrive in one batch or over two times.
TEST(JoinFuel, KeysOfManyRecordsComeOutOnceAcrossChunks) {
  Worker worker;
  Graph& graph = worker.NewDataflow("chunks");
  auto [in_a, a] = NewInput<Rec>(graph);
  auto [in_b, b] = NewInput<Rec>(graph);
  std::map<std::pair<uint32_t, uint32_t>, std::map<uint64_t, int64_t>> seen;
  auto joined = Inspect(JoinCore(ArrangeByKey(a), ArrangeByKey(b),
                                 [](uint32_t, uint32_t va, uint32_t vb) {
                                   return std::pair<uint32_t, uint32_t>(va, vb);
                                 }),
                        [&](const std::pair<uint32_t, uint32_t>& p, uint64_t t,
                            int64_t r) { seen[p][t] += r; });
  auto probe = ProbeStream(joined.stream);
  // Keys 0-9 at time 0, keys 10-13 at time 1: 60 x 50 pairs per key.
  for (uint32_t k = 0; k < 14; ++k) {
    if (k == 10) {
      in_a.AdvanceTo(1);
      in_b.AdvanceTo(1);
    }
    for (uint32_t v = 0; v < 60; ++v) in_a.Insert({k, k * 1000 + v});
    for (uint32_t v = 0; v < 50; ++v) in_b.Insert({k, k * 1000 + 100 + v});
  }
  in_a.AdvanceTo(2);
  in_b.AdvanceTo(2);
  ASSERT_TRUE(worker.StepWhile([&] { return probe.LessThan(2); }));
  ASSERT_EQ(seen.size(), 14u * 3000u);
  for (const auto& [p, at] : seen) {
    const uint32_t key = p.first / 1000;
    ASSERT_EQ(p.second / 1000, key);
    ASSERT_EQ(at.size(), 1u) << p.first << "," << p.second;
    EXPECT_EQ(at.begin()->first, key < 10 ? 0u : 1u);
    EXPECT_EQ(at.begin()->second, 1);
  }
}

}  // namespace
}  // namespace diffmesh::testing
