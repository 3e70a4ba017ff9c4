// reach: the nodes reachable from a set of roots (roots included), kept up
// to date as roots and edges change.
//
//   build/examples/reach --roots ROOTS.log --edges EDGES.log
//
// Prints the changes of the reachable set as `TIME DIFF NODE`. The dataflow
// is graphs::Reach in examples/graph_algorithms.h.
#include "examples/log_driver.h"

int main(int argc, char** argv) {
  return diffmesh::examples::RunGraphExample(
      argc, argv, /*needs_roots=*/true,
      [](const auto& roots, const auto& edges) {
        return diffmesh::graphs::Reach(roots, edges);
      });
}
