// `diffmesh demo`: a live data mesh on public sample data, served over
// HTTP while a replay drives its time (tools/demo/demo_mesh.h).
//
//   diffmesh demo [--port 8080] [--host 127.0.0.1] [--data-dir ./diffmesh-data]
//                 [--speed 2] [--for 10m] [--sample DIR | --generate]
//
// The sample is vega-datasets' airports, routes, flights and movies, read
// from --sample (default <data-dir>/sample, where scripts/demo-data.sh puts
// them); when they are not there the demo says so and generates data of
// the same shapes. The terminal shows what was loaded (rows, rows per
// second), the address to open with the demo's bearer tokens, then one line
// per replay step (a simulated hour: flights added, corrected, retracted,
// the refresh's time, open violations). --speed: steps per second (0: as
// fast as the mesh goes). It stops at Ctrl-C, SIGTERM or after --for
// (a duration: 90s, 10m, 1h), with the store consistent; running again
// continues the replay where it stopped. When the replay is over the mesh
// keeps serving until stopped and keeps watching its files (every 0.5 s),
// so an edit of a file in <data-dir>/live shows at once. The dashboard
// (--dashboard, the source tree's server/dashboard by default) is served
// at the same address.
// Thread compatibility: one call at a time.
#pragma once

#include <atomic>
#include <ostream>
#include <string>

#include "absl/status/status.h"

namespace diffmesh {

struct DemoArgs {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port
  std::string data_dir = "./diffmesh-data";
  std::string sample_dir;    // empty: <data_dir>/sample
  bool generate = false;     // generated data even when the sample is there
  double speed = 2;          // replay steps per second; 0: no pause
  std::string for_duration;  // empty: until stopped
  // The dashboard's directory (server/dashboard); empty: none.
  std::string dashboard_dir;
  // OpenLineage RunEvents (server/openlineage.h), one per data version:
  // appended to this file (empty: <data_dir>/openlineage.jsonl) and, when
  // a URL is given, POSTed to it.
  std::string openlineage_file;
  std::string openlineage_url;
};

// The source tree's server/dashboard, where the build found it.
const char* DefaultDashboardDir();

// Runs the demo until `stop` turns true or --for has passed. Errors: a bad
// --for or --speed (InvalidArgument), a port that cannot be bound
// (Unavailable naming it), the store's and the declarations' errors.
absl::Status RunDemo(const DemoArgs& args, std::ostream& out,
                     const std::atomic<bool>& stop);

}  // namespace diffmesh
