// Oracle tests for Iterate/Variable over random graphs with edge and root
// insertions and deletions at many times: reach, bfs and wcc must equal a
// from-scratch graph walk at every time.
#include "operators/iterate.h"

#include <cstdint>
#include <map>
#include <queue>
#include <set>
#include <utility>

#include "examples/graph_algorithms.h"
#include "tests/operators/oracle.h"

namespace diffmesh::testing {
namespace {

using graphs::Edge;
using graphs::Node;

constexpr Node kNodes = 12;
Node GenNode(std::mt19937_64& rng) { return static_cast<Node>(rng() % kNodes); }
Edge GenEdge(std::mt19937_64& rng) { return {GenNode(rng), GenNode(rng)}; }

// Present = positive multiplicity (the dataflows treat collections as sets
// through distinct/min; the generators never drive counts negative).
std::map<Node, uint32_t> Distances(const Multiset<Node>& roots,
                                   const Multiset<Edge>& edges) {
  std::map<Node, std::vector<Node>> adj;
  for (const auto& [e, m] : edges) {
    if (m > 0) adj[e.first].push_back(e.second);
  }
  std::map<Node, uint32_t> dist;
  std::queue<Node> queue;
  for (const auto& [r, m] : roots) {
    if (m > 0 && dist.emplace(r, 0).second) queue.push(r);
  }
  while (!queue.empty()) {
    Node n = queue.front();
    queue.pop();
    for (Node d : adj[n]) {
      if (dist.emplace(d, dist[n] + 1).second) queue.push(d);
    }
  }
  return dist;
}

TEST(IterateOracle, Reach) {
  CheckAgainstOracle<uint64_t, Node, Edge, Node>(
      "reach",
      [](auto roots, auto edges) { return graphs::Reach(roots, edges); },
      [](const Multiset<Node>& roots, const Multiset<Edge>& edges) {
        Multiset<Node> out;
        for (const auto& [n, d] : Distances(roots, edges)) out[n] = 1;
        return out;
      },
      GenNode, GenEdge, {.rounds = 10, .max_updates_per_round = 8});
}

TEST(IterateOracle, Bfs) {
  using Out = std::pair<Node, uint32_t>;
  CheckAgainstOracle<uint64_t, Node, Edge, Out>(
      "bfs", [](auto roots, auto edges) { return graphs::Bfs(roots, edges); },
      [](const Multiset<Node>& roots, const Multiset<Edge>& edges) {
        Multiset<Out> out;
        for (const auto& [n, d] : Distances(roots, edges)) out[{n, d}] = 1;
        return out;
      },
      GenNode, GenEdge, {.rounds = 10, .max_updates_per_round = 8});
}

TEST(IterateOracle, Wcc) {
  using Out = std::pair<Node, Node>;
  CheckAgainstOracle<uint64_t, Node, Edge, Out>(
      "wcc", [](auto, auto edges) { return graphs::Wcc(edges); },
      [](const Multiset<Node>&, const Multiset<Edge>& edges) {
        std::map<Node, std::set<Node>> adj;
        for (const auto& [e, m] : edges) {
          if (m <= 0) continue;
          adj[e.first].insert(e.second);
          adj[e.second].insert(e.first);
        }
        Multiset<Out> out;
        std::set<Node> seen;
        for (const auto& [start, unused] :
             adj) {  // ascending: start is the min
          if (seen.count(start)) continue;
          std::vector<Node> stack = {start};
          seen.insert(start);
          while (!stack.empty()) {
            Node n = stack.back();
            stack.pop_back();
            out[{n, start}] = 1;
            for (Node d : adj[n]) {
              if (seen.insert(d).second) stack.push_back(d);
            }
          }
        }
        return out;
      },
      GenNode, GenEdge, {.rounds = 10, .max_updates_per_round = 8});
}

// An explicit Variable: the transitive closure of a relation, defined in
// terms of itself (paths = edges + paths . edges).
TEST(VariableTest, TransitiveClosure) {
  CheckAgainstOracle<uint64_t, Node, Edge, Edge>(
      "closure",
      [](auto, auto edges) {
        using Inner = Product<uint64_t, uint64_t>;
        auto inner_edges = Enter(edges);
        Variable<Edge, Inner, int64_t> paths(inner_edges);
        auto by_dst = Map(paths.collection(), [](const Edge& e) {
          return Edge(e.second, e.first);
        });
        auto extended = JoinMap(by_dst, inner_edges,
                                [](const Node&, const Node& src,
                                   const Node& dst) { return Edge(src, dst); });
        auto next = Distinct(Concat(extended, inner_edges));
        paths.Set(next);
        return Leave(next);
      },
      [](const Multiset<Node>&, const Multiset<Edge>& edges) {
        Multiset<Edge> out;
        for (Node s = 0; s < kNodes; ++s) {
          Multiset<Node> root = {{s, 1}};
          for (const auto& [n, d] : Distances(root, edges)) {
            if (d > 0) out[{s, n}] = 1;
          }
          // s reaches itself only through a cycle.
          for (const auto& [e, m] : edges) {
            if (m > 0 && e.second == s && Distances(root, edges).count(e.first))
              out[{s, s}] = 1;
          }
        }
        return out;
      },
      GenNode, GenEdge, {.rounds = 8, .max_updates_per_round = 6});
}

}  // namespace
}  // namespace diffmesh::testing
