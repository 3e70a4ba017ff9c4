// The spine: an LSM-like list of immutable batches with geometric levels and
// amortized ("fueled") merging, plus logical compaction.
//
//   Spine<K, V, T, R> spine;
//   spine.Insert(batch);                   // merges a little, never a lot
//   spine.SetSince(Antichain<T>(round));   // later merges compact history
//   TraceCursor<K, V, T, R> cursor; spine.AddTo(&cursor);
//
// Level i holds at most two batches (a merge in progress) of roughly 2^i
// updates. A batch of n updates enters at level ceil(log2 n): the smaller
// levels are first rolled up into it, and it owes every merge in progress
// `kFuelPerUpdate * n` units of work. A merge at level i has at most 2^(i+2)
// updates of work and its level refills only after 2^i more updates arrive,
// bringing at least 2^(i+2) fuel, so merges finish before they are needed and
// no insertion pays for a big merge at once (amortized O(log n) per update).
//
// Owed work is paid by the owner when it would otherwise wait (CatchUp, in
// small slices) and at the latest by the next insertion, before it rolls
// up: a batch's own fuel is then the only part a level can miss when it
// refills, and a merge forced to finish there does only what remains. So
// the merging a small round causes moves out of the round when the worker
// has idle time (a worker waiting for its peers), and costs the same as
// paying at once when it has none.
//
// Compaction: each merge advances times by the `since` frontier current when
// it starts, so updates that cancel once their times are indistinguishable
// vanish. On a stream that inserts and deletes the same n records every
// round with `since` one round behind, at most 4n updates are live: a
// round's uncancelled merge (2n) at one level and the next round's two
// batches (2n) below it (tests/engine/spine_test.cc measures exactly 4n over
// 10,000 rounds).
//
// Thread compatibility: not thread-safe; owned by one worker's trace.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "engine/batch.h"
#include "engine/cursor.h"

namespace diffmesh {

template <class K, class V, class T, class R>
class Spine {
 public:
  using Ptr = BatchPtr<K, V, T, R>;
  static constexpr int64_t kFuelPerUpdate = 4;
  // Idle merging folds a batch into the next older one only when that one
  // is at most this many times bigger (see ChooseIdleMerge).
  static constexpr size_t kIdleFold = 16;

  Spine() : upper_(Antichain<T>(Minimum<T>())), since_(upper_) {}

  // REQUIRES: batch->description.lower equals the current upper.
  void Insert(Ptr batch) {
    upper_ = batch->description.upper;
    if (batch->empty()) return;
    size_t n = batch->size();
    CatchUp(owed_);
    RollUp(std::move(batch), LevelFor(n));
    owed_ = kFuelPerUpdate * static_cast<int64_t>(n);
  }

  // Pays up to `fuel` of the work owed by inserted batches; returns whether
  // some is still owed.
  bool CatchUp(int64_t fuel) {
    fuel = std::min(fuel, owed_);
    if (fuel > 0) ApplyFuel(fuel);
    if (!HasPendingMerges()) owed_ = 0;
    return owed_ > 0;
  }

  // Idle maintenance: spends `fuel` on merges in progress; with none in
  // progress, starts one that folds a batch into the next older one of at
  // most kIdleFold times its size, or recompacts a batch whose since is
  // stale and whose updates may cancel (see ChooseIdleMerge). So an idle
  // trace converges to batches each more than kIdleFold times smaller than
  // the one before it -- one batch when they are alike, as after a load --
  // whose cancelled updates are gone. Returns whether work remains.
  bool Exert(int64_t fuel) {
    if (!HasPendingMerges()) StartIdleMerge();
    ApplyFuel(fuel);
    return HasPendingMerges() || IdleMergeUseful();
  }
  bool HasPendingMerges() const {
    for (const Level& l : levels_) {
      if (l.merger != nullptr) return true;
    }
    return false;
  }

  // The trace is complete up to `upper` with no update in between (an
  // empty batch, without storing one). REQUIRES: upper only advances.
  void AdvanceUpper(const Antichain<T>& upper) { upper_ = upper; }

  // Logical compaction frontier for merges started from now on.
  // REQUIRES: since only advances.
  void SetSince(Antichain<T> since) { since_ = std::move(since); }
  const Antichain<T>& since() const { return since_; }
  const Antichain<T>& upper() const { return upper_; }

  // Calls f(const Ptr&) for every batch (merge inputs while a merge is in
  // progress), newest first; some may be null.
  template <class F>
  void ForEachBatch(F&& f) const {
    for (auto it = levels_.rbegin(); it != levels_.rend(); ++it) {
      f(it->a);
      f(it->b);
    }
  }
  // Adds every batch to `cursor`.
  void AddTo(TraceCursor<K, V, T, R>* cursor) const {
    ForEachBatch([&](const Ptr& b) { cursor->Add(b); });
  }

