#include "catalog/shared_arrangements.h"

#include "engine/graph.h"

namespace diffmesh {

std::optional<SharedArrangements::Keyed> SharedArrangements::Find(
    const Key& key, Graph* graph) {
  auto it = made_.find(key);
  if (it == made_.end()) return std::nullopt;
  std::map<Graph*, Keyed>& by_graph = it->second;
  if (auto here = by_graph.find(graph); here != by_graph.end()) {
    return here->second;
  }
  auto home = by_graph.find(products_graph_);
  if (home == by_graph.end() || graph == products_graph_ ||
      !products_graph_->sealed() || graph->sealed()) {
    return std::nullopt;
  }
  Keyed imported = Import(*graph, home->second, &stops_[graph]);
  by_graph.emplace(graph, imported);
  ++imports_;
  return imported;
}

void SharedArrangements::Add(const Key& key, Graph* graph,
                             const Keyed& arranged) {
  made_[key].emplace(graph, arranged);
}

void SharedArrangements::StopImports(Graph* graph) {
  auto it = stops_.find(graph);
  if (it != stops_.end()) it->second();
}

void SharedArrangements::Forget(Graph* graph) {
  stops_.erase(graph);
  for (auto it = made_.begin(); it != made_.end();) {
    it->second.erase(graph);
    it = it->second.empty() ? made_.erase(it) : std::next(it);
  }
}

}  // namespace diffmesh
