// bfs: shortest directed path lengths from a set of roots, kept up to date
// as roots and edges change.
//
//   build/examples/bfs --roots ROOTS.log --edges EDGES.log
//
// ROOTS.log lines are `TIME DIFF NODE`, EDGES.log lines `TIME DIFF SRC DST`.
// Prints the changes of (node, dist) as `TIME DIFF NODE DIST`. The dataflow
// itself is graphs::Bfs in examples/graph_algorithms.h: an Iterate whose body
// joins the current distances with the edges and keeps the minimum per node.
#include "examples/log_driver.h"

int main(int argc, char** argv) {
  return diffmesh::examples::RunGraphExample(
      argc, argv, /*needs_roots=*/true,
      [](const auto& roots, const auto& edges) {
        return diffmesh::graphs::Bfs(roots, edges);
      });
}
