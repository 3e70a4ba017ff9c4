// wcc: weakly connected components; each node that touches an edge is
// labelled with the smallest node id of its component.
//
//   build/examples/wcc --edges EDGES.log
//
// Prints the changes of (node, label) as `TIME DIFF NODE LABEL`. The dataflow
// is graphs::Wcc in examples/graph_algorithms.h: labels spread along edges
// taken both ways, keeping the minimum per node.
#include "examples/log_driver.h"

int main(int argc, char** argv) {
  return diffmesh::examples::RunGraphExample(
      argc, argv, /*needs_roots=*/false, [](const auto&, const auto& edges) {
        return diffmesh::graphs::Wcc(edges);
      });
}
