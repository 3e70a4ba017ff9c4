// Path summaries: how a time changes along a path of the dataflow graph.
//
//   PathSummary loop = PathSummary::Increment(2);   // feedback edge: +1 inner
//   loop.Apply(ts);                                 // (t, i) -> (t, i + 1)
//   PathSummary::Enter(1).Then(loop).Then(PathSummary::Leave(2));  // identity
//
// Every summary has one form: keep the first `keep` coordinates, adding
// `add[i]` to each, then append the constants `tail`. That form is closed
// under composition and covers identity, enter (append 0), leave (drop the
// last coordinate) and feedback (+1 on the last coordinate).
//
// Invariants: summaries are monotone; `LessEqual(a, b)` iff a(t) <= b(t) for
// every t, so an antichain of summaries keeps only the useful paths and the
// reachability fixpoint terminates around loops (a loop adds >= +1).
#pragma once

#include <array>
#include <cstdint>
#include <limits>

#include "engine/lattice.h"
#include "engine/timestamp.h"

namespace diffmesh {

struct PathSummary {
  uint8_t keep = 0;
  uint8_t tail_len = 0;
  std::array<uint64_t, kMaxTimeDepth> add{};
  std::array<uint64_t, kMaxTimeDepth> tail{};

  static PathSummary Identity(int depth) {
    PathSummary s;
    s.keep = static_cast<uint8_t>(depth);
    return s;
  }
  static PathSummary Increment(int depth) {
    PathSummary s = Identity(depth);
    s.add[depth - 1] = 1;
    return s;
  }
  static PathSummary Enter(int depth) {
    PathSummary s = Identity(depth);
    s.tail_len = 1;
    return s;
  }
  static PathSummary Leave(int depth) { return Identity(depth - 1); }

  int output_depth() const { return keep + tail_len; }

  Timestamp Apply(const Timestamp& t) const {
    Timestamp out;
    out.depth = static_cast<uint8_t>(output_depth());
    for (int i = 0; i < keep; ++i)
      out.coords[i] = SaturatingAdd(t.coords[i], add[i]);
    for (int i = 0; i < tail_len; ++i) out.coords[keep + i] = tail[i];
    return out;
  }

  // The summary of following this path, then `next`.
  PathSummary Then(const PathSummary& next) const {
    PathSummary r;
    if (next.keep <= keep) {
      r.keep = next.keep;
      for (int i = 0; i < next.keep; ++i)
        r.add[i] = SaturatingAdd(add[i], next.add[i]);
      r.tail_len = next.tail_len;
      r.tail = next.tail;
    } else {
      r.keep = keep;
      for (int i = 0; i < keep; ++i)
        r.add[i] = SaturatingAdd(add[i], next.add[i]);
      int kept_tail = next.keep - keep;
      for (int j = 0; j < kept_tail; ++j) {
        r.tail[j] = SaturatingAdd(tail[j], next.add[keep + j]);
      }
      for (int j = 0; j < next.tail_len; ++j)
        r.tail[kept_tail + j] = next.tail[j];
      r.tail_len = static_cast<uint8_t>(kept_tail + next.tail_len);
    }
    return r;
  }

  friend bool operator==(const PathSummary& a, const PathSummary& b) {
    return a.keep == b.keep && a.tail_len == b.tail_len && a.add == b.add &&
           a.tail == b.tail;
  }
  friend bool operator<(const PathSummary& a, const PathSummary& b) {
    if (a.keep != b.keep) return a.keep < b.keep;
    if (a.tail_len != b.tail_len) return a.tail_len < b.tail_len;
    if (a.add != b.add) return a.add < b.add;
    return a.tail < b.tail;
  }
  friend bool operator<=(const PathSummary& a, const PathSummary& b) {
    return !(b < a);
  }
  friend bool operator>(const PathSummary& a, const PathSummary& b) {
    return b < a;
  }
  friend bool operator>=(const PathSummary& a, const PathSummary& b) {
    return !(a < b);
  }
  friend bool operator!=(const PathSummary& a, const PathSummary& b) {
    return !(a == b);
  }

 private:
  static uint64_t SaturatingAdd(uint64_t a, uint64_t b) {
    return a > std::numeric_limits<uint64_t>::max() - b
               ? std::numeric_limits<uint64_t>::max()
               : a + b;
  }
};

// Summaries are partially ordered by their effect on every time.
template <>
struct LatticeTraits<PathSummary> {
  static constexpr bool kTotal = false;
  static bool LessEqual(const PathSummary& a, const PathSummary& b) {
    if (a.keep != b.keep || a.tail_len != b.tail_len) return false;
    for (int i = 0; i < a.keep; ++i) {
      if (a.add[i] > b.add[i]) return false;
    }
    for (int i = 0; i < a.tail_len; ++i) {
      if (a.tail[i] > b.tail[i]) return false;
    }
    return true;
  }
  // Join and meet are only needed by frontier algebra on times; summaries use
  // Antichain::Insert, which needs LessEqual alone.
  static PathSummary Join(const PathSummary& a, const PathSummary&) {
    return a;
  }
  static PathSummary Meet(const PathSummary& a, const PathSummary&) {
    return a;
  }
};

}  // namespace diffmesh
