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
//                                checks
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
// path), 405 (not GET), 409 (nothing closed yet) or 500.
// Thread-safety: a pure function of its arguments; call it from any
// thread.
#pragma once

#include <map>
#include <string>

#include "catalog/mesh_snapshot.h"

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

// {"error": {"code": ..., "message": ...}} with the HTTP status of `status`.
ApiResponse ErrorResponse(const absl::Status& status);

}  // namespace diffmesh