  // Updates held, counting a merge in progress at its inputs plus its
  // partial output.
  size_t StoredUpdates() const {
    return SumOverBatches([](const auto& b) { return b.size(); },
                          [](const auto& m) { return m.output_size(); });
  }
  // Bytes held by the batches, a merge in progress included (batches shared
  // with other holders count here too).
  size_t StoredBytes() const {
    return SumOverBatches([](const auto& b) { return b.Bytes(); },
                          [](const auto& m) { return m.output_bytes(); });
  }
  // Adds the batches by column, and a merge's partial output as merging.
  void AddBytesTo(HeldByteParts* parts) const {
    for (const Level& l : levels_) {
      if (l.a) l.a->AddBytesTo(parts);
      if (l.b) l.b->AddBytesTo(parts);
      if (l.merger) parts->merging += l.merger->output_bytes();
    }
  }
  // Whether `batch` is one of the spine's batches (or a merge's input).
  bool Holds(const Batch<K, V, T, R>* batch) const {
    for (const Level& l : levels_) {
      if (l.a.get() == batch || l.b.get() == batch) return true;
    }
    return false;
  }
  size_t NumBatches() const {
    size_t n = 0;
    for (const Level& l : levels_) n += (l.a != nullptr) + (l.b != nullptr);
    return n;
  }

 private:
  template <class OfBatch, class OfMerger>
  size_t SumOverBatches(OfBatch of_batch, OfMerger of_merger) const {
    size_t total = 0;
    for (const Level& l : levels_) {
      if (l.a) total += of_batch(*l.a);
      if (l.b) total += of_batch(*l.b);
      if (l.merger) total += of_merger(*l.merger);
    }
    return total;
  }

  struct Level {
    Ptr a;  // older
    Ptr b;  // newer; set iff a merge of (a, b) is in progress
    std::unique_ptr<Merger<K, V, T, R>> merger;
    // `a` came from an idle recompaction that gained too little to try
    // again; cleared whenever `a` changes.
    bool barren = false;
  };

  std::vector<size_t> OccupiedLevels() const {
    std::vector<size_t> occupied;
    for (size_t i = 0; i < levels_.size(); ++i) {
      if (levels_[i].a != nullptr) occupied.push_back(i);
    }
    return occupied;
  }
  // The idle merge to start, if any. First, of two neighbouring batches,
  // the newest pair whose older one holds at most kIdleFold times the
  // updates of the newer: the newer is folded into the older. A batch more
  // than kIdleFold times bigger than the one after it is not merged with it
  // when idle: the merge would hold a second copy of the bigger one while
  // it runs to absorb a few updates; the level merges of Insert fold them
  // in once enough arrive. Else the oldest batch whose since is stale and
  // whose updates may cancel is recompacted: at least 1/kIdleFold of its
  // updates repeat a value (with one update per value nothing can cancel),
  // and its last recompaction, if any, gained something (a batch whose
  // times stay apart, as iterations' do, is left to the level merges).
  // `at` is the index in OccupiedLevels() of the newer (or the
  // recompacted) batch.
  struct IdleChoice {
    enum { kNone, kFold, kRecompact } kind = kNone;
    size_t at = 0;
  };
  IdleChoice ChooseIdleMerge(const std::vector<size_t>& occupied) const {
    for (size_t i = 0; i + 1 < occupied.size(); ++i) {
      const size_t newer = levels_[occupied[i]].a->size();
      const size_t older = levels_[occupied[i + 1]].a->size();
      if (newer * kIdleFold >= older) return {IdleChoice::kFold, i};
    }
    for (size_t i = occupied.size(); i-- > 0;) {
      const Level& l = levels_[occupied[i]];
      const Batch<K, V, T, R>& b = *l.a;
      const size_t repeats = b.size() - b.vals.size();
      if (!(b.description.since == since_) && !l.barren &&
          repeats * kIdleFold >= b.size() && repeats > 0) {
        return {IdleChoice::kRecompact, i};
      }
    }
    return {};
  }
  bool IdleMergeUseful() const {
    return ChooseIdleMerge(OccupiedLevels()).kind != IdleChoice::kNone;
  }
  void StartIdleMerge() {
    std::vector<size_t> occupied = OccupiedLevels();
    const IdleChoice choice = ChooseIdleMerge(occupied);
    if (choice.kind == IdleChoice::kFold) {
      Level& newer = levels_[occupied[choice.at]];
      Level& older = levels_[occupied[choice.at + 1]];
      older.b = std::move(newer.a);
      newer.a.reset();
      newer.barren = false;
      older.merger =
          std::make_unique<Merger<K, V, T, R>>(older.a, older.b, since_);
    } else if (choice.kind == IdleChoice::kRecompact) {
      Level& l = levels_[occupied[choice.at]];
      const Antichain<T>& upper = l.a->description.upper;
      auto empty = std::make_shared<Batch<K, V, T, R>>();
      empty->description = {upper, upper, since_};
      l.b = std::move(empty);
      l.merger = std::make_unique<Merger<K, V, T, R>>(l.a, l.b, since_);
    }
  }

