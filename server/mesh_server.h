// MeshServer: the mesh's read API (server/api.h) over HTTP, served from a
// MeshReader's snapshots on the server's own threads while the mesh's
// workers go on.
//
//   DM_ASSIGN_OR_RETURN(auto server, MeshServer::Start(mesh->Reader(),
//       {.port = 8080, .tokens = {{"s3cret", "ana"}}}));
//   // curl -H 'Authorization: Bearer s3cret'
//   //      127.0.0.1:8080/api/products/crm.emails/rows   (one line)
//
// Binds 127.0.0.1 unless told otherwise. A request with `Authorization:
// Bearer TOKEN` reads as the token's principal (401 for a token not in
// ServerOptions::tokens); without one, as the anonymous principal, whom an
// enforced access product shows nothing it is not granted to "anyone".
// GET /metrics is the Prometheus text exposition (server/api.h:
// MetricsText; no token needed: counts only, no rows).
// GET /api/events is a Server-Sent Events stream (server/api.h:
// EventStreamText) that resumes after `Last-Event-ID`; a stream whose
// client falls behind, or that cannot resume, gets an `error` event and
// ends. Every other answer is JSON, errors included; nothing a request holds
// makes the server fail (an exception in a handler is a 500). Thread-safety:
// Start, Stop and the destructor from one thread; requests are served
// concurrently.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "catalog/mesh_reader.h"
#include "server/api.h"

namespace diffmesh {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port (see MeshServer::port)
  std::map<std::string, std::string> tokens;  // bearer token -> principal
  ApiOptions api;
  int threads = 8;  // requests served at once, besides event streams
  // Event streams (GET /api/events) open at once; more get 503. Each holds
  // a thread of its own while it is open.
  int max_event_clients = 32;
  // Events waiting for a slow event-stream client before it is told so
  // (an `error` event) and cut off.
  size_t max_pending_events = size_t{1} << 16;
  // The dashboard (server/dashboard: index.html, app.js, style.css, and
  // the graph libraries npm installs into its node_modules), served at /
  // with node_modules at /vendor; empty: no dashboard.
  std::string dashboard_dir;
};

class MeshServer {
 public:
  // Binds and starts serving. Unavailable naming host:port when it cannot
  // bind; InvalidArgument for threads < 1; NotFound for a dashboard_dir
  // without index.html.
  static absl::StatusOr<std::unique_ptr<MeshServer>> Start(
      MeshReader reader, ServerOptions options);
  ~MeshServer();  // stops
  MeshServer(const MeshServer&) = delete;
  MeshServer& operator=(const MeshServer&) = delete;

  int port() const;
  // Event streams open now.
  int event_clients() const;
  // Stops accepting and waits for the requests being served.
  void Stop();

 private:
  struct State;
  explicit MeshServer(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace diffmesh
