#include "engine/progress.h"

#include <algorithm>
#include <utility>

#include "engine/check.h"
#include "engine/update.h"

namespace diffmesh {

int ProgressTracker::AddSource(int op, int depth) {
  DM_CHECK_MSG(!built_, "dataflow already running: add operators first");
  sources_.push_back(Source{op, depth, {}, {}});
  return static_cast<int>(sources_.size()) - 1;
}

int ProgressTracker::AddTarget(int op, int depth) {
  DM_CHECK_MSG(!built_, "dataflow already running: add operators first");
  targets_.push_back(Target{});
  targets_.back().op = op;
  targets_.back().depth = depth;
  return static_cast<int>(targets_.size()) - 1;
}

void ProgressTracker::AddEdge(int source, int target) {
  DM_CHECK_MSG(!built_, "dataflow already running: connect operators first");
  DM_CHECK_MSG(sources_[source].depth == targets_[target].depth,
               "edge joins scopes of different depth");
  sources_[source].edges.push_back(target);
}

void ProgressTracker::AddInternal(int target, int source,
                                  const PathSummary& summary) {
  DM_CHECK(!built_);
  DM_CHECK_MSG(summary.keep <= targets_[target].depth &&
                   summary.output_depth() == sources_[source].depth,
               "internal summary does not fit the ports' depths");
  targets_[target].internal.emplace_back(source, summary);
}

std::vector<ProgressTracker::Reach> ProgressTracker::ComputeReach(
    bool from_source, int index) const {
  // Worklist over (location, summary); a summary reaching a target is kept
  // only if no kept summary is <= it, which bounds the walk around loops.
  std::vector<Antichain<PathSummary>> at_target(targets_.size());
  struct Item {
    bool is_source;
    int index;
    PathSummary summary;
  };
  int depth = from_source ? sources_[index].depth : targets_[index].depth;
  std::vector<Item> work = {{from_source, index, PathSummary::Identity(depth)}};
  while (!work.empty()) {
    Item item = work.back();
    work.pop_back();
    if (item.is_source) {
      for (int t : sources_[item.index].edges) {
        work.push_back({false, t, item.summary});
      }
    } else {
      if (!at_target[item.index].Insert(item.summary)) continue;
      for (const auto& [s, internal] : targets_[item.index].internal) {
        work.push_back({true, s, item.summary.Then(internal)});
      }
    }
  }
  std::vector<Reach> reach;
  for (size_t t = 0; t < at_target.size(); ++t) {
    if (!at_target[t].empty() && targets_[t].observed) {
      reach.push_back({static_cast<int>(t), std::move(at_target[t])});
    }
  }
  return reach;
}

void ProgressTracker::Build() {
  if (built_) return;
  for (size_t s = 0; s < sources_.size(); ++s) {
    sources_[s].reach = ComputeReach(true, static_cast<int>(s));
  }
  for (size_t t = 0; t < targets_.size(); ++t) {
    targets_[t].reach = ComputeReach(false, static_cast<int>(t));
  }
  built_ = true;
}

void ProgressTracker::UpdateSource(int source, const Timestamp& t,
                                   int64_t delta) {
  pending_.push_back({true, source, t, delta});
}

void ProgressTracker::UpdateTarget(int target, const Timestamp& t,
                                   int64_t delta) {
  pending_.push_back({false, target, t, delta});
}

void ConsolidateProgress(std::vector<ProgressChange>& changes) {
  if (changes.size() < 2) return;
  std::sort(changes.begin(), changes.end(),
            [](const ProgressChange& a, const ProgressChange& b) {
              if (a.is_source != b.is_source) return a.is_source;
              if (a.index != b.index) return a.index < b.index;
              return a.time < b.time;
            });
  CoalesceSorted(
      changes,
      [](const ProgressChange& a, const ProgressChange& b) {
        return a.is_source == b.is_source && a.index == b.index &&
               a.time == b.time;
      },
      [](ProgressChange& p) -> int64_t& { return p.delta; });
}

void ProgressTracker::Propagate(std::vector<int>* changed_targets) {
  DM_CHECK(built_);
  // Changes that cancel (an input advancing through several times between
  // propagations, a capability dropped and retaken) are summed away first:
  // each remaining one costs a walk over everything its location reaches.
  ConsolidateProgress(pending_);
  for (size_t i = 0; i < pending_.size();) {
    const bool is_source = pending_[i].is_source;
    const int index = pending_[i].index;
    MutableAntichain<Timestamp>& own =
        is_source ? sources_[index].own : targets_[index].own;
    const std::vector<Reach>& reach =
        is_source ? sources_[index].reach : targets_[index].reach;
    Antichain<Timestamp> before = own.frontier();
    for (; i < pending_.size() && pending_[i].is_source == is_source &&
           pending_[i].index == index;
         ++i) {
      own.Update(pending_[i].time, pending_[i].delta);
    }
    if (!own.Rebuild()) continue;
    const Antichain<Timestamp>& after = own.frontier();
    for (const Timestamp& t : before) {
      if (std::find(after.begin(), after.end(), t) == after.end())
        Imply(reach, t, -1);
    }
    for (const Timestamp& t : after) {
      if (std::find(before.begin(), before.end(), t) == before.end())
        Imply(reach, t, +1);
    }
  }
  pending_.clear();
  for (int t : dirty_) {
    Target& target = targets_[t];
    target.dirty = false;
    if (target.implied.Rebuild()) {
      ++target.version;
      changed_targets->push_back(t);
    }
  }
  dirty_.clear();
}

void ProgressTracker::Imply(const std::vector<Reach>& reach, const Timestamp& t,
                            int64_t delta) {
  for (const Reach& r : reach) {
    Target& target = targets_[r.target];
    for (const PathSummary& s : r.summaries) {
      target.implied.Update(s.Apply(t), delta);
    }
    if (!target.dirty) {
      target.dirty = true;
      dirty_.push_back(r.target);
    }
  }
}

bool ProgressTracker::Quiet() const {
  if (!pending_.empty()) return false;
  for (const Source& s : sources_) {
    if (!s.own.frontier().empty()) return false;
  }
  for (const Target& t : targets_) {
    if (!t.own.frontier().empty()) return false;
  }
  return true;
}

size_t ProgressTracker::bookkeeping_size() const {
  size_t total = pending_.size();
  for (const Source& s : sources_) total += s.own.distinct_times();
  for (const Target& t : targets_) {
    total += t.own.distinct_times() + t.implied.distinct_times();
  }
  return total;
}

}  // namespace diffmesh
