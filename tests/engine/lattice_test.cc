// Lattice and antichain laws, checked exhaustively on small grids.
#include "engine/lattice.h"

#include <cstdint>
#include <vector>

#include "engine/antichain.h"
#include "engine/summary.h"
#include "engine/timestamp.h"
#include "gtest/gtest.h"

namespace diffmesh {
namespace {

using P = Product<uint64_t, uint64_t>;

std::vector<P> Grid() {
  std::vector<P> g;
  for (uint64_t a = 0; a < 4; ++a) {
    for (uint64_t b = 0; b < 4; ++b) g.push_back({a, b});
  }
  return g;
}

TEST(LatticeTest, ProductLaws) {
  for (const P& a : Grid()) {
    EXPECT_TRUE(LessEqual(a, a));
    for (const P& b : Grid()) {
      P j = Join(a, b), m = Meet(a, b);
      EXPECT_TRUE(LessEqual(a, j) && LessEqual(b, j));
      EXPECT_TRUE(LessEqual(m, a) && LessEqual(m, b));
      EXPECT_EQ(j, Join(b, a));
      EXPECT_EQ(m, Meet(b, a));
      EXPECT_EQ(Join(a, Meet(a, b)), a);  // absorption
      // `<` extends the partial order.
      if (LessEqual(a, b)) {
        EXPECT_FALSE(b < a);
      }
      for (const P& c : Grid()) {
        if (LessEqual(a, c) && LessEqual(b, c)) {
          EXPECT_TRUE(LessEqual(j, c));  // least
        }
        EXPECT_EQ(Join(Join(a, b), c), Join(a, Join(b, c)));
      }
    }
  }
  EXPECT_FALSE(LessEqual(P{1, 0}, P{0, 1}));
  EXPECT_FALSE(LessEqual(P{0, 1}, P{1, 0}));
}

TEST(LatticeTest, TotalOrder) {
  static_assert(TotallyOrdered<uint64_t>);
  static_assert(!TotallyOrdered<P>);
  EXPECT_EQ(Join<uint64_t>(3, 5), 5u);
  EXPECT_EQ(Meet<uint64_t>(3, 5), 3u);
  EXPECT_EQ(Minimum<P>(), (P{0, 0}));
}

TEST(AntichainTest, InsertKeepsMinimalIncomparableElements) {
  Antichain<P> a;
  EXPECT_TRUE(a.Insert({2, 2}));
  EXPECT_FALSE(a.Insert({3, 3}));  // dominated
  EXPECT_TRUE(a.Insert({1, 3}));   // incomparable
  EXPECT_EQ(a.size(), 2u);
  EXPECT_TRUE(a.Insert({1, 1}));  // dominates both
  EXPECT_EQ(a, Antichain<P>({P{1, 1}}));
  EXPECT_TRUE(a.LessEqual({1, 1}));
  EXPECT_FALSE(a.LessThan({1, 1}));
  EXPECT_TRUE(a.LessThan({1, 2}));
  EXPECT_FALSE(a.LessEqual({0, 5}));
}

TEST(AntichainTest, EqualityIsOrderIndependent) {
  Antichain<P> a({P{0, 3}, P{3, 0}});
  Antichain<P> b({P{3, 0}, P{0, 3}});
  EXPECT_EQ(a, b);
}

TEST(AntichainTest, MeetAndJoinOfFrontiers) {
  Antichain<P> a({P{0, 2}, P{2, 0}});
  Antichain<P> b({P{1, 1}});
  EXPECT_EQ(MeetFrontiers(a, b), Antichain<P>({P{0, 2}, P{2, 0}, P{1, 1}}));
  EXPECT_EQ(JoinFrontiers(a, b), Antichain<P>({P{1, 2}, P{2, 1}}));
  // A time beyond the join is beyond both.
  for (const P& t : Grid()) {
    EXPECT_EQ(JoinFrontiers(a, b).LessEqual(t),
              a.LessEqual(t) && b.LessEqual(t));
    EXPECT_EQ(MeetFrontiers(a, b).LessEqual(t),
              a.LessEqual(t) || b.LessEqual(t));
  }
}

// Advancing by a frontier preserves comparisons with every time beyond it.
TEST(AntichainTest, AdvanceByPreservesComparisonsBeyondFrontier) {
  std::vector<Antichain<P>> frontiers = {Antichain<P>({P{1, 1}}),
                                         Antichain<P>({P{0, 2}, P{2, 0}}),
                                         Antichain<P>({P{3, 0}})};
  for (const auto& f : frontiers) {
    for (const P& t : Grid()) {
      P adv = AdvanceBy(t, f);
      EXPECT_TRUE(LessEqual(t, adv));
      for (const P& beyond : Grid()) {
        if (!f.LessEqual(beyond)) continue;
        EXPECT_EQ(LessEqual(t, beyond), LessEqual(adv, beyond));
      }
    }
  }
  EXPECT_EQ(AdvanceBy<uint64_t>(3, Antichain<uint64_t>(5)), 5u);
  EXPECT_EQ(AdvanceBy<uint64_t>(7, Antichain<uint64_t>(5)), 7u);
  EXPECT_EQ(AdvanceBy<uint64_t>(3, Antichain<uint64_t>()), 3u);
}

TEST(MutableAntichainTest, FrontierFollowsPositiveCounts) {
  MutableAntichain<uint64_t> m;
  m.Update(3, +1);
  m.Update(5, +2);
  EXPECT_TRUE(m.Rebuild());
  EXPECT_EQ(m.frontier(), Antichain<uint64_t>(3));
  m.Update(3, -1);
  m.Update(1, +1);
  m.Update(1, -1);  // transient, nets out
  EXPECT_TRUE(m.Rebuild());
  EXPECT_EQ(m.frontier(), Antichain<uint64_t>(5));
  EXPECT_EQ(m.distinct_times(), 1u);
}

TEST(TimestampTest, CodecRoundTripsAndKeepsOrder) {
  using Nested = Product<P, uint64_t>;
  Nested n{{4, 2}, 9};
  Timestamp ts = TimeCodec<Nested>::Encode(n);
  EXPECT_EQ(ts.depth, 3);
  EXPECT_EQ(TimeCodec<Nested>::Decode(ts), n);
  for (const P& a : Grid()) {
    for (const P& b : Grid()) {
      EXPECT_EQ(LessEqual(a, b),
                LessEqual(TimeCodec<P>::Encode(a), TimeCodec<P>::Encode(b)));
    }
  }
}

TEST(PathSummaryTest, ComposesEnterLoopLeave) {
  Timestamp t = TimeCodec<uint64_t>::Encode(7);
  PathSummary enter = PathSummary::Enter(1);
  PathSummary loop = PathSummary::Increment(2);
  PathSummary leave = PathSummary::Leave(2);
  Timestamp inner = enter.Then(loop).Then(loop).Apply(t);
  EXPECT_EQ(TimeCodec<P>::Decode(inner), (P{7, 2}));
  EXPECT_EQ(enter.Then(loop).Then(leave), PathSummary::Identity(1));
  EXPECT_TRUE(LessEqual(PathSummary::Identity(2), loop));
  EXPECT_FALSE(LessEqual(loop, PathSummary::Identity(2)));
  // Composition agrees with applying one after the other.
  PathSummary a = enter.Then(loop);
  EXPECT_EQ(a.Then(leave).Apply(t), leave.Apply(a.Apply(t)));
}

}  // namespace
}  // namespace diffmesh
