// TransitiveClosure: every (a, c) with a path a -> ... -> c along a
// collection of edges, maintained incrementally with Iterate, so adding or
// retracting an edge updates exactly the pairs whose paths change.
//
//   Collection<std::pair<Node, Node>> edges = ...;   // e.g. lineage
//   auto reachable = TransitiveClosure(edges);   // (from, to), distinct
//
// Cycles are fine (the result is a set); a node reaches itself only along a
// cycle. Costs: the result is quadratic in the length of the longest chain,
// which is what lineage meshes (shallow, wide) afford.
#pragma once

#include <utility>

#include "operators/arrange.h"
#include "operators/concat.h"
#include "operators/distinct.h"
#include "operators/iterate.h"
#include "operators/join.h"
#include "operators/map.h"

namespace diffmesh {

template <class N, class T, class R>
Collection<std::pair<N, N>, T, R> TransitiveClosure(
    const Collection<std::pair<N, N>, T, R>& edges) {
  auto distinct_edges = Distinct(edges);
  auto by_from = ArrangeByKey(distinct_edges);  // once, outside the loop
  return Iterate(distinct_edges, [&](const auto& paths) {
    // A path a -> b followed by an edge b -> c.
    auto by_end = Map(paths, [](const std::pair<N, N>& p) {
      return std::pair<N, N>(p.second, p.first);
    });
    auto longer = JoinCore(ArrangeByKey(by_end), EnterArranged(by_from),
                           [](const N&, const N& start, const N& end) {
                             return std::pair<N, N>(start, end);
                           });
    return Distinct(Concat(longer, Enter(distinct_edges)));
  });
}

}  // namespace diffmesh
