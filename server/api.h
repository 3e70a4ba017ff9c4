// The mesh's read API: HTTP requests answered from one snapshot, as JSON,
// apart from any HTTP library (server/mesh_server.h serves it; tests and
// fuzz targets call it directly).
//
//   ApiRequest request{.method = "GET", .path = "/api/products/ops.delays",
//                      .principal = "ana"};
//   ApiResponse response = HandleApi(*reader.Latest(), request, {});
//   // response.status == 200, response.body: {"id": "ops.delays", ...}
//
// Endpoints (GET):
//   /api/products?q=WORDS        the catalog, or the products matching
//                                every word (Mesh::Search)
//   /api/products/{id}           descriptor, schema, upstream, data
//                                versions, tier (declared, held, reason),
//                                checks, and for a source its status
//                                ("source": {"state": "ok"|"failing",
//                                "since", "failed_polls", "error"}; null
//                                for a computed product)
//   /api/products/{id}/rows?limit=N&as_of=V
//                                the rows the principal sees (ReadAs): at
//                                most N (100 by default, 10000 at most), now
//                                or as of data version V
//   /api/products/{id}/quality   its metrics and check verdicts
//   /api/violations              every failing check
//   /api/lineage?node=N&direction=upstream|downstream&depth=D&columns=true
//                                the lineage around product (or column
//                                "product.column") N, shaped like Marquez's
//                                lineage response: {"graph": [{"id", "type",
//                                "data", "inEdges", "outEdges"}]} with node
//                                ids "dataset:<product>" and
//                                "datasetField:<product>:<column>"; both
//                                directions when none is given; depth 20 by
//                                default
// The governance products (tiers, metrics, checks, violations) are read by
// id from ApiOptions::governance_domain; without them those parts are empty.
// Errors: a JSON body {"error": {"code": "NOT_FOUND", "message": ...}}
// with 400 (bad parameter), 403 (no access), 404 (no such product or
// path), 405 (not GET), 409 (nothing closed yet), 503 (too many event
// streams) or 500.
// Thread-safety: a pure function of its arguments; call it from any
// thread.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "catalog/mesh_snapshot.h"
#include "catalog/subscription.h"

namespace diffmesh {

struct ApiRequest {
  std::string method = "GET";
  std::string path;                           // decoded, without the query
  std::map<std::string, std::string> params;  // decoded query parameters
  std::string principal;                      // empty: anonymous
};

struct ApiResponse {
  int status = 200;
  std::string body;  // JSON
};

struct ApiOptions {
  std::string governance_domain = "governance";
};

ApiResponse HandleApi(const MeshSnapshot& snapshot, const ApiRequest& request,
                      const ApiOptions& options = {});

// What the server itself counts, for MetricsText.
struct ServingStats {
  int event_clients = 0;  // event streams open now
};

// GET /metrics: the Prometheus text exposition (format 0.0.4) of the mesh
// as of `snapshot`, names diffmesh_* in base units:
//   diffmesh_mesh_time, diffmesh_products                      gauges
//   diffmesh_product_rows{product}, ..._quarantined_rows{product}
//   diffmesh_check_failures{product,severity}, diffmesh_violations_open
//   {severity} (from the governance violations product, when there is one)
//   diffmesh_source_up{source} (1/0), diffmesh_source_failed_polls{source}
//   diffmesh_round_duration_seconds                            histogram
//   diffmesh_sse_clients                                       gauge
// Label values are escaped as the format says. Costs: the rows of every
// product are walked once (a scrape is O(rows in the mesh)).
std::string MetricsText(const MeshSnapshot& snapshot,
                        const ServingStats& serving,
                        const ApiOptions& options = {});

// {"error": {"code": ..., "message": ...}} with the HTTP status of `status`.
ApiResponse ErrorResponse(const absl::Status& status);

// The event stream (GET /api/events, Server-Sent Events): the changes of
// the catalog, the lineage and the governance products metrics, checks,
// violations and tiers, each closed time's together, as
//   id: TIME:SEQ          (SEQ: the event's place in its time, from 0)
//   event: catalog | lineage | metrics | checks | violations | tiers
//   data: {"time": T, "diff": +1|-1, "product": ID, "record": ...}
// with a descriptor, an edge ({"from", "to", "transformation"}) or a row
// (an array of values) as record. A client that reconnects with
// `Last-Event-ID: TIME:SEQ` gets every event after that one exactly once.
struct EventCursor {
  uint64_t time = 0;
  int64_t seq = -1;  // -1: from the start of `time`
};
// "TIME:SEQ"; InvalidArgument otherwise.
absl::StatusOr<EventCursor> ParseEventId(absl::string_view text);
// What the stream subscribes to: from `resume`'s time, or the next.
SubscribeOptions EventSubscription(const ApiOptions& options,
                                   std::optional<EventCursor> resume);
// One closed time's events as stream text, leaving out those at or before
// `after` (when it is of this time).
std::string EventStreamText(const MeshEvents& events, const ApiOptions& options,
                            std::optional<EventCursor> after);

}  // namespace diffmesh
