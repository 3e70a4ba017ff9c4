// ProductDataflows: the dataflows that compute a mesh's products on one
// worker -- the products' dataflow ("mesh.products", built before the
// first Advance) and those added while the mesh runs (LiveDataflows) --
// and the rules of which table may compute which product, when.
//
//   ProductDataflows flows({.worker = &worker, .history = history, ...});
//   DM_RETURN_IF_ERROR(flows.CheckComputable(id, table, "publish a@1.0"));
//   ... activate the version ...
//   RowCollection rows = flows.Compute(id, table);   // captured
//   DM_ASSIGN_OR_RETURN(RowCollection used, flows.Use(id));
//   DM_RETURN_IF_ERROR(flows.Close(catalog_behind));   // at each Advance
//
// Rules. Before the first Advance a product is computed by a table of the
// products' dataflow; after it, by a table built on Use in the current
// time's new dataflow (a running dataflow takes no new operators). Once a
// product is computed in a run, its computation is fixed: publishing it
// again takes the same table (or the product's own rows).
//
// Every worker makes the same calls in the same order, so every worker
// builds the same dataflows; the worker that feeds (worker 0) loads the
// product's current rows into a Use, from the history's latest snapshot.
// Thread compatibility: one worker's thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "catalog/live_dataflows.h"
#include "catalog/mesh_history.h"
#include "catalog/product_captures.h"
#include "catalog/shared_arrangements.h"
#include "catalog/table.h"

namespace diffmesh {

class Graph;
class Worker;

class ProductDataflows {
 public:
  struct Options {
    Worker* worker = nullptr;
    std::mutex* mu = nullptr;  // guards `history`
    MeshHistory* history = nullptr;
    // Held by the captures' callbacks, which live as long as the worker:
    // keeps `mu` and `history` alive.
    std::shared_ptr<const void> keep;
    bool feeder = false;  // this worker loads what Use starts from
    // This worker writes its process's history (worker 0 in one process;
    // the first worker of each process across processes).
    bool keeper = false;
    const uint64_t* time = nullptr;  // the mesh's open time
    // Whether product `id` has an active version.
    std::function<bool(const std::string&)> active;
  };
  explicit ProductDataflows(Options options);
  ProductDataflows(const ProductDataflows&) = delete;
  ProductDataflows& operator=(const ProductDataflows&) = delete;

  Graph& products_graph() const { return *products_graph_; }
  // The arrangements the tables built on products share (give it to
  // Table::FromProduct).
  const std::shared_ptr<SharedArrangements>& shared() const { return shared_; }
  // Whether the products' dataflow runs (the first Advance has begun).
  bool running() const;

  // Whether `table` may compute product `id` now (see "Rules"); errors
  // start with `what`: InvalidArgument for a table of no dataflow of this
  // time, FailedPrecondition for a table joining a running dataflow or a
  // product computed by another table in this run.
  absl::Status CheckComputable(const std::string& id, const Table& table,
                               const std::string& what);
  // Product `id` is computed by `table` (REQUIRES: CheckComputable): its
  // rows are captured into the history, once; returns them as they pass
  // the capture.
  RowCollection Compute(const std::string& id, const Table& table);
  // Quarantine rows of `id` (a source's) into the history.
  void CaptureQuarantine(const std::string& id,
                         const RowCollection& quarantine);
  // Whether the history keeps product `id`'s rows once it is computed
  // (SourceOptions::keep_rows); before Compute.
  void KeepRows(const std::string& id, bool keep);
  // Whether product `id`'s rows are computed in this run.
  bool computed(const std::string& id) const;
  // Product `id`'s rows to build on: before the first Advance, as they
  // pass its capture; after it, a tap in this time's new dataflow that
  // starts at the open time from the rows as of the last closed time.
  // FailedPrecondition if `id` is not computed in this run.
  absl::StatusOr<RowCollection> Use(const std::string& id);
  // Product `id` was retired: the dataflow added while running that
  // computes it stops once nothing there or downstream is active.
  void Retired(const std::string& id);

  // Gathers (see Mesh's "Gathers"): a new one, before the first
  // Advance; feeding one with a table built on Use in this time; taking a
  // feed out. Errors as Mesh::NewGather, Gather and Ungather say.
  struct NewGathered {
    int gather = 0;
    RowCollection rows;
  };
  absl::StatusOr<NewGathered> NewGather();
  absl::StatusOr<int> Gather(int gather, const Table& table);
  absl::Status Ungather(int feed);

  // Runs every dataflow until its results for the open time are final and
  // captured (and `behind()`, the other dataflows' own test, is
  // false), starting this time's new dataflow and stopping those whose
  // products were all retired. InternalError if they stall.
  absl::Status Close(const std::function<bool()>& behind);

 private:
  // Product `id`, computed by a dataflow added while running that stops
  // now, leaves: its rows leave the history at this time, and published
  // again it is built anew on Use.
  void Stopped(const std::string& id);

  Options options_;
  Graph* products_graph_ = nullptr;
  std::shared_ptr<SharedArrangements> shared_;
  std::unique_ptr<LiveDataflows> live_;
  std::unique_ptr<ProductCaptures> captures_;
};

}  // namespace diffmesh
