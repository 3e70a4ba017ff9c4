// CountedRuns: an immutable multiset as a few shared sorted runs, cheap to
// copy and to keep at several times; TimedChanges: the changes of the times
// not yet closed, turned into one consolidated delta per time when closed.
//
//   TimedChanges<Row> open;  open.Add(row, /*time=*/3, +1);
//   CountedRuns<Row> rows;   // empty
//   open.Close(/*upto=*/3, [&](uint64_t t, CountedRuns<Row>::RunPtr delta) {
//     rows = rows.With(delta);   // a new value; old copies are unchanged
//   });
//   rows.ForEach([](const Row& r, int64_t n) { ... });   // in key order
//
// The mesh keeps its captured products, catalog and lineage this way: a
// snapshot of the mesh is a set of CountedRuns values, so a reader on
// another thread holds one while the workers go on, and a retained data
// version costs the runs it does not share with the current one.
//
// Invariants: each run is sorted by key with no zero counts and no key
// twice; each run is more than twice the size of the next (newer) one, so
// a value holds O(log n) runs. A key may sit in several runs: its count is
// their sum, and ForEach skips keys that sum to zero.
// Costs: With(delta) is amortized O(|delta| log n) (merges of runs of
// similar size make new runs; the old ones stay for whoever holds them);
// ForEach is O(n log r) for r runs; ForEachFrom seeks each run, O(r log n),
// then costs what it visits; Count(key) is O(r log n); total() is O(1).
// Thread-safety: a CountedRuns value is immutable; copies may be read from
// any thread at once. TimedChanges is thread-compatible (one caller).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <tuple>
#include <utility>
#include <vector>

namespace diffmesh {

template <class K>
class CountedRuns {
 public:
  using Run = std::vector<std::pair<K, int64_t>>;
  using RunPtr = std::shared_ptr<const Run>;

  // This multiset plus `delta` (sorted by key, no zeros, no key twice).
  CountedRuns With(RunPtr delta) const;

  // Calls f(key, count) for every key whose count is not zero, in order.
  template <class F>
  void ForEach(F&& f) const {
    ForEachFrom(
        nullptr, [](const K&) { return true; }, f);
  }
  // The same from the first key not less than `*start` (from the first
  // key when null), while `keep(key)` holds.
  template <class Keep, class F>
  void ForEachFrom(const K* start, Keep&& keep, F&& f) const {
    if (runs_.size() == 1) {  // the usual case for a settled collection
      const Run& run = *runs_[0];
      for (size_t i = start == nullptr ? 0 : LowerBound(run, *start);
           i < run.size() && keep(run[i].first); ++i) {
        f(run[i].first, run[i].second);
      }
      return;
    }
    std::vector<size_t> at(runs_.size(), 0);
    if (start != nullptr) {
      for (size_t r = 0; r < runs_.size(); ++r) {
        at[r] = LowerBound(*runs_[r], *start);
      }
    }
    for (;;) {
      const K* least = nullptr;
      for (size_t r = 0; r < runs_.size(); ++r) {
        if (at[r] < runs_[r]->size() &&
            (least == nullptr || (*runs_[r])[at[r]].first < *least)) {
          least = &(*runs_[r])[at[r]].first;
        }
      }
      if (least == nullptr || !keep(*least)) return;
      int64_t sum = 0;
      for (size_t r = 0; r < runs_.size(); ++r) {
        if (at[r] < runs_[r]->size() && (*runs_[r])[at[r]].first == *least) {
          sum += (*runs_[r])[at[r]].second;
          ++at[r];  // `least` stays valid: runs are immutable
        }
      }
      if (sum != 0) f(*least, sum);
    }
  }
  // The count of `key` (0 when absent).
  int64_t Count(const K& key) const;

  // The sum of the counts (a product's rows), kept as deltas come: O(1).
  int64_t total() const { return total_; }
  // Keys held, counting a key once per run it is in (an upper bound on the
  // distinct keys).
  size_t stored() const;
  size_t runs() const { return runs_.size(); }
  bool empty() const { return runs_.empty(); }

 private:
  static size_t LowerBound(const Run& run, const K& key);
  std::vector<RunPtr> runs_;  // oldest (largest) first
  int64_t total_ = 0;
};

template <class K>
class TimedChanges {
 public:
  void Add(const K& key, uint64_t time, int64_t diff) {
    if (chunks_.empty() || chunks_.back().size() == kChunk) {
      chunks_.emplace_back();
    }
    chunks_.back().emplace_back(key, time, diff);
  }
  bool empty() const { return chunks_.empty(); }

  // Takes every change at or before `upto` and calls
  // on_time(time, delta) for each of their times in increasing order, with
  // the time's changes consolidated (sorted, summed, zeros dropped: a time
  // whose changes cancel out gives an empty delta, and is still called).
  // Changes after `upto` stay. Memory: each chunk is freed as it is taken.
  void Close(
      uint64_t upto,
      const std::function<void(uint64_t, typename CountedRuns<K>::RunPtr)>&
          on_time);

 private:
  static constexpr size_t kChunk = size_t{1} << 14;
  std::vector<std::vector<std::tuple<K, uint64_t, int64_t>>> chunks_;
};

}  // namespace diffmesh
