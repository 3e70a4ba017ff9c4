// OpenLineage: a RunEvent (spec 2-0-2) for every data version a product of
// the mesh publishes, built from a snapshot, and an emitter that follows a
// running mesh and writes them as JSON Lines to a file and, when given a
// URL, POSTs each to an OpenLineage endpoint (Marquez's /api/v1/lineage).
//
//   DM_ASSIGN_OR_RETURN(auto emitter, OpenLineageEmitter::Start(
//       mesh->Reader(), {.file = "openlineage.jsonl"}));
//   ...   // every new data version becomes one line of the file
//   emitter->Stop();
//
// An event: eventType COMPLETE; eventTime now (UTC); run.runId a UUID made
// from the product and the version number (the same event has the same id
// after a restart); job {namespace, name: the product id}; inputs: the
// product's upstream products, each with inputFacets dataQualityMetrics
// (1-0-3, from the governance metrics product when it is profiled) and
// dataQualityAssertions (1-1-0, its contract checks); outputs: the product
// with facets schema (1-2-0) and columnLineage (1-2-0: each lineage edge
// into a column as an input field; kinds direct -> DIRECT/IDENTITY,
// derived -> DIRECT/TRANSFORMATION, aggregate -> DIRECT/AGGREGATION,
// filter -> INDIRECT/FILTER, join_key -> INDIRECT/JOIN, masking ->
// DIRECT/TRANSFORMATION with masking true). Every facet has _producer and
// its exact _schemaURL.
// Thread-safety: RunEventsFor is a pure function; an emitter is started
// and stopped from one thread and runs its own.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "catalog/mesh_reader.h"
#include "catalog/mesh_snapshot.h"

namespace diffmesh {

inline constexpr char kOpenLineageRunEventSchema[] =
    "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent";
inline constexpr char kOpenLineageSchemaFacet[] =
    "https://openlineage.io/spec/facets/1-2-0/SchemaDatasetFacet.json#/$defs/"
    "SchemaDatasetFacet";
inline constexpr char kOpenLineageColumnLineageFacet[] =
    "https://openlineage.io/spec/facets/1-2-0/"
    "ColumnLineageDatasetFacet.json#/$defs/ColumnLineageDatasetFacet";
inline constexpr char kOpenLineageQualityMetricsFacet[] =
    "https://openlineage.io/spec/facets/1-0-3/"
    "DataQualityMetricsInputDatasetFacet.json#/$defs/"
    "DataQualityMetricsInputDatasetFacet";
inline constexpr char kOpenLineageQualityAssertionsFacet[] =
    "https://openlineage.io/spec/facets/1-1-0/"
    "DataQualityAssertionsDatasetFacet.json#/$defs/"
    "DataQualityAssertionsDatasetFacet";

struct OpenLineageOptions {
  std::string job_namespace = "diffmesh";
  std::string dataset_namespace = "diffmesh";
  std::string producer = "urn:diffmesh";  // a URI, as the spec wants
  std::string governance_domain = "governance";
};

// The events (one JSON object each, without line ends) of product `id`'s
// data versions numbered above `after_version`, oldest first, as the
// snapshot holds them (its retained versions). NotFound for a product not
// in the catalog.
absl::StatusOr<std::vector<std::string>> RunEventsFor(
    const MeshSnapshot& snapshot, const std::string& id, int after_version,
    const OpenLineageOptions& options = {});

struct EmitterOptions {
  std::string file;  // JSON Lines, appended to; empty: none
  std::string url;   // "http://host:port/api/v1/lineage"; empty: none
  OpenLineageOptions lineage;
};

struct EmitterStats {
  int64_t events = 0;       // written (to the file, or posted when no file)
  int64_t post_errors = 0;  // POSTs that failed or were refused
  std::string last_error;
};

class OpenLineageEmitter {
 public:
  // InvalidArgument for a URL that is not http://host[:port]/path;
  // Unavailable when the file cannot be opened for appending.
  static absl::StatusOr<std::unique_ptr<OpenLineageEmitter>> Start(
      MeshReader reader, EmitterOptions options);
  ~OpenLineageEmitter();  // stops
  // Emits what the latest snapshot has left, then stops.
  void Stop();
  EmitterStats stats() const;

 private:
  struct State;
  explicit OpenLineageEmitter(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace diffmesh
