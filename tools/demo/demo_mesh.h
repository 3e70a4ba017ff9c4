// DemoMesh: the data mesh `diffmesh demo` runs, declared with the library's
// own API over the sample data (tools/demo/sample.h), with its store, its
// governance and the replay that drives its time.
//
//   DM_ASSIGN_OR_RETURN(auto demo, DemoMesh::Open("./diffmesh-data", sample));
//   while (!demo->done()) {
//     DM_ASSIGN_OR_RETURN(StepReport r, demo->Next());   // one simulated hour
//   }
//
// Domains and products (tier in brackets):
//   aviation       airports_raw [raw] -> airports (US airports) [curated]
//   network        routes_raw [raw] -> reachable (airports reachable from
//                  the hub ORD, with the fewest hops: an Iterate) [curated]
//   operations     flights_raw (the replay's change log) [raw], contract
//                  and profile -> flights (known delays, on_time flag)
//                  [curated] -> route_delays [curated], on_time per origin
//                  [authoritative, checked]; arrivals per destination is
//                  added to the running mesh at step kArrivalsStep, and
//                  the flights_raw contract is tightened at step
//                  kTightenStep (delays known for 99%, long delays rare:
//                  violations on the real data)
//   entertainment  movies_raw [raw] with a contract whose checks fail on
//                  the real data -> top_movies [curated]
//   crm            customers_raw (generated; email classified pii) [raw] ->
//                  customers (email masked) [curated]
//   governance     checks, metrics, violations, tiers, classification and
//                  access (governance/mesh_governance.h)
// Principals: "ana" (analyst: reads everything but pii columns, which are
// hidden from whoever is not cleared for pii),
// "sam" (steward: cleared for pii); anonymous readers see the public
// domains (aviation, network, entertainment, governance).
//
// Files: <data_dir>/live holds the source files (written from the sample
// at each open, except the flights change log, which only grows), and
// <data_dir>/store the RocksDB store. Opening again continues the replay
// after the last whole step in the log (a step cut off halfway is cut from
// the log) with the mesh restored from the store.
// Thread-safety: one thread (the mesh's worker); reads from other threads
// go through mesh().Reader().
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "catalog/mesh.h"
#include "engine/runtime.h"
#include "governance/mesh_governance.h"
#include "storage/rocks_mesh_store.h"
#include "tools/demo/sample.h"

namespace diffmesh::demo {

// The step at which operations.arrivals joins the running mesh.
inline constexpr size_t kArrivalsStep = 24;
// The step at which operations.flights_raw's contract is tightened
// (MeshGovernance::Replace, in the same time as that hour's flights).
inline constexpr size_t kTightenStep = 36;

// Bearer tokens of the demo's principals (token -> principal).
const std::map<std::string, std::string>& DemoTokens();

struct StepReport {
  size_t step = 0;  // 1-based
  std::string hour;
  int added = 0, corrected = 0, retracted = 0;
  double refresh_ms = 0;
  uint64_t time = 0;                // the mesh's time after the step
  bool product_added = false;       // operations.arrivals joined at this step
  bool contract_tightened = false;  // at this step (kTightenStep)
};

class DemoMesh {
 public:
  // Opens or restores the mesh in `data_dir` over `sample`. NotFound /
  // Unavailable from the store; FailedPrecondition when the flights log
  // there was written from another sample (remove the directory to start
  // over); errors of the declarations name the product.
  static absl::StatusOr<std::unique_ptr<DemoMesh>> Open(
      const std::string& data_dir, Sample sample);
  ~DemoMesh();

  // Appends the next hour's records to the flights log and refreshes.
  // OutOfRange when every step was taken.
  absl::StatusOr<StepReport> Next();

  size_t steps_done() const { return done_; }
  size_t steps_total() const { return steps_.size(); }
  bool done() const { return done_ == steps_.size(); }
  bool restored() const { return restored_; }
  // Rows read by the first refresh (the load), and how long it took.
  int64_t loaded_rows() const { return loaded_rows_; }
  double load_seconds() const { return load_seconds_; }
  const std::string& live_dir() const { return live_; }

  Mesh& mesh() { return *mesh_; }
  MeshGovernance& governance() { return *gov_; }

 private:
  DemoMesh() = default;
  absl::Status Declare();
  absl::Status AddArrivals();
  absl::Status WriteFiles();

  std::string live_;
  std::string flights_log_;
  Sample sample_;
  std::vector<ReplayStep> steps_;
  size_t done_ = 0;
  bool restored_ = false;
  int64_t loaded_rows_ = 0;
  double load_seconds_ = 0;
  std::unique_ptr<RocksMeshStore> store_;
  Worker worker_;
  std::unique_ptr<Mesh> mesh_;
  std::unique_ptr<MeshGovernance> gov_;
};

}  // namespace diffmesh::demo
