// Batches, the batcher, merging and cursors.
#include "engine/batch.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <tuple>
#include <vector>

#include "engine/batcher.h"
#include "engine/collection.h"
#include "engine/cursor.h"
#include "engine/update.h"
#include "gtest/gtest.h"

namespace diffmesh {
namespace {

using B = Batch<uint32_t, uint32_t, uint64_t, int64_t>;
using Ptr = BatchPtr<uint32_t, uint32_t, uint64_t, int64_t>;
using Tuple = std::tuple<uint32_t, uint32_t, uint64_t, int64_t>;

std::vector<Tuple> Contents(
    TraceCursor<uint32_t, uint32_t, uint64_t, int64_t> cursor) {
  std::vector<Tuple> out;
  for (; cursor.KeyValid(); cursor.StepKey()) {
    for (; cursor.ValValid(); cursor.StepVal()) {
      cursor.MapTimes([&](uint64_t t, int64_t r) {
        out.emplace_back(cursor.Key(), cursor.Val(), t, r);
      });
    }
  }
  return out;
}

Ptr Build(std::vector<Tuple> updates, uint64_t lower, uint64_t upper) {
  std::sort(updates.begin(), updates.end());
  BatchBuilder<uint32_t, uint32_t, uint64_t, int64_t> builder;
  for (const auto& [k, v, t, r] : updates) builder.Push(k, v, t, r);
  return builder.Build({Antichain<uint64_t>(lower), Antichain<uint64_t>(upper),
                        Antichain<uint64_t>(0)});
}

TEST(ConsolidateTest, SumsEqualPairsAndDropsZeros) {
  std::vector<Update<int, uint64_t, int64_t>> u = {
      {2, 1, 3}, {1, 0, 1}, {1, 0, -1}, {2, 1, -1}, {1, 2, 5}};
  Consolidate(u);
  std::vector<Update<int, uint64_t, int64_t>> want = {{1, 2, 5}, {2, 1, 2}};
  EXPECT_EQ(u, want);
  std::vector<std::pair<int, int64_t>> pairs = {
      {3, 1}, {1, 1}, {3, -1}, {1, 2}};
  ConsolidatePairs(pairs);
  EXPECT_EQ(pairs, (std::vector<std::pair<int, int64_t>>{{1, 3}}));
}

TEST(BatchTest, BuilderLaysOutColumns) {
  Ptr b = Build({{1, 10, 0, 1}, {1, 10, 2, -1}, {1, 11, 1, 1}, {4, 10, 0, 3}},
                0, 3);
  EXPECT_EQ(b->keys.ToVector(), (std::vector<uint32_t>{1, 4}));
  EXPECT_EQ(b->key_offsets, (std::vector<uint32_t>{0, 2, 3}));
  EXPECT_EQ(b->vals.ToVector(), (std::vector<uint32_t>{10, 11, 10}));
  EXPECT_EQ(b->val_offsets, (std::vector<uint32_t>{0, 2, 3, 4}));
  EXPECT_EQ(b->times, (std::vector<uint64_t>{0, 2, 1, 0}));
  EXPECT_EQ(b->size(), 4u);
  EXPECT_EQ(b->description.upper, Antichain<uint64_t>(3));
}

TEST(BatchTest, SingleUpdatesEqualToThePreviousAreStoredOnce) {
  // A value with two updates (so runs have offsets), then two values whose
  // single update equals the one stored before them, then one that differs.
  std::vector<Tuple> want = {
      {1, 10, 0, 2}, {1, 10, 1, 2}, {1, 11, 1, 2}, {2, 5, 1, 2}, {2, 6, 0, 1}};
  Ptr b = Build(want, 0, 3);
  EXPECT_EQ(b->size(), 5u);
  EXPECT_EQ(b->times, (std::vector<uint64_t>{0, 1, 0}));
  EXPECT_EQ(b->diffs, (std::vector<int64_t>{2, 2, 1}));
  EXPECT_EQ(b->val_offsets, (std::vector<uint32_t>{0, 2, 2, 2, 3}));
  EXPECT_EQ(b->Updates(0), (std::pair<size_t, size_t>{0, 2}));
  EXPECT_EQ(b->Updates(1), (std::pair<size_t, size_t>{1, 2}));
  EXPECT_EQ(b->Updates(2), (std::pair<size_t, size_t>{1, 2}));
  EXPECT_EQ(b->Updates(3), (std::pair<size_t, size_t>{2, 3}));
  // Readers see every logical update.
  TraceCursor<uint32_t, uint32_t, uint64_t, int64_t> cursor;
  cursor.Add(b);
  EXPECT_EQ(Contents(cursor), want);
}

// While every key has one value and every value one update, neither has
// offsets: key i is value i is update i. The first key with a second value
// (value with a second update) turns the offsets on from there, and the
// earlier keys (values) read the same.
TEST(BatchTest, OneValuePerKeyAndOneUpdatePerValueNeedNoOffsets) {
  std::vector<Tuple> unit;
  for (uint32_t k = 0; k < 1000; ++k) unit.emplace_back(k, k * 7, 5, 1);
  Ptr b = Build(unit, 0, 10);
  EXPECT_TRUE(b->key_offsets.empty());
  EXPECT_TRUE(b->val_offsets.empty());
  EXPECT_TRUE(b->coded());
  EXPECT_EQ(b->codes.size(), 1000u);  // one byte per update
  EXPECT_EQ(b->ValBegin(7), 7u);
  EXPECT_EQ(b->ValEnd(7), 8u);
  EXPECT_EQ(b->Updates(7), (std::pair<size_t, size_t>{7, 8}));
  // 4 + 4 + 1 bytes per update and a one-entry dictionary.
  EXPECT_LE(b->Bytes(), 1000u * 9 + 1024);
  TraceCursor<uint32_t, uint32_t, uint64_t, int64_t> cursor;
  cursor.Add(b);
  EXPECT_EQ(Contents(cursor), unit);

  std::vector<Tuple> later = unit;
  later.emplace_back(600, 1, 6, 1);      // key 600 gets a second value
  later.emplace_back(800, 5600, 6, -1);  // value (800, 5600) a second update
  std::sort(later.begin(), later.end());
  Ptr mixed = Build(later, 0, 10);
  EXPECT_EQ(mixed->key_offsets.size(), 1001u);
  EXPECT_EQ(mixed->ValBegin(600), 600u);
  EXPECT_EQ(mixed->ValEnd(600), 602u);
  EXPECT_EQ(mixed->ValBegin(601), 602u);
  EXPECT_EQ(mixed->val_offsets.size(), 1002u);
  TraceCursor<uint32_t, uint32_t, uint64_t, int64_t> mixed_cursor;
  mixed_cursor.Add(mixed);
  EXPECT_EQ(Contents(mixed_cursor), later);
  // Merged with the unit batch: every layout
  // reads the same through a merge.
  Merger<uint32_t, uint32_t, uint64_t, int64_t> merger(b, mixed,
                                                       Antichain<uint64_t>(0));
  int64_t fuel = 1 << 20;
  ASSERT_TRUE(merger.Work(&fuel));
  Ptr merged = merger.Finish();
  TraceCursor<uint32_t, uint32_t, uint64_t, int64_t> merged_cursor;
  merged_cursor.Add(merged);
  std::map<std::tuple<uint32_t, uint32_t, uint64_t>, int64_t> sum;
  for (const auto& [k, v, t, r] : unit) sum[{k, v, t}] += r;
  for (const auto& [k, v, t, r] : later) sum[{k, v, t}] += r;
  std::vector<Tuple> expect;
  for (const auto& [kvt, r] : sum) {
    if (r != 0) {
      expect.emplace_back(std::get<0>(kvt), std::get<1>(kvt), std::get<2>(kvt),
                          r);
    }
  }
  EXPECT_EQ(Contents(merged_cursor), expect);
}

TEST(BatchTest, FewDistinctTimeDiffPairsAreStoredAsCodes) {
  // 2,000 updates over 7 times with diffs +1/-2 (14 distinct pairs); 2,000
  // over 1,000 times (1,000 pairs); 70,000 over as many times.
  std::vector<Tuple> few, some, many;
  for (uint32_t i = 0; i < 2000; ++i) {
    few.emplace_back(i / 4, i % 4, i % 7, i % 3 == 0 ? -2 : 1);
    some.emplace_back(i / 4, i % 4, i % 1000, 1);
  }
  for (uint32_t i = 0; i < 70000; ++i) many.emplace_back(i / 4, i % 4, i, 1);
  auto sorted = [](std::vector<Tuple> v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  Ptr one_byte = Build(sorted(few), 0, 100000);
  Ptr two_bytes = Build(sorted(some), 0, 100000);
  Ptr plain = Build(sorted(many), 0, 100000);
  EXPECT_TRUE(one_byte->coded());
  EXPECT_EQ(one_byte->dict.size(), 14u);
  EXPECT_EQ(one_byte->codes.size(), 2000u);
  EXPECT_TRUE(one_byte->times.empty());
  EXPECT_TRUE(two_bytes->coded());
  EXPECT_EQ(two_bytes->dict.size(), 1000u);
  EXPECT_EQ(two_bytes->codes16.size(), 2000u);
  EXPECT_FALSE(plain->coded());
  EXPECT_EQ(plain->times.size(), 70000u);
  // Per update 4 bytes of value and a 1-byte code, no run offsets (one
  // update per value; 500 keys at 4 + 4 bytes, a small dictionary, some
  // capacity slack), against 8 + 8 more for a plain time and diff.
  EXPECT_LE(one_byte->Bytes(), 2000u * 5 + 500 * 8 + 1024);
  EXPECT_GE(plain->Bytes(), 70000u * (4 + 8 + 8));
  std::vector<std::pair<Ptr, std::vector<Tuple>>> cases = {
      {one_byte, sorted(few)},
      {two_bytes, sorted(some)},
      {plain, sorted(many)}};
  for (const auto& [b, want] : cases) {
    TraceCursor<uint32_t, uint32_t, uint64_t, int64_t> cursor;
    cursor.Add(b);
    EXPECT_EQ(Contents(cursor), want);
  }
}

TEST(BatcherTest, SealsOnlyTimesNotBeyondUpper) {
  Batcher<uint32_t, uint32_t, uint64_t, int64_t> batcher;
  batcher.Push(5, 1, 2, 1);
  batcher.Push(3, 1, 0, 1);
  batcher.Push(3, 1, 0, 1);
  batcher.Push(4, 1, 1, 1);
  batcher.Push(4, 1, 1, -1);  // cancels
  Antichain<uint64_t> lower;
  auto first = batcher.Seal(Antichain<uint64_t>(2), &lower);
  EXPECT_EQ(first->keys.ToVector(), (std::vector<uint32_t>{3}));
  EXPECT_EQ(first->diffs, (std::vector<int64_t>{2}));
  EXPECT_EQ(lower, Antichain<uint64_t>(0));
  EXPECT_EQ(first->description.lower, Antichain<uint64_t>(0));
  EXPECT_EQ(batcher.pending(), 1u);
  EXPECT_EQ(batcher.PendingFrontier(), Antichain<uint64_t>(2));
  auto second = batcher.Seal(Antichain<uint64_t>(3), &lower);
  EXPECT_EQ(second->keys.ToVector(), (std::vector<uint32_t>{5}));
  EXPECT_EQ(second->description.lower, Antichain<uint64_t>(2));
  EXPECT_EQ(batcher.pending(), 0u);
}

// Rounds of updates, some at one time with diff +1 (a load: blocks collapse
// their pairs), some at mixed times and diffs that cancel across blocks,
// sealed at moving uppers: every batch must hold exactly what a map summing
// the same updates holds below the upper, and what stays pending is the rest.
TEST(BatcherTest, SealsWhatAMapSumsAcrossBlocksAndChains) {
  std::mt19937 rng(7);
  Batcher<uint32_t, uint32_t, uint64_t, int64_t> batcher;
  std::map<std::tuple<uint32_t, uint32_t, uint64_t>, int64_t> pending;
  uint64_t lower = 0;
  for (int round = 0; round < 12; ++round) {
    const bool load = round % 3 == 0;
    const size_t n = std::uniform_int_distribution<size_t>(1, 40000)(rng);
    for (size_t i = 0; i < n; ++i) {
      const uint32_t key = rng() % (load ? 100000 : 3000);
      const uint32_t val = rng() % 7;
      const uint64_t time = load ? lower : lower + rng() % 4;
      const int64_t diff = load ? 1 : (rng() % 3 == 0 ? -1 : 1);
      batcher.Push(key, val, time, diff);
      pending[{key, val, time}] += diff;
    }
    const uint64_t upper = lower + 1 + rng() % 3;
    std::vector<Tuple> want;
    for (auto it = pending.begin(); it != pending.end();) {
      const auto& [k, v, t] = it->first;
      if (it->second == 0) {
        it = pending.erase(it);
      } else if (t < upper) {
        want.emplace_back(k, v, t, it->second);
        it = pending.erase(it);
      } else {
        ++it;
      }
    }
    std::sort(want.begin(), want.end());
    Antichain<uint64_t> batch_lower;
    Ptr batch = batcher.Seal(Antichain<uint64_t>(upper), &batch_lower);
    TraceCursor<uint32_t, uint32_t, uint64_t, int64_t> cursor;
    cursor.Add(batch);
    ASSERT_EQ(Contents(cursor), want) << "round " << round;
    EXPECT_EQ(batch->description.lower, Antichain<uint64_t>(lower));
    EXPECT_EQ(batcher.pending(), pending.size()) << "round " << round;
    lower = upper;
  }
}

// A load at one time with diff +1 is held as keys and values alone once its
// blocks close: 8 bytes for two 32-bit fields, against 24 with a time and a
// diff each (only the block still being filled holds those).
TEST(BatcherTest, ALoadAtOneTimeHoldsNoTimeOrDiffPerUpdate) {
  Batcher<uint32_t, uint32_t, uint64_t, int64_t> batcher;
  constexpr uint32_t kUpdates = 200000;
  for (uint32_t i = 0; i < kUpdates; ++i) batcher.Push(i * 7919u, i, 0, 1);
  EXPECT_EQ(batcher.pending(), kUpdates);
  const size_t open_block = (size_t{1} << 14) * 24;
  EXPECT_LT(batcher.PendingBytes(), size_t{kUpdates} * 9 + open_block);
  Antichain<uint64_t> batch_lower;
  Ptr batch = batcher.Seal(Antichain<uint64_t>(1), &batch_lower);
  EXPECT_EQ(batch->size(), kUpdates);
  EXPECT_EQ(batcher.PendingBytes(), 0u);
}

// A load's few updates whose (time, diff) differs -- an edge given twice
// sums to +2 -- are listed apart in their blocks, and the rest still hold no
// time or diff, even where a block's first update is one of them (key 0 is
// given twice). Where many differ (every fourth below), blocks hold every
// update's pair. Either way a seal returns each update with its own pair.
TEST(BatcherTest, AFewDifferingUpdatesInALoadAreListedApart) {
  for (const uint32_t every : {1000u, 4u}) {
    Batcher<uint32_t, uint32_t, uint64_t, int64_t> batcher;
    constexpr uint32_t kUpdates = 200000;
    std::map<std::pair<uint32_t, uint32_t>, int64_t> at_zero, at_one;
    for (uint32_t i = 0; i < kUpdates; ++i) {
      const uint32_t key = i * 7919u;
      if (i % (3 * every) == 1) {
        batcher.Push(key, i, 1, 1);  // a later time
        at_one[{key, i}] += 1;
        continue;
      }
      batcher.Push(key, i, 0, 1);
      at_zero[{key, i}] += 1;
      if (i % every == 0) {
        batcher.Push(key, i, 0, 1);  // given twice
        at_zero[{key, i}] += 1;
      }
    }
    const size_t open_block = (size_t{1} << 14) * 24;
    if (every == 1000) {
      EXPECT_LT(batcher.PendingBytes(), size_t{kUpdates} * 9 + open_block);
    } else {
      EXPECT_GT(batcher.PendingBytes(), size_t{kUpdates} * 20);
    }
    for (uint64_t upper : {1, 2}) {
      auto& want_map = upper == 1 ? at_zero : at_one;
      std::vector<Tuple> want;
      for (const auto& [kv, diff] : want_map) {
        want.emplace_back(kv.first, kv.second, upper - 1, diff);
      }
      std::sort(want.begin(), want.end());
      Antichain<uint64_t> batch_lower;
      Ptr batch = batcher.Seal(Antichain<uint64_t>(upper), &batch_lower);
      TraceCursor<uint32_t, uint32_t, uint64_t, int64_t> cursor;
      cursor.Add(batch);
      EXPECT_EQ(Contents(cursor), want)
          << "every " << every << " upper " << upper;
    }
    EXPECT_EQ(batcher.pending(), 0u);
  }
}

TEST(MergerTest, MergeEqualsConsolidatedUnionAdvancedBySince) {
  Ptr a = Build({{1, 1, 0, 1}, {2, 1, 1, 1}, {3, 3, 1, 2}}, 0, 2);
  Ptr b = Build({{1, 1, 2, -1}, {2, 2, 3, 1}, {3, 3, 2, -2}}, 2, 4);
  Merger<uint32_t, uint32_t, uint64_t, int64_t> merger(a, b,
                                                       Antichain<uint64_t>(2));
  int64_t fuel = 1;  // a little at a time
  int rounds = 0;
  while (!merger.Work(&fuel)) {
    fuel = 1;
    ++rounds;
  }
  EXPECT_GT(rounds, 0);
  Ptr m = merger.Finish();
  TraceCursor<uint32_t, uint32_t, uint64_t, int64_t> cursor;
  cursor.Add(m);
  // Key 1: +1@0 -1@2 advance to 2 and cancel; key 3 likewise.
  EXPECT_EQ(Contents(cursor), (std::vector<Tuple>{{2, 1, 2, 1}, {2, 2, 3, 1}}));
  EXPECT_EQ(m->description.lower, Antichain<uint64_t>(0));
  EXPECT_EQ(m->description.upper, Antichain<uint64_t>(4));
}

// A merge's output is reserved for what both inputs hold, column by
// column (offsets included): merging batches of several values per key
// never holds more than the inputs do, at any point of the merge. (Before,
// key offsets were reserved one per update and keys grew by doubling.)
TEST(MergerTest, OutputNeverOutgrowsWhatTheInputsHold) {
  std::vector<Tuple> even, odd;
  for (uint32_t k = 0; k < 2000; ++k) {
    for (uint32_t v = 0; v < 4; ++v) {
      (k % 2 == 0 ? even : odd).emplace_back(k, v, k % 2, 1);
    }
  }
  Ptr a = Build(even, 0, 1);
  Ptr b = Build(odd, 1, 2);
  Merger<uint32_t, uint32_t, uint64_t, int64_t> merger(a, b,
                                                       Antichain<uint64_t>(0));
  const size_t inputs = a->Bytes() + b->Bytes();
  size_t most = merger.output_bytes();
  int64_t fuel = 64;
  while (!merger.Work(&fuel)) {
    most = std::max(most, merger.output_bytes());
    fuel = 64;
  }
  most = std::max(most, merger.output_bytes());
  EXPECT_LE(most, inputs) << "the output outgrew its reservation";
  Ptr m = merger.Finish();
  EXPECT_EQ(m->size(), even.size() + odd.size());
  EXPECT_EQ(m->keys.size(), 2000u);
}

TEST(CursorTest, NavigatesAndSeeksAcrossBatches) {
  TraceCursor<uint32_t, uint32_t, uint64_t, int64_t> cursor;
  cursor.Add(Build({{1, 1, 0, 1}, {5, 1, 0, 1}, {9, 2, 0, 1}}, 0, 1));
  cursor.Add(Build({{5, 0, 1, 1}, {5, 1, 1, 1}, {7, 3, 1, 1}}, 1, 2));
  EXPECT_EQ(cursor.num_batches(), 2u);
  ASSERT_TRUE(cursor.KeyValid());
  EXPECT_EQ(cursor.Key(), 1u);
  cursor.SeekKey(5);
  ASSERT_TRUE(cursor.KeyValid());
  EXPECT_EQ(cursor.Key(), 5u);
  std::vector<std::tuple<uint32_t, uint64_t, int64_t>> key5;
  cursor.MapKeyUpdates(
      [&](uint32_t v, uint64_t t, int64_t r) { key5.emplace_back(v, t, r); });
  EXPECT_EQ(key5, (std::vector<std::tuple<uint32_t, uint64_t, int64_t>>{
                      {0, 1, 1}, {1, 0, 1}, {1, 1, 1}}));
  cursor.SeekKey(6);
  EXPECT_EQ(cursor.Key(), 7u);
  cursor.StepKey();
  EXPECT_EQ(cursor.Key(), 9u);
  cursor.StepKey();
  EXPECT_FALSE(cursor.KeyValid());
}

TEST(CursorTest, NegatedBatchesSubtract) {
  Ptr a = Build({{1, 1, 0, 2}}, 0, 1);
  Ptr b = Build({{1, 1, 0, 2}, {2, 1, 0, 1}}, 0, 1);
  TraceCursor<uint32_t, uint32_t, uint64_t, int64_t> cursor;
  cursor.Add(b);
  cursor.Add(a, /*negate=*/true);
  std::map<uint32_t, int64_t> sums;
  for (; cursor.KeyValid(); cursor.StepKey()) {
    cursor.MapKeyUpdates(
        [&](uint32_t, uint64_t, int64_t r) { sums[cursor.Key()] += r; });
  }
  EXPECT_EQ(sums[1], 0);
  EXPECT_EQ(sums[2], 1);
}

}  // namespace
}  // namespace diffmesh
