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
// Invariant: after Propagate(), frontier(target) is the lower envelope of
// { s(t) : pointstamp (l, t) has positive count, s in paths(l -> target) }.
// No message can ever arrive at `target` at a time not beyond it.
//
// Costs: a pointstamp change costs O(reachable targets x summaries). Thread
// compatibility: one tracker per worker; changes from other workers arrive as
// messages (see the workers issue) and are applied here.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/antichain.h"
#include "engine/summary.h"
#include "engine/timestamp.h"

namespace diffmesh {

class ProgressTracker {
 public:
  int AddSource(int op, int depth);
  int AddTarget(int op, int depth);
  void AddEdge(int source, int target);
  // Declares that a message at `target` lets its operator emit at `source`
  // at times summarized by `summary`.
  void AddInternal(int target, int source, const PathSummary& summary);
  // REQUIRES: all locations and edges added. Idempotent.
  void Build();
  bool built() const { return built_; }

  void UpdateSource(int source, const Timestamp& t, int64_t delta);
  void UpdateTarget(int target, const Timestamp& t, int64_t delta);
  // Applies all updates; appends the targets whose frontier changed.
  void Propagate(std::vector<int>* changed_targets);
  bool HasPendingUpdates() const { return !pending_.empty(); }

  const Antichain<Timestamp>& frontier(int target) const {
    return targets_[target].implied.frontier();
  }
  // Increments each time frontier(target) changes.
  uint64_t version(int target) const { return targets_[target].version; }
  int target_operator(int target) const { return targets_[target].op; }
  int target_depth(int target) const { return targets_[target].depth; }
  int source_depth(int source) const { return sources_[source].depth; }
  size_t num_targets() const { return targets_.size(); }
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
  };
  struct Target {
    int op;
    int depth;
    std::vector<std::pair<int, PathSummary>> internal;  // sources
    std::vector<Reach> reach;
    MutableAntichain<Timestamp> implied;
    uint64_t version = 0;
    bool dirty = false;
  };
  struct Pending {
    bool is_source;
    int index;
    Timestamp time;
    int64_t delta;
  };

  std::vector<Reach> ComputeReach(bool from_source, int index) const;

  std::vector<Source> sources_;
  std::vector<Target> targets_;
  std::vector<Pending> pending_;
  std::vector<int> dirty_;
  bool built_ = false;
};

}  // namespace diffmesh
