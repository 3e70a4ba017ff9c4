// ToEveryProcess: what a mesh's history captures, sent to every process.
//
// Each process keeps a replica of the mesh's history (MeshGroup), written
// by its first worker, so reads, snapshots and subscriptions on any worker
// of any process see all of it. Within one process every worker captures
// its own share into the one history, and ToEveryProcess returns the
// collection itself; across processes it routes every update to the first
// worker of each process, which captures all of them.
//
//   auto watched = Inspect(ToEveryProcess(edges), add_to_history);
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "engine/collection.h"
#include "engine/fabric.h"
#include "engine/graph.h"
#include "operators/exchange.h"
#include "operators/flat_map.h"
#include "operators/map.h"

namespace diffmesh {

template <class D, class T, class R>
Collection<D, T, R> ToEveryProcess(const Collection<D, T, R>& input) {
  const Fabric* fabric = input.graph()->fabric();
  if (fabric == nullptr || fabric->link() == nullptr) return input;
  const int threads = fabric->threads();
  const int peers = fabric->peers();
  using Routed = std::pair<uint64_t, D>;
  auto copies = FlatMap(input, [threads, peers](const D& d) {
    std::vector<Routed> out;
    out.reserve(static_cast<size_t>(peers / threads));
    for (int first = 0; first < peers; first += threads) {
      out.emplace_back(static_cast<uint64_t>(first), d);
    }
    return out;
  });
  auto routed = Exchange(copies, [](const Routed& copy) { return copy.first; });
  return Map(routed, [](const Routed& copy) { return copy.second; });
}

}  // namespace diffmesh