  static int LevelFor(size_t n) {
    int level = 0;
    while ((size_t{1} << level) < n) ++level;
    return level;
  }

  // Gives every merge in progress `fuel` units of work; that much of what
  // is owed is paid.
  void ApplyFuel(int64_t fuel) {
    owed_ = std::max<int64_t>(0, owed_ - fuel);
    for (size_t i = 0; i < levels_.size(); ++i) {
      Level& l = levels_[i];
      if (l.merger == nullptr) continue;
      int64_t budget = fuel;
      if (l.merger->Work(&budget)) CompleteMerge(i);
    }
  }

  // Completes level i's merge and places the result.
  void CompleteMerge(size_t i) {
    // An idle recompaction is the one merge with an empty newer side.
    const Level& l = levels_[i];
    const size_t recompacted =
        l.merger != nullptr && l.b->empty() ? l.a->size() : 0;
    Ptr merged = TakeLevel(i);
    if (merged == nullptr) return;
    size_t target = static_cast<size_t>(LevelFor(merged->size()));
    const Batch<K, V, T, R>* placed = merged.get();
    // A recompaction that gained less than 1/kIdleFold is not tried again
    // on its result while it stands alone.
    const bool barren = recompacted > 0 && merged->size() * kIdleFold >
                                               recompacted * (kIdleFold - 1);
    InsertAt(std::move(merged), std::max(target, i));
    if (!barren) return;
    for (Level& level : levels_) {
      if (level.a.get() == placed && level.merger == nullptr) {
        level.barren = true;
      }
    }
  }

  // Empties level i: its batch, or the result of its merge finished now
  // (nullptr if the level is empty or the merge cancelled out).
  Ptr TakeLevel(size_t i) {
    Level& l = levels_[i];
    l.barren = false;
    if (l.merger == nullptr) return std::move(l.a);
    int64_t unlimited = INT64_MAX;
    l.merger->Work(&unlimited);
    Ptr merged = l.merger->Finish();
    l.merger.reset();
    l.a.reset();
    l.b.reset();
    return merged->empty() ? nullptr : merged;
  }

  // Merges every level below `index` with `batch` (newest), older levels
  // first, then inserts the result at `index`. A merge still in progress
  // below `index` is finished into the roll-up, not placed on a level, so
  // batches stay ordered by time from the top level down.
  void RollUp(Ptr batch, int index) {
    Ptr older;
    int top = std::min(index, static_cast<int>(levels_.size()));
    for (int i = top - 1; i >= 0; --i) {
      Ptr level = TakeLevel(static_cast<size_t>(i));
      if (level == nullptr) continue;
      older = older ? MergeNow(std::move(older), std::move(level))
                    : std::move(level);
    }
    if (older) batch = MergeNow(std::move(older), std::move(batch));
    if (batch->empty()) return;
    InsertAt(std::move(batch), static_cast<size_t>(index));
  }

  Ptr MergeNow(Ptr older, Ptr newer) {
    Merger<K, V, T, R> merger(std::move(older), std::move(newer), since_);
    int64_t unlimited = INT64_MAX;
    merger.Work(&unlimited);
    return merger.Finish();
  }

  void InsertAt(Ptr batch, size_t i) {
    if (levels_.size() <= i) levels_.resize(i + 1);
    Level& l = levels_[i];
    if (l.a == nullptr) {
      l.a = std::move(batch);
    } else if (l.merger == nullptr) {
      l.b = std::move(batch);
      l.merger = std::make_unique<Merger<K, V, T, R>>(l.a, l.b, since_);
    } else {
      // A merge is still in progress here: finish it (it moves up), then
      // take its place.
      CompleteMerge(i);
      InsertAt(std::move(batch), i);
    }
  }

  std::vector<Level> levels_;
  int64_t owed_ = 0;  // fuel the last inserted batch still owes each merge
  Antichain<T> upper_;
  Antichain<T> since_;
};

}  // namespace diffmesh
