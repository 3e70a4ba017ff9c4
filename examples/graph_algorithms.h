// Graph dataflows shared by the example programs, the bfs driver and the
// tests: reachability, breadth-first distances and connected components, each
// an Iterate over an edge collection. Read these to see the C++ API at work.
//
//   auto dists = Bfs(roots, edges);   // (node, dist) for every reachable node
#pragma once

#include <array>
#include <cstdint>
#include <utility>

#include "operators/arrange.h"
#include "operators/concat.h"
#include "operators/distinct.h"
#include "operators/flat_map.h"
#include "operators/iterate.h"
#include "operators/join.h"
#include "operators/map.h"
#include "operators/reduce.h"

namespace diffmesh::graphs {

using Node = uint32_t;
using Edge = std::pair<Node, Node>;

// Nodes reachable from any root (roots included).
template <class T, class R>
Collection<Node, T, R> Reach(const Collection<Node, T, R>& roots,
                             const Collection<Edge, T, R>& edges) {
  // Edges are arranged once, outside the loop; every iteration reads that
  // one trace.
  auto by_source = ArrangeByKey(edges);
  return Iterate(roots, [&](const auto& reached) {
    // Every reached node's out-edges lead to reached nodes.
    auto next =
        JoinCore(ArrangeBySelf(reached), EnterArranged(by_source),
                 [](const Node&, const Unit&, const Node& dst) { return dst; });
    return Distinct(Concat(next, Enter(roots)));
  });
}

// (node, length of the shortest directed path from any root); roots have 0.
template <class T, class R>
Collection<std::pair<Node, uint32_t>, T, R> Bfs(
    const Collection<Node, T, R>& roots, const Collection<Edge, T, R>& edges) {
  auto start =
      Map(roots, [](Node n) { return std::pair<Node, uint32_t>(n, 0); });
  auto by_source = ArrangeByKey(edges);  // once, outside the loop
  return Iterate(start, [&](const auto& dists) {
    // One step further along every edge, then the minimum per node.
    auto stepped =
        JoinCore(ArrangeByKey(dists), EnterArranged(by_source),
                 [](const Node&, const uint32_t& d, const Node& dst) {
                   return std::pair<Node, uint32_t>(dst, d + 1);
                 });
    return Reduce<uint32_t>(Concat(stepped, Enter(start)),
                            [](const Node&, const auto& input, auto* output) {
                              output->emplace_back(input.front().first,
                                                   1);  // sorted: min
                            });
  });
}

// (node, smallest node id in its weakly connected component), for every node
// that touches an edge; edges are taken as undirected.
template <class T, class R>
Collection<std::pair<Node, Node>, T, R> Wcc(
    const Collection<Edge, T, R>& edges) {
  auto both = Concat(
      edges, Map(edges, [](const Edge& e) { return Edge(e.second, e.first); }));
  auto nodes = Distinct(FlatMap(edges, [](const Edge& e) {
    return std::array<Node, 2>{e.first, e.second};
  }));
  auto labels = Map(nodes, [](Node n) { return std::pair<Node, Node>(n, n); });
  auto by_source = ArrangeByKey(both);  // once, outside the loop
  return Iterate(labels, [&](const auto& current) {
    auto spread = JoinCore(ArrangeByKey(current), EnterArranged(by_source),
                           [](const Node&, const Node& label, const Node& dst) {
                             return std::pair<Node, Node>(dst, label);
                           });
    return Reduce<Node>(Concat(spread, Enter(labels)),
                        [](const Node&, const auto& input, auto* output) {
                          output->emplace_back(input.front().first, 1);
                        });
  });
}

}  // namespace diffmesh::graphs
