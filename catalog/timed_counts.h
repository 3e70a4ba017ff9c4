// TimedCounts: a multiset of records changing over time, readable as of a
// time (the mesh captures products, the catalog and the lineage in them:
// workers may be one time apart and each reads as of its own; data
// versions are read as of their time).
//
//   TimedCounts<Row> rows;
//   rows.Add(row, /*time=*/3, +1);
//   std::vector<std::pair<Row, int64_t>> now = rows.AsOf(3);
//   rows.Settle(/*upto=*/2, /*after=*/65536);   // history before 3 folded
//
// Costs: Add is amortized O(1); AsOf sorts a copy of everything held;
// Settle folds old changes into sorted runs of geometric sizes, so a few
// changes settle in about their number times the history's logarithm.
// Instantiated (timed_counts.cc) for the record types the mesh captures.
// Thread compatibility: one caller at a time (the mesh holds its lock).
#pragma once

#include <cstddef>
#include <cstdint>
#include <tuple>
#include <utility>
#include <vector>

namespace diffmesh {

template <class K>
class TimedCounts {
 public:
  void Add(const K& key, uint64_t time, int64_t diff) {
    if (recent_.empty() || recent_.back().size() == kChunk) {
      recent_.emplace_back();
    }
    recent_.back().emplace_back(key, time, diff);
    CountMark(time, diff);
  }
  // The counts as of `upto` (inclusive), sorted by key, zeros dropped.
  // REQUIRES: `upto` is not before the last Settle.
  std::vector<std::pair<K, int64_t>> AsOf(uint64_t upto) const;
  // Folds every change at or before `upto` into the settled runs (the keys
  // of different runs may repeat; only their sums count) once they are at
  // least `after` and more than twice what they add up to; until then
  // holding them costs about what settled runs would (a large first load
  // is not sorted again).
  void Settle(uint64_t upto, size_t after);

 private:
  // Every change at or before some time, summed, as runs each sorted by
  // key with no zeros, of geometrically decreasing sizes (each less than
  // half the one before): settling a few changes into a large history
  // costs about their number times its logarithm, not its size.
  std::vector<std::vector<std::pair<K, int64_t>>> settled_;
  // The later changes, in arrival order, in chunks of at most kChunk (a
  // large history grows without being copied to a larger buffer).
  static constexpr size_t kChunk = size_t{1} << 16;
  std::vector<std::vector<std::tuple<K, uint64_t, int64_t>>> recent_;
  // How many of `recent_` are at each time, and their diffs' sum (in
  // arrival order; a time may appear more than once).
  struct Mark {
    uint64_t time;
    size_t count;
    int64_t net;
  };
  std::vector<Mark> marks_;
  // The first `counted_` marks are at or before the last Settle's time and
  // add up to `old_count_` changes summing to `old_net_` (so each Settle
  // looks only at the marks new since the last one).
  size_t counted_ = 0;
  size_t old_count_ = 0;
  int64_t old_net_ = 0;
  void CountMark(uint64_t time, int64_t diff) {
    if (marks_.empty() || marks_.back().time != time) {
      marks_.push_back({time, 0, 0});
    }
    ++marks_.back().count;
    marks_.back().net += diff;
  }
};

}  // namespace diffmesh
