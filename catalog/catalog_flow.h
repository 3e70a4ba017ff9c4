// CatalogFlow: the mesh's catalog dataflow. Product descriptors and lineage
// edges go in; the catalog, the search index (each product's id,
// description, tags and column names, and the words in them, lower-cased),
// the lineage and its transitive closure (an Iterate) are maintained from
// them incrementally and every change goes to the mesh's history.
//
//   CatalogFlow flow(worker.NewDataflow("mesh.catalog"), feeds, &mu, history);
//   flow.Insert(stored_product);           // its descriptor and its edges
//   flow.AdvanceTo(next);
//   worker.StepWhile([&] { return flow.Behind(next); });
//
// Only the worker that feeds the mesh (worker 0) puts anything in; on the
// others Insert, Remove and Replace do nothing, and the flow computes its
// share of what worker 0 fed.
//
// The same descriptors and edges also go into a second dataflow (the
// products'), as MeshMetadata, so that layers above the catalog
// (governance/) compute on them next to the products' rows, at the same
// times.
//
// Thread-safety: one worker's thread; the history is written under `mu`.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "catalog/descriptor.h"
#include "catalog/lineage.h"
#include "engine/collection.h"
#include "engine/input.h"
#include "engine/probe.h"

namespace diffmesh {

class Graph;
class MeshHistory;

// The catalog's inputs as collections of the products' dataflow.
struct MeshMetadata {
  Collection<ProductDescriptor> descriptors;  // active product versions
  Collection<LineageEdge> edges;              // their lineage edges
};

class CatalogFlow {
 public:
  CatalogFlow() = default;
  // Builds the dataflow in `graph`. `keep` is held by its operators (which
  // live as long as the worker): it keeps `mu` and `history` alive.
  // `products` is the dataflow metadata() is built in.
  CatalogFlow(Graph& graph, Graph& products, bool feeds, std::mutex* mu,
              MeshHistory* history, std::shared_ptr<const void> keep);

  // A product version's descriptor and lineage edges, in or out.
  void Insert(const ProductDescriptor& descriptor,
              const std::vector<LineageEdge>& edges);
  void Remove(const ProductDescriptor& descriptor,
              const std::vector<LineageEdge>& edges);
  // The same version's metadata changed: its edges stay.
  void Replace(const ProductDescriptor& before, const ProductDescriptor& after);
  // More lineage edges of a version already in, or fewer.
  void AddEdges(const std::vector<LineageEdge>& edges);
  void RemoveEdges(const std::vector<LineageEdge>& edges);
  void AdvanceTo(uint64_t time);
  // Whether some output has not yet passed `time`.
  bool Behind(uint64_t time) const;
  const MeshMetadata& metadata() const { return metadata_; }

 private:
  bool feeds_ = false;
  InputHandle<ProductDescriptor> descriptors_;
  InputHandle<LineageEdge> edges_;
  InputHandle<ProductDescriptor> metadata_descriptors_;
  InputHandle<LineageEdge> metadata_edges_;
  MeshMetadata metadata_;
  std::vector<Probe<uint64_t>> probes_;
};

}  // namespace diffmesh
