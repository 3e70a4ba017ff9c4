// TransitiveClosure against a from-scratch graph walk at every time, with
// edges inserted and retracted at random (cycles included), on 1-4 workers.
#include "operators/transitive_closure.h"

#include <cstdint>
#include <map>
#include <queue>
#include <set>
#include <utility>

#include "gtest/gtest.h"
#include "tests/operators/oracle.h"

namespace diffmesh {
namespace {

using ::diffmesh::testing::CheckAgainstOracle;
using ::diffmesh::testing::GenRec;
using ::diffmesh::testing::Multiset;
using ::diffmesh::testing::Rec;

Multiset<Rec> WalkAll(const Multiset<Rec>& edges) {
  std::map<uint32_t, std::set<uint32_t>> out;
  std::set<uint32_t> nodes;
  for (const auto& [e, m] : edges) {
    if (m <= 0) continue;
    out[e.first].insert(e.second);
    nodes.insert(e.first);
  }
  Multiset<Rec> closure;
  for (uint32_t start : nodes) {
    std::set<uint32_t> seen;
    std::queue<uint32_t> todo;
    todo.push(start);
    while (!todo.empty()) {
      uint32_t at = todo.front();
      todo.pop();
      for (uint32_t next : out[at]) {
        if (seen.insert(next).second) todo.push(next);
      }
    }
    for (uint32_t end : seen) closure[{start, end}] = 1;
  }
  return closure;
}

TEST(ClosureOracle, RandomEdgesWithRetractions) {
  testing::OracleOptions options;
  options.max_updates_per_round = 5;
  CheckAgainstOracle<uint64_t, Rec, Rec, Rec>(
      "closure",
      [](const auto& edges, const auto&) { return TransitiveClosure(edges); },
      [](const Multiset<Rec>& edges, const Multiset<Rec>&) {
        return WalkAll(edges);
      },
      GenRec, GenRec, options);
}

}  // namespace
}  // namespace diffmesh
