// SharedArrangements: the keyed arrangements of products' rows that tables
// make as they are built on a mesh's products (the sides of a join, the
// input of a group by), kept on each worker so that one arrangement serves
// every table that needs the same one: two joins (or aggregates) of the
// products' dataflow on the same product and keys share one, and a product
// added while the mesh runs imports the running one (operators/import.h)
// instead of arranging the product's rows again.
//
//   SharedArrangements shared(&products_graph);
//   SharedArrangements::Key key{"sales.orders", {1}, std::nullopt};
//   if (auto found = shared.Find(key, graph)) ... // made, or imported
//   else shared.Add(key, graph, ArrangeByKey(keyed));
//
// An import follows the products' dataflow until its own dataflow stops:
// StopImports(graph) ends them, so the dataflow can complete and be
// dropped; Forget(graph) then lets go of its arrangements.
// Thread compatibility: one worker's thread (as the tables it serves).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "catalog/row.h"
#include "engine/arrangement.h"
#include "operators/import.h"

namespace diffmesh {

class Graph;

class SharedArrangements {
 public:
  using Keyed = Arranged<Row, Row>;
  // A product's rows keyed by columns `keys`, valued by columns `values`
  // (all of them when absent); rows with a null key are left out (a join's
  // side) or kept (`null_keys`: a group by's input).
  struct Key {
    std::string product;
    std::vector<int> keys;
    std::optional<std::vector<int>> values;
    bool null_keys = false;
    friend auto operator<=>(const Key&, const Key&) = default;
  };

  explicit SharedArrangements(Graph* products_graph)
      : products_graph_(products_graph) {}

  // The arrangement `key` names, for a table of dataflow `graph`: the one
  // made there, or, for a dataflow added while the mesh runs (not running
  // yet), the products' dataflow's one imported; nullopt if neither.
  std::optional<Keyed> Find(const Key& key, Graph* graph);
  // `arranged`, of dataflow `graph`, is what `key` names there.
  void Add(const Key& key, Graph* graph, const Keyed& arranged);
  // Ends the imports into `graph`.
  void StopImports(Graph* graph);
  // Lets go of `graph`'s arrangements (it is dropped).
  void Forget(Graph* graph);

  // Imports made so far (each one an arrangement not built again).
  int imports() const { return imports_; }

 private:
  Graph* products_graph_;
  std::map<Key, std::map<Graph*, Keyed>> made_;
  std::map<Graph*, ImportStop> stops_;
  int imports_ = 0;
};

}  // namespace diffmesh
