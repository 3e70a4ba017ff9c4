// CountedRuns and TimedChanges against a std::map oracle: random changes
// with retractions over many times, every older value left unchanged by
// later ones (what snapshots rely on), seeks and counts.
#include "catalog/counted_runs.h"

#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace diffmesh {
namespace {

using Pair = std::pair<std::string, std::string>;

std::vector<std::pair<Pair, int64_t>> Contents(const CountedRuns<Pair>& runs) {
  std::vector<std::pair<Pair, int64_t>> out;
  runs.ForEach([&](const Pair& k, int64_t n) { out.emplace_back(k, n); });
  return out;
}

std::vector<std::pair<Pair, int64_t>> Contents(
    const std::map<Pair, int64_t>& m) {
  std::vector<std::pair<Pair, int64_t>> out;
  for (const auto& [k, n] : m) {
    if (n != 0) out.emplace_back(k, n);
  }
  return out;
}

TEST(CountedRunsOracle, RandomChangesEveryTimeAndEveryOlderValue) {
  for (uint64_t seed = 0; seed < 20; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    TimedChanges<Pair> open;
    CountedRuns<Pair> now;
    std::map<Pair, int64_t> oracle;
    // Every closed time's value and what it must hold.
    std::vector<std::pair<CountedRuns<Pair>, std::map<Pair, int64_t>>> kept;
    const int keys = 1 + static_cast<int>(rng() % 40);
    for (uint64_t t = 0; t < 60; ++t) {
      // Changes at this time and, now and then, a later one (still open
      // after this Close).
      const int n = static_cast<int>(rng() % (seed % 2 ? 200 : 8));
      std::map<Pair, int64_t> later;
      for (int i = 0; i < n; ++i) {
        Pair key{std::to_string(rng() % keys), std::to_string(rng() % 3)};
        const int64_t diff = rng() % 3 == 0 ? -1 : +1;
        if (rng() % 10 == 0) {
          open.Add(key, t + 1, diff);
          later[key] += diff;
        } else {
          open.Add(key, t, diff);
          oracle[key] += diff;
        }
      }
      std::vector<uint64_t> called;
      open.Close(t, [&](uint64_t at, CountedRuns<Pair>::RunPtr delta) {
        called.push_back(at);
        for (size_t i = 1; i < delta->size(); ++i) {
          ASSERT_LT((*delta)[i - 1].first, (*delta)[i].first);
        }
        for (const auto& [k, d] : *delta) ASSERT_NE(d, 0);
        now = now.With(delta);
      });
      ASSERT_LE(called.size(), 1u);
      if (!called.empty()) ASSERT_EQ(called[0], t);
      ASSERT_EQ(Contents(now), Contents(oracle)) << "time " << t;
      // Geometric runs: a few, whatever was added.
      ASSERT_LE(now.runs(), 12u);
      kept.emplace_back(now, oracle);
      for (const auto& [k, d] : later) oracle[k] += d;
      for (const auto& [value, expected] : kept) {
        ASSERT_EQ(Contents(value), Contents(expected));
        int64_t total = 0;
        for (const auto& [k, n] : expected) total += n;
        ASSERT_EQ(value.total(), total);
      }
    }
  }
}

TEST(CountedRunsOracle, SeeksAndCounts) {
  std::mt19937_64 rng(7);
  CountedRuns<Pair> now;
  std::map<Pair, int64_t> oracle;
  for (int step = 0; step < 50; ++step) {
    auto delta = std::make_shared<CountedRuns<Pair>::Run>();
    std::map<Pair, int64_t> m;
    for (int i = 0; i < 20; ++i) {
      m[{std::to_string(rng() % 30), std::to_string(rng() % 30)}] +=
          rng() % 4 == 0 ? -1 : 1;
    }
    for (const auto& [k, d] : m) {
      if (d != 0) delta->emplace_back(k, d);
      oracle[k] += d;
    }
    now = now.With(delta);
    for (int q = 0; q < 30; ++q) {
      const std::string first = std::to_string(rng() % 30);
      std::vector<std::pair<Pair, int64_t>> got, want;
      const Pair start(first, "");
      now.ForEachFrom(
          &start, [&](const Pair& k) { return k.first == first; },
          [&](const Pair& k, int64_t n) { got.emplace_back(k, n); });
      for (const auto& [k, n] : oracle) {
        if (k.first == first && n != 0) want.emplace_back(k, n);
      }
      ASSERT_EQ(got, want) << "step " << step << ", key " << first;
      const Pair key(first, std::to_string(rng() % 30));
      ASSERT_EQ(now.Count(key), oracle.contains(key) ? oracle[key] : 0);
    }
  }
}

TEST(TimedChanges, SeveralTimesCloseInOrderAndCancellingTimesAreEmpty) {
  TimedChanges<Pair> open;
  open.Add({"a", ""}, 5, +1);
  open.Add({"b", ""}, 3, +1);
  open.Add({"b", ""}, 3, -1);  // time 3 cancels out
  open.Add({"c", ""}, 4, +2);
  open.Add({"d", ""}, 9, +1);  // stays open
  std::vector<std::pair<uint64_t, size_t>> seen;
  open.Close(8, [&](uint64_t t, CountedRuns<Pair>::RunPtr delta) {
    seen.emplace_back(t, delta->size());
  });
  EXPECT_THAT(seen, ::testing::ElementsAre(std::pair<uint64_t, size_t>(3, 0),
                                           std::pair<uint64_t, size_t>(4, 1),
                                           std::pair<uint64_t, size_t>(5, 1)));
  EXPECT_FALSE(open.empty());
  seen.clear();
  open.Close(9, [&](uint64_t t, CountedRuns<Pair>::RunPtr delta) {
    seen.emplace_back(t, delta->size());
  });
  EXPECT_THAT(seen, ::testing::ElementsAre(std::pair<uint64_t, size_t>(9, 1)));
  EXPECT_TRUE(open.empty());
}

}  // namespace
}  // namespace diffmesh
