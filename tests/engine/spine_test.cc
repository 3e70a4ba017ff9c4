// The spine: merging keeps contents exact at times beyond since, compaction
// bounds memory on an insert/delete stream (everything a trace holds,
// counted), readers holding since back keep history readable, an idle
// reader's pin is counted and freed, a trace nobody can read is dropped.
#include "engine/spine.h"

#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <random>
#include <tuple>
#include <vector>

#include "engine/batcher.h"
#include "engine/graph.h"
#include "engine/input.h"
#include "engine/probe.h"
#include "engine/trace.h"
#include "gtest/gtest.h"
#include "operators/arrange.h"
#include "operators/inspect.h"

namespace diffmesh {
namespace {

using Sp = Spine<uint32_t, uint32_t, uint64_t, int64_t>;
using Ptr = BatchPtr<uint32_t, uint32_t, uint64_t, int64_t>;

// Accumulation of (key, val) at time t as seen through a cursor.
std::map<std::pair<uint32_t, uint32_t>, int64_t> AccumulateAt(
    TraceCursor<uint32_t, uint32_t, uint64_t, int64_t> cursor, uint64_t t) {
  std::map<std::pair<uint32_t, uint32_t>, int64_t> acc;
  for (; cursor.KeyValid(); cursor.StepKey()) {
    for (; cursor.ValValid(); cursor.StepVal()) {
      cursor.MapTimes([&](uint64_t ut, int64_t r) {
        if (ut <= t) acc[{cursor.Key(), cursor.Val()}] += r;
      });
    }
  }
  for (auto it = acc.begin(); it != acc.end();)
    it = it->second == 0 ? acc.erase(it) : std::next(it);
  return acc;
}

TEST(SpineTest, RandomInsertsWithCompactionMatchReference) {
  for (uint64_t seed = 0; seed < 50; ++seed) {
    std::mt19937_64 rng(seed);
    Sp spine;
    Batcher<uint32_t, uint32_t, uint64_t, int64_t> batcher;
    std::vector<std::tuple<uint32_t, uint32_t, uint64_t, int64_t>> all;
    uint64_t time = 0;
    for (int round = 0; round < 60; ++round) {
      int n = static_cast<int>(rng() % 50);
      for (int i = 0; i < n; ++i) {
        std::tuple<uint32_t, uint32_t, uint64_t, int64_t> u(
            rng() % 20, rng() % 3, time + rng() % 2, rng() % 2 ? 1 : -1);
        batcher.Push(std::get<0>(u), std::get<1>(u), std::get<2>(u),
                     std::get<3>(u));
        all.push_back(u);
      }
      Antichain<uint64_t> lower;
      spine.Insert(batcher.Seal(Antichain<uint64_t>(time + 2), &lower));
      time += 2;
      if (rng() % 3 == 0) spine.SetSince(Antichain<uint64_t>(time - rng() % 3));
      // Times beyond since must accumulate exactly.
      uint64_t since = spine.since()[0];
      for (uint64_t t = since; t < time + 2; ++t) {
        TraceCursor<uint32_t, uint32_t, uint64_t, int64_t> cursor;
        spine.AddTo(&cursor);
        std::map<std::pair<uint32_t, uint32_t>, int64_t> want;
        for (const auto& [k, v, ut, r] : all) {
          if (ut <= t) want[{k, v}] += r;
        }
        for (auto it = want.begin(); it != want.end();)
          it = it->second == 0 ? want.erase(it) : std::next(it);
        ASSERT_EQ(AccumulateAt(cursor, t), want)
            << "seed " << seed << " round " << round << " t " << t;
      }
    }
    // Geometric levels: far fewer batches than insertions.
    EXPECT_LE(spine.NumBatches(), 16u) << "seed " << seed;
  }
}

// A batch of keys [from, from + n), one update each, at time t.
Ptr KeysBatch(Sp& spine, uint32_t from, uint32_t n, uint64_t t) {
  Batcher<uint32_t, uint32_t, uint64_t, int64_t> batcher;
  batcher.Skip(spine.upper());
  for (uint32_t k = from; k < from + n; ++k) batcher.Push(k, 0, t, 1);
  Antichain<uint64_t> lower;
  return batcher.Seal(Antichain<uint64_t>(t + 1), &lower);
}

// A batch owes kFuelPerUpdate units per update to each merge in progress;
// CatchUp pays it in slices, else the next insertion pays it before rolling
// up. Two 8-key batches meet at level 3: their merge is 16 keys of 2 units,
// exactly the 32 units the second batch owes.
TEST(SpineTest, OwedMergingIsPaidByCatchUpOrTheNextInsert) {
  Sp spine;
  spine.Insert(KeysBatch(spine, 0, 8, 0));
  EXPECT_FALSE(spine.CatchUp(4)) << "nothing to merge yet: nothing owed";
  spine.Insert(KeysBatch(spine, 8, 8, 1));
  ASSERT_TRUE(spine.HasPendingMerges());
  int slices = 0;
  while (spine.CatchUp(4)) ++slices;
  EXPECT_EQ(slices + 1, 8) << "32 units owed, paid 4 at a time";
  EXPECT_FALSE(spine.HasPendingMerges());
  EXPECT_EQ(spine.NumBatches(), 1u);

  // The same two batches, then a third: its insertion pays the merge first.
  Sp paid_late;
  paid_late.Insert(KeysBatch(paid_late, 0, 8, 0));
  paid_late.Insert(KeysBatch(paid_late, 8, 8, 1));
  ASSERT_TRUE(paid_late.HasPendingMerges());
  paid_late.Insert(KeysBatch(paid_late, 16, 1, 2));
  EXPECT_FALSE(paid_late.HasPendingMerges());
  EXPECT_EQ(paid_late.NumBatches(), 2u);
  EXPECT_FALSE(paid_late.CatchUp(4)) << "no merge in progress: nothing owed";

  for (const Sp* s : {&spine, &paid_late}) {
    TraceCursor<uint32_t, uint32_t, uint64_t, int64_t> cursor;
    s->AddTo(&cursor);
    auto acc = AccumulateAt(cursor, 2);
    EXPECT_EQ(acc.size(), s == &spine ? 16u : 17u);
    for (const auto& [kv, r] : acc) EXPECT_EQ(r, 1) << kv.first;
  }
}

// A merge still in progress below a new batch's level is finished into the
// roll-up. A 4- and a 3-key batch merge at level 2 (14 units of work, 12
// owed); an 8-key batch then rolls them up: one batch of 15 at level 3 (an
// earlier version put the finished merge on a new level 3 while walking the
// levels, reading a freed level list).
TEST(SpineTest, RollUpFinishingAMergeThatGrowsTheLevels) {
  Sp spine;
  spine.Insert(KeysBatch(spine, 0, 4, 0));
  spine.Insert(KeysBatch(spine, 4, 3, 1));
  spine.Insert(KeysBatch(spine, 7, 8, 2));
  TraceCursor<uint32_t, uint32_t, uint64_t, int64_t> cursor;
  spine.AddTo(&cursor);
  auto acc = AccumulateAt(cursor, 2);
  EXPECT_EQ(acc.size(), 15u);
  for (const auto& [kv, r] : acc) EXPECT_EQ(r, 1) << kv.first;
  EXPECT_EQ(spine.StoredUpdates(), 15u);
  EXPECT_EQ(spine.NumBatches(), 1u);
  EXPECT_FALSE(spine.HasPendingMerges());
}

// Idle merging folds a batch into the next older one only when that one is
// at most Sp::kIdleFold times bigger: absorbing 10 updates into 1,000 would
// hold a second copy of the 1,000 while it runs. Once the newer side has
// grown to a comparable size (here by an insertion's roll-up), it folds.
TEST(SpineTest, IdleMergingSkipsABatchFarBiggerThanTheNewerOne) {
  Sp spine;
  spine.Insert(KeysBatch(spine, 0, 1000, 0));
  spine.Insert(KeysBatch(spine, 1000, 10, 1));
  ASSERT_FALSE(spine.HasPendingMerges());
  ASSERT_EQ(spine.NumBatches(), 2u);
  EXPECT_FALSE(spine.Exert(1 << 20)) << "nothing worth merging when idle";
  EXPECT_FALSE(spine.HasPendingMerges());
  EXPECT_EQ(spine.NumBatches(), 2u);

  spine.Insert(KeysBatch(spine, 1010, 100, 2));  // rolls the 10 up: 110
  ASSERT_EQ(spine.NumBatches(), 2u);
  while (spine.Exert(1 << 20)) {
  }
  EXPECT_EQ(spine.NumBatches(), 1u);
  TraceCursor<uint32_t, uint32_t, uint64_t, int64_t> cursor;
  spine.AddTo(&cursor);
  auto acc = AccumulateAt(cursor, 2);
  EXPECT_EQ(acc.size(), 1110u);
  for (const auto& [kv, r] : acc) EXPECT_EQ(r, 1) << kv.first;
}

// A lone batch whose since is stale is recompacted when idle only if some
// value has several updates, which may then cancel; with one update per
// value nothing can, and it is left as it is.
TEST(SpineTest, IdleRecompactionOnlyWhereUpdatesMayCancel) {
  Sp single;
  single.Insert(KeysBatch(single, 0, 100, 0));
  single.SetSince(Antichain<uint64_t>(5));
  EXPECT_FALSE(single.Exert(1 << 20));
  EXPECT_FALSE(single.HasPendingMerges());
  EXPECT_EQ(single.StoredUpdates(), 100u);

  Sp churn;
  Batcher<uint32_t, uint32_t, uint64_t, int64_t> batcher;
  for (uint32_t k = 0; k < 100; ++k) {
    batcher.Push(k, 0, 0, 1);
    if (k % 2 == 0) batcher.Push(k, 0, 1, -1);  // gone at time 1
  }
  Antichain<uint64_t> lower;
  churn.Insert(batcher.Seal(Antichain<uint64_t>(2), &lower));
  ASSERT_EQ(churn.StoredUpdates(), 150u);
  churn.SetSince(Antichain<uint64_t>(2));
  while (churn.Exert(1 << 20)) {
  }
  EXPECT_EQ(churn.StoredUpdates(), 50u) << "the removed half cancelled";
  TraceCursor<uint32_t, uint32_t, uint64_t, int64_t> cursor;
  churn.AddTo(&cursor);
  auto acc = AccumulateAt(cursor, 2);
  ASSERT_EQ(acc.size(), 50u);
  for (const auto& [kv, r] : acc) EXPECT_EQ(kv.first % 2, 1u);
}

// One worker arranging a stream of records by themselves, probed after the
// arrangement.
struct ArrangedRecords {
  Worker worker;
  InputHandle<uint32_t> input;
  std::shared_ptr<Trace<uint32_t, Unit, uint64_t, int64_t>> trace;
  Probe<uint64_t> probe;
  ArrangedRecords() {
    auto [in, records] = NewInput<uint32_t>(worker.NewDataflow("records"));
    input = std::move(in);
    auto arranged = ArrangeBySelf(records);
    trace = arranged.trace;
    probe = ProbeStream(arranged.stream);
  }
};

// Inserts records 0..n-1 at time 2r, deletes them at 2r+1, and steps until
// both times are complete.
bool InsertDeleteRound(ArrangedRecords& flow, uint32_t n, uint64_t round) {
  for (uint32_t i = 0; i < n; ++i) flow.input.Insert(i);
  flow.input.AdvanceTo(2 * round + 1);
  for (uint32_t i = 0; i < n; ++i) flow.input.Remove(i);
  flow.input.AdvanceTo(2 * round + 2);
  return flow.worker.StepWhile(
      [&] { return flow.probe.LessThan(2 * round + 2); });
}

// 1,000 records inserted and deleted for 10,000 rounds with since following
// the input: everything the trace holds (spine and pinned batches) stays
// bounded. Bound: since trails the input by one round, so a round's merge of
// +1,000 and -1,000 cannot cancel yet and its 2,000 updates wait at level
// 11; they cancel when the next round's merge result joins them, by which
// time since has passed both. Meanwhile the current round's two batches sit
// at level 10: at most 4 x 1,000 live updates, whatever the number of
// rounds. The worker's held bytes (trace, batcher) are as flat.
TEST(CompactionTest, InsertDeleteStreamStaysBounded) {
  constexpr uint32_t kRecords = 1000;
  constexpr uint64_t kRounds = 10000;
  ArrangedRecords flow;
  TraceReader<uint32_t, Unit, uint64_t, int64_t> reader(flow.trace);
  size_t max_held = 0;
  size_t max_bytes_early = 0;
  size_t max_bytes_late = 0;
  for (uint64_t round = 0; round < kRounds; ++round) {
    ASSERT_TRUE(InsertDeleteRound(flow, kRecords, round));
    reader.Acknowledge(flow.trace->sequence());
    reader.SetSince(Antichain<uint64_t>(2 * round + 2));
    max_held = std::max(max_held, flow.trace->HeldUpdates());
    size_t& bytes = round < kRounds / 10 ? max_bytes_early : max_bytes_late;
    if (round >= 10) bytes = std::max(bytes, flow.worker.HeldBytes());
  }
  EXPECT_EQ(flow.trace->PinnedBytes(), 0u);
  EXPECT_LE(max_held, 4u * kRecords);
  EXPECT_GT(max_bytes_early, 0u);
  EXPECT_LE(max_bytes_late, max_bytes_early);
  std::printf(
      "over %llu rounds: max held updates %zu, max held bytes %zu "
      "(rounds 10-999) and %zu (rounds 1000-)\n",
      static_cast<unsigned long long>(kRounds), max_held, max_bytes_early,
      max_bytes_late);
}

// A reader that stops acknowledging pins every batch inserted since: the
// trace counts them (held, pinned, unacknowledged batches), the worker's
// held bytes include them, and acknowledging frees them.
TEST(CompactionTest, AnIdleReaderPinIsCountedAndFreed) {
  constexpr uint32_t kRecords = 100;
  constexpr uint64_t kRounds = 50;
  ArrangedRecords flow;
  TraceReader<uint32_t, Unit, uint64_t, int64_t> follower(flow.trace);
  TraceReader<uint32_t, Unit, uint64_t, int64_t> idle(flow.trace);
  const uint64_t start = flow.trace->sequence();
  for (uint64_t round = 0; round < kRounds; ++round) {
    ASSERT_TRUE(InsertDeleteRound(flow, kRecords, round));
    follower.Acknowledge(flow.trace->sequence());
    follower.SetSince(Antichain<uint64_t>(2 * round + 2));
    idle.SetSince(Antichain<uint64_t>(2 * round + 2));
  }
  while (flow.trace->spine().Exert(1 << 20)) {
  }
  const uint64_t batches = flow.trace->sequence() - start;
  EXPECT_GE(batches, kRounds);
  EXPECT_EQ(flow.trace->UnacknowledgedBatches(), batches);
  // The spine has compacted the rounds away; the idle reader still pins
  // each round's 2 x kRecords updates.
  EXPECT_LE(flow.trace->StoredUpdates(), 4u * kRecords);
  EXPECT_EQ(flow.trace->PinnedUpdates(), kRounds * 2 * kRecords);
  EXPECT_EQ(flow.trace->HeldUpdates(),
            flow.trace->StoredUpdates() + flow.trace->PinnedUpdates());
  const size_t pinned_bytes = flow.trace->PinnedBytes();
  EXPECT_GE(flow.worker.HeldBytes(), pinned_bytes + flow.trace->StoredBytes());

  // By part: the pinned batches apart, the spine's batches by column, and
  // the parts sum to the whole.
  HeldByteParts parts;
  flow.worker.AddHeldBytes(&parts);
  EXPECT_EQ(parts.pinned, pinned_bytes);
  EXPECT_EQ(parts.InBatches() + parts.merging, flow.trace->StoredBytes());
  EXPECT_EQ(parts.Total() - parts.queued, flow.worker.HeldBytes());
  EXPECT_EQ(parts.merging, 0u);  // merges done by the Exert loop
  EXPECT_EQ(parts.updates, flow.trace->StoredUpdates());

  idle.Acknowledge(flow.trace->sequence());
  EXPECT_EQ(flow.trace->UnacknowledgedBatches(), 0u);
  EXPECT_EQ(flow.trace->PinnedBytes(), 0u);
  EXPECT_EQ(flow.trace->HeldUpdates(), flow.trace->StoredUpdates());
  EXPECT_LT(flow.worker.HeldBytes(), pinned_bytes);
}

// An arrangement whose handle is gone and that no operator reads can never
// be read: its operator drops the trace (the worker holds nothing for it)
// and still sends every batch on. Kept by a handle, the trace stays: the
// worker then holds exactly the trace's bytes more.
TEST(CompactionTest, ATraceNobodyCanReadIsDropped) {
  size_t kept_worker_bytes = 0;
  size_t kept_trace_bytes = 0;
  for (bool keep : {true, false}) {
    Worker worker;
    auto [input, records] = NewInput<uint32_t>(worker.NewDataflow("records"));
    std::shared_ptr<Trace<uint32_t, Unit, uint64_t, int64_t>> kept;
    int64_t seen = 0;
    Probe<uint64_t> probe;
    {
      auto arranged = ArrangeBySelf(records);
      if (keep) kept = arranged.trace;
      auto back = Inspect(AsCollection(arranged),
                          [&](uint32_t, uint64_t, int64_t r) { seen += r; });
      probe = ProbeStream(back.stream);
    }
    for (uint64_t round = 0; round < 5; ++round) {
      for (uint32_t i = 0; i < 1000; ++i) input.Insert(i + 1000 * round);
      input.AdvanceTo(round + 1);
      ASSERT_TRUE(worker.StepWhile([&] { return probe.LessThan(round + 1); }));
    }
    EXPECT_EQ(seen, 5000) << "keep " << keep;
    if (keep) {
      while (kept->spine().Exert(1 << 20)) {
      }
      EXPECT_EQ(kept->HeldUpdates(), 5000u);
      kept_trace_bytes = kept->HeldBytes();
      kept_worker_bytes = worker.HeldBytes();
      EXPECT_GE(kept_worker_bytes, kept_trace_bytes);
    } else {
      EXPECT_EQ(worker.HeldBytes(), kept_worker_bytes - kept_trace_bytes);
    }
  }
}

// Time moving on with no update stores no batch and takes no sequence
// number, and the next real batch follows on from the advanced upper.
TEST(CompactionTest, QuietAdvancesStoreNothing) {
  ArrangedRecords flow;
  TraceReader<uint32_t, Unit, uint64_t, int64_t> reader(flow.trace);
  flow.input.Insert(7);
  flow.input.AdvanceTo(1);
  while (flow.worker.Step()) {
  }
  const uint64_t sequence = flow.trace->sequence();
  const size_t batches = flow.trace->spine().NumBatches();
  for (uint64_t t = 2; t < 100; ++t) {
    flow.input.AdvanceTo(t);
    while (flow.worker.Step()) {
    }
    EXPECT_EQ(flow.trace->spine().upper(), Antichain<uint64_t>(t));
  }
  EXPECT_EQ(flow.trace->sequence(), sequence);
  EXPECT_EQ(flow.trace->spine().NumBatches(), batches);
  flow.input.Remove(7);
  flow.input.Insert(8);
  flow.input.AdvanceTo(100);
  ASSERT_TRUE(flow.worker.StepWhile([&] { return flow.probe.LessThan(100); }));
  EXPECT_EQ(flow.trace->sequence(), sequence + 1);
  reader.Acknowledge(flow.trace->sequence());
  auto cursor = reader.Cursor();
  std::map<uint32_t, int64_t> at;
  for (; cursor.KeyValid(); cursor.StepKey()) {
    cursor.MapKeyUpdates([&](const Unit&, uint64_t ut, int64_t r) {
      if (ut <= 99) at[cursor.Key()] += r;
    });
  }
  EXPECT_EQ(at, (std::map<uint32_t, int64_t>{{7, 0}, {8, 1}}));
}

// A second reader holding since back keeps the history readable while the
// first reader lets compaction go on.
TEST(CompactionTest, ReaderHoldingSinceKeepsHistory) {
  constexpr uint32_t kRecords = 100;
  ArrangedRecords flow;
  TraceReader<uint32_t, Unit, uint64_t, int64_t> follower(flow.trace);
  TraceReader<uint32_t, Unit, uint64_t, int64_t> historian(flow.trace);
  historian.SetSince(Antichain<uint64_t>(0));
  for (uint64_t round = 0; round < 200; ++round) {
    ASSERT_TRUE(InsertDeleteRound(flow, kRecords, round));
    follower.SetSince(Antichain<uint64_t>(2 * round + 2));
  }
  auto count_at = [&](uint64_t t) {
    int64_t total = 0;
    auto cursor = historian.CursorThrough(flow.trace->sequence());
    for (; cursor.KeyValid(); cursor.StepKey()) {
      cursor.MapKeyUpdates([&](const Unit&, uint64_t ut, int64_t r) {
        if (ut <= t) total += r;
      });
    }
    return total;
  };
  for (uint64_t t : {0, 1, 10, 11, 250, 251, 399}) {
    EXPECT_EQ(count_at(t), t % 2 == 0 ? kRecords : 0) << "at time " << t;
  }
  // Once the historian lets go, the history compacts away.
  historian.Release();
  for (uint64_t round = 200; round < 210; ++round) {
    flow.input.AdvanceTo(2 * round + 2);
    ASSERT_TRUE(flow.worker.StepWhile(
        [&] { return flow.probe.LessThan(2 * round + 2); }));
    follower.SetSince(Antichain<uint64_t>(2 * round + 2));
  }
  while (flow.trace->spine().Exert(1 << 20)) {
  }
  EXPECT_LE(flow.trace->StoredUpdates(), 4u * kRecords);
}

}  // namespace
}  // namespace diffmesh
