// Antichains (frontiers): sets of mutually incomparable times.
//
//   Antichain<uint64_t> frontier(5);
//   frontier.LessEqual(7);              // true: 7 may still appear
//   AdvanceBy(uint64_t{3}, frontier);   // 5: 3 is indistinguishable from 5
//
// A frontier F stands for the times that may still appear: t is "beyond" F
// when F.LessEqual(t). The empty antichain is the frontier of a finished
// stream.
//
// Invariants: elements are pairwise incomparable and kept sorted by `<`, so
// equal sets compare equal. Insert is O(n) in the (usually tiny) size.
#pragma once

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <utility>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "engine/lattice.h"
#include "engine/wire.h"

namespace diffmesh {

template <Lattice T>
class Antichain {
 public:
  Antichain() = default;
  explicit Antichain(const T& t) { elements_.push_back(t); }
  Antichain(std::initializer_list<T> times) {
    for (const T& t : times) Insert(t);
  }

  // Inserts `t` unless some element is <= t; removes elements >= t. Returns
  // whether the set changed.
  bool Insert(const T& t) {
    for (const T& e : elements_) {
      if (diffmesh::LessEqual(e, t)) return false;
    }
    elements_.erase(
        std::remove_if(elements_.begin(), elements_.end(),
                       [&](const T& e) { return diffmesh::LessEqual(t, e); }),
        elements_.end());
    elements_.insert(std::upper_bound(elements_.begin(), elements_.end(), t),
                     t);
    return true;
  }

  // Some element is <= t: t is at or beyond this frontier.
  bool LessEqual(const T& t) const {
    for (const T& e : elements_) {
      if (diffmesh::LessEqual(e, t)) return true;
    }
    return false;
  }
  // Some element is strictly below t.
  bool LessThan(const T& t) const {
    for (const T& e : elements_) {
      if (diffmesh::LessThan(e, t)) return true;
    }
    return false;
  }
  // Every element of `other` is beyond this frontier (this <= other).
  bool Dominates(const Antichain& other) const {
    for (const T& t : other.elements_) {
      if (!LessEqual(t)) return false;
    }
    return true;
  }

  bool empty() const { return elements_.empty(); }
  size_t size() const { return elements_.size(); }
  const T* begin() const { return elements_.data(); }
  const T* end() const { return elements_.data() + elements_.size(); }
  const T& operator[](size_t i) const { return elements_[i]; }
  void clear() { elements_.clear(); }

  friend bool operator==(const Antichain& a, const Antichain& b) {
    return a.elements_ == b.elements_;
  }

  // Crosses processes as its elements (engine/wire.h); elements that are
  // not an antichain are malformed.
  void WireEncode(WireWriter& writer) const {
    diffmesh::WireEncode(writer, elements_);
  }
  bool WireDecode(WireReader& reader) {
    absl::InlinedVector<T, 1> elements;
    if (!diffmesh::WireDecode(reader, elements)) return false;
    elements_.clear();
    for (const T& t : elements) {
      if (!Insert(t)) return reader.Fail();
    }
    return true;
  }

 private:
  absl::InlinedVector<T, 1> elements_;
};

// The minimal elements of `times`.
template <Lattice T, class Range>
Antichain<T> LowerEnvelope(const Range& times) {
  Antichain<T> result;
  for (const T& t : times) result.Insert(t);
  return result;
}

// The greatest lower bound of two frontiers: times beyond either.
template <Lattice T>
Antichain<T> MeetFrontiers(const Antichain<T>& a, const Antichain<T>& b) {
  Antichain<T> result = a;
  for (const T& t : b) result.Insert(t);
  return result;
}

// The least upper bound of two frontiers: times beyond both.
template <Lattice T>
Antichain<T> JoinFrontiers(const Antichain<T>& a, const Antichain<T>& b) {
  Antichain<T> result;
  for (const T& x : a) {
    for (const T& y : b) result.Insert(diffmesh::Join(x, y));
  }
  return result;
}

// Advances `t` by `frontier`: the least time that every time beyond the
// frontier compares with exactly as `t` does. Accumulations at times beyond
// `frontier` are unchanged when every update's time is advanced this way
// (logical compaction). An empty frontier leaves `t` alone.
template <Lattice T>
T AdvanceBy(const T& t, const Antichain<T>& frontier) {
  if (frontier.empty()) return t;
  T result = diffmesh::Join(t, frontier[0]);
  for (size_t i = 1; i < frontier.size(); ++i) {
    result = diffmesh::Meet(result, diffmesh::Join(t, frontier[i]));
  }
  return result;
}

// A multiset of times with counts, and its frontier: the minimal times with a
// positive count. Used for capabilities and pointstamps.
//
// Invariants: `frontier()` equals the lower envelope of times whose count is
// positive, after Rebuild(). Counts may go negative transiently inside a
// batch of changes.
template <Lattice T>
class MutableAntichain {
 public:
  // Returns true when the frontier may have changed.
  void Update(const T& t, int64_t delta) {
    for (auto& [time, count] : counts_) {
      if (time == t) {
        count += delta;
        dirty_ = true;
        return;
      }
    }
    counts_.emplace_back(t, delta);
    dirty_ = true;
  }

  // Recomputes the frontier; returns whether it changed.
  bool Rebuild() {
    if (!dirty_) return false;
    dirty_ = false;
    counts_.erase(std::remove_if(counts_.begin(), counts_.end(),
                                 [](const auto& p) { return p.second == 0; }),
                  counts_.end());
    // Usual case (a location holds one time): no antichain to build.
    if (counts_.size() == 1 && counts_[0].second > 0) {
      const T& only = counts_[0].first;
      if (frontier_.size() == 1 && frontier_[0] == only) return false;
      frontier_ = Antichain<T>(only);
      return true;
    }
    next_.clear();
    for (const auto& [time, count] : counts_) {
      if (count > 0) next_.Insert(time);
    }
    if (next_ == frontier_) return false;
    std::swap(frontier_, next_);
    return true;
  }

  const Antichain<T>& frontier() const { return frontier_; }
  size_t distinct_times() const { return counts_.size(); }

 private:
  std::vector<std::pair<T, int64_t>> counts_;
  Antichain<T> frontier_;
  Antichain<T> next_;  // scratch for Rebuild
  bool dirty_ = false;
};

}  // namespace diffmesh
