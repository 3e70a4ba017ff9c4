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
#include "operators/inspect.h"
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

namespace diffmesh::testing {
namespace {

// An outer arrangement entered into a loop is read there through the outer
// trace itself: one reader, one copy of the edges, and correct distances.
TEST(EnterArrangedTest, LoopReadsTheOuterTrace) {
  Worker worker;
  Graph& graph = worker.NewDataflow("enter_arranged");
  auto [edges_in, edges] = NewInput<Edge>(graph);
  auto [roots_in, roots] = NewInput<Node>(graph);
  auto by_source = ArrangeByKey(edges);
  auto start =
      Map(roots, [](Node n) { return std::pair<Node, uint32_t>(n, 0); });
  std::map<std::pair<Node, uint32_t>, int64_t> dists;
  auto result = Inspect(
      Iterate(start,
              [&](const auto& current) {
                auto stepped = JoinCore(
                    ArrangeByKey(current), EnterArranged(by_source),
                    [](const Node&, const uint32_t& d, const Node& dst) {
                      return std::pair<Node, uint32_t>(dst, d + 1);
                    });
                return Reduce<uint32_t>(
                    Concat(stepped, Enter(start)),
                    [](const Node&, const auto& in, auto* out) {
                      out->emplace_back(in.front().first, 1);
                    });
              }),
      [&](const auto& d, uint64_t, int64_t r) { dists[d] += r; });
  EXPECT_EQ(by_source.trace->NumReaders(), 1u);
  auto probe = ProbeStream(result.stream);
  for (Node n = 0; n < 50; ++n) edges_in.Insert({n, n + 1});  // a path
  roots_in.Insert(0);
  edges_in.AdvanceTo(1);
  roots_in.AdvanceTo(1);
  ASSERT_TRUE(worker.StepWhile([&] { return probe.LessThan(1); }));
  EXPECT_EQ((dists[{50, 50}]), 1);
  EXPECT_EQ(by_source.trace->StoredUpdates(), 50u);
  edges_in.Remove({10, 11});  // cut the path
  edges_in.AdvanceTo(2);
  roots_in.AdvanceTo(2);
  ASSERT_TRUE(worker.StepWhile([&] { return probe.LessThan(2); }));
  EXPECT_EQ((dists[{50, 50}]), 0);
  EXPECT_EQ((dists[{10, 10}]), 1);
  EXPECT_EQ((dists[{11, 11}]), 0);
}

}  // namespace
}  // namespace diffmesh::testing
