// Progress tracking: which times may still arrive at each operator input.
//
//   ProgressTracker tracker;
//   int out = tracker.AddSource(/*op=*/0, /*depth=*/1);
//   int in = tracker.AddTarget(/*op=*/1, /*depth=*/1);
//   tracker.AddEdge(out, in);
//   tracker.Build();
//   tracker.UpdateSource(out, TimeCodec<uint64_t>::Encode(0), +1);
//   tracker.Propagate(&changed);   // tracker.frontier(in) == {0}
//
// Locations are operator outputs ("sources", where capabilities live) and
// operator inputs ("targets", where messages in flight live). A pointstamp is
// a (location, time) with a count. Build() computes, for every location, the
// antichain of path summaries to every target it can reach, walking edges and
// each operator's internal summaries (loops included: a feedback summary adds
// +1, so the walk terminates).
//
// Two levels: each location keeps its own pointstamp counts; only changes of
// that location's frontier (the minimal times with a positive count) travel
// on to the targets it reaches. A location's count may be negative for a
// while when several workers share a dataflow (a receiver's -1 ahead of its
// sender's +1, see engine/progress_exchange.h); at this level it can only
// hide that location's own contribution, never cancel another location's.
//
// Invariant: after Propagate(), frontier(target) is the lower envelope of
// { s(t) : t in frontier(own counts of l), s in paths(l -> target) }. No
// message can ever arrive at `target` at a time not beyond it.
//
// Costs: a pointstamp change costs O(log) at its location; only a change of
// that location's frontier costs O(reachable targets x summaries). Thread
// compatibility: one tracker per worker; changes from other workers arrive
// as messages and are applied here.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/antichain.h"
#include "engine/summary.h"
#include "engine/timestamp.h"

namespace diffmesh {

// A change of a pointstamp count: at an operator output (source) or input
// (target), at `time`, by `delta`.
struct ProgressChange {
  bool is_source;
  int index;
  Timestamp time;
  int64_t delta;
};

// Sums changes at the same (location, time) and drops those that cancel.
void ConsolidateProgress(std::vector<ProgressChange>& changes);

class ProgressTracker {
 public:
  int AddSource(int op, int depth);
  int AddTarget(int op, int depth);
  void AddEdge(int source, int target);
  // Declares that a message at `target` lets its operator emit at `source`
  // at times summarized by `summary`.
  void AddInternal(int target, int source, const PathSummary& summary);
  // Targets whose frontier nobody reads are not maintained: frontier() of
  // an unobserved target stays empty (its counts still hold frontiers of
  // the observed targets it reaches). By default every target is observed.
  // REQUIRES: before Build.
  void SetObserved(int target, bool observed) {
    targets_[target].observed = observed;
  }
  bool observed(int target) const { return targets_[target].observed; }
  // No pointstamp is held anywhere (after Propagate).
  bool Quiet() const;
  // REQUIRES: all locations and edges added. Idempotent.
  void Build();
  bool built() const { return built_; }

  void UpdateSource(int source, const Timestamp& t, int64_t delta);
  void UpdateTarget(int target, const Timestamp& t, int64_t delta);
  void Update(const ProgressChange& change) { pending_.push_back(change); }
  // Applies all updates; appends the targets whose frontier changed.
  void Propagate(std::vector<int>* changed_targets);
  bool HasPendingUpdates() const { return !pending_.empty(); }

  const Antichain<Timestamp>& frontier(int target) const {
    return targets_[target].implied.frontier();
  }
  // Increments each time frontier(target) changes.
  uint64_t version(int target) const { return targets_[target].version; }
  int target_operator(int target) const { return targets_[target].op; }
  int source_operator(int source) const { return sources_[source].op; }
  int target_depth(int target) const { return targets_[target].depth; }
  int source_depth(int source) const { return sources_[source].depth; }
  size_t num_targets() const { return targets_.size(); }
  size_t num_sources() const { return sources_.size(); }
  // Distinct (time, count) entries held across all targets: stays bounded
  // when times advance, whatever the number of rounds.
  size_t bookkeeping_size() const;

 private:
  struct Reach {
    int target;
    Antichain<PathSummary> summaries;
  };
  struct Source {
    int op;
    int depth;
    std::vector<int> edges;  // targets
    std::vector<Reach> reach;
    MutableAntichain<Timestamp> own;  // capabilities held here
  };
  struct Target {
    int op;
    int depth;
    std::vector<std::pair<int, PathSummary>> internal;  // sources
    std::vector<Reach> reach;
    MutableAntichain<Timestamp> own;  // messages queued or in flight here
    MutableAntichain<Timestamp> implied;
    uint64_t version = 0;
    bool dirty = false;
    bool observed = true;
  };
  std::vector<Reach> ComputeReach(bool from_source, int index) const;
  // Adds `delta` copies of `t`, at a location's frontier, to every target
  // the location reaches.
  void Imply(const std::vector<Reach>& reach, const Timestamp& t,
             int64_t delta);

  std::vector<Source> sources_;
  std::vector<Target> targets_;
  std::vector<ProgressChange> pending_;
  std::vector<int> dirty_;
  bool built_ = false;
};

}  // namespace diffmesh
