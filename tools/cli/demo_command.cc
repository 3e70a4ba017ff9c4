#include "tools/cli/demo_command.h"

#include <chrono>
#include <filesystem>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "engine/status_macros.h"
#include "server/mesh_server.h"
#include "server/openlineage.h"
#include "tools/demo/demo_mesh.h"

namespace diffmesh {
namespace {

using Clock = std::chrono::steady_clock;

// Sleeps up to `seconds`, waking early when `stop` turns true.
void Pause(double seconds, const std::atomic<bool>& stop) {
  const auto until = Clock::now() + std::chrono::duration<double>(seconds);
  while (!stop.load() && Clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

absl::StatusOr<demo::Sample> LoadSample(const DemoArgs& args,
                                        std::ostream& out) {
  if (args.generate) {
    out << "sample: generated data (--generate)" << std::endl;
    return demo::GenerateSample(1);
  }
  const std::string dir =
      args.sample_dir.empty() ? args.data_dir + "/sample" : args.sample_dir;
  absl::StatusOr<demo::Sample> sample = demo::ReadSample(dir);
  if (absl::IsNotFound(sample.status())) {
    out << "sample: " << sample.status().message()
        << "; the public sample (vega-datasets 3.2.1) is fetched by `bash "
           "scripts/demo-data.sh "
        << args.data_dir
        << "` (scripts/run.sh runs it); using generated data of the same "
           "shapes"
        << std::endl;
    return demo::GenerateSample(1);
  }
  if (!sample.ok()) return sample.status();
  out << "sample: vega-datasets in " << dir << " (" << sample->flights.size()
      << " flights";
  if (sample->skipped_flights > 0) {
    out << ", " << sample->skipped_flights
        << " skipped; the first: " << sample->first_skip_reason;
  }
  out << ")" << std::endl;
  return sample;
}

size_t Violations(demo::DemoMesh& d) {
  absl::StatusOr<std::vector<Row>> rows =
      d.mesh().Read(d.governance().ProductId("violations"));
  return rows.ok() ? rows->size() : 0;
}

}  // namespace

const char* DefaultDashboardDir() {
#ifdef DIFFMESH_DASHBOARD_DIR
  return DIFFMESH_DASHBOARD_DIR;
#else
  return "";
#endif
}

absl::Status RunDemo(const DemoArgs& args, std::ostream& out,
                     const std::atomic<bool>& stop) {
  if (!(args.speed >= 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--speed ", args.speed, ": must be >= 0"));
  }
  std::optional<absl::Duration> limit;
  if (!args.for_duration.empty()) {
    absl::Duration d;
    if (!absl::ParseDuration(args.for_duration, &d) ||
        d <= absl::ZeroDuration()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--for '", args.for_duration,
          "': not a positive duration (for example 90s, 10m, 1h)"));
    }
    limit = d;
  }
  const auto started = Clock::now();
  auto over = [&] {
    return stop.load() ||
           (limit && absl::FromChrono(Clock::now() - started) >= *limit);
  };
  DM_ASSIGN_OR_RETURN(demo::Sample sample, LoadSample(args, out));
  out << "opening the mesh in " << args.data_dir << " ..." << std::endl;
  DM_ASSIGN_OR_RETURN(auto mesh,
                      demo::DemoMesh::Open(args.data_dir, std::move(sample)));
  if (mesh->restored()) {
    out << absl::StrFormat("restored from the store at time %d; ",
                           mesh->mesh().time())
        << (mesh->done()
                ? std::string("the replay was over")
                : absl::StrFormat("the replay continues at step %d "
                                  "of %d",
                                  mesh->steps_done() + 1, mesh->steps_total()))
        << std::endl;
  }
  if (mesh->restored()) {
    out << absl::StrFormat(
               "caught up with the files in %.2f s: %d rows changed since "
               "the last run; %d products in the catalog",
               mesh->load_seconds(), mesh->loaded_rows(),
               mesh->mesh().Catalog().size())
        << std::endl;
  } else {
    out << absl::StrFormat(
               "loaded %d rows in %.2f s (%.0f rows/s); %d products in the "
               "catalog",
               mesh->loaded_rows(), mesh->load_seconds(),
               mesh->load_seconds() > 0
                   ? mesh->loaded_rows() / mesh->load_seconds()
                   : 0.0,
               mesh->mesh().Catalog().size())
        << std::endl;
  }
  ServerOptions options;
  options.host = args.host;
  options.port = args.port;
  options.tokens = demo::DemoTokens();
  options.dashboard_dir = args.dashboard_dir;
  absl::StatusOr<std::unique_ptr<MeshServer>> server =
      MeshServer::Start(mesh->mesh().Reader(), options);
  if (!server.ok()) {
    return absl::Status(server.status().code(),
                        absl::StrCat(server.status().message(),
                                     " (choose another with --port)"));
  }
  const std::string url =
      absl::StrCat("http://", args.host, ":", (*server)->port());
  EmitterOptions lineage;
  lineage.file = args.openlineage_file.empty()
                     ? args.data_dir + "/openlineage.jsonl"
                     : args.openlineage_file;
  lineage.url = args.openlineage_url;
  DM_ASSIGN_OR_RETURN(
      auto emitter, OpenLineageEmitter::Start(mesh->mesh().Reader(), lineage));
  out << "openlineage: a RunEvent per data version to " << lineage.file
      << (lineage.url.empty() ? "" : " and ") << lineage.url << std::endl;
  if (!args.dashboard_dir.empty()) {
    out << "dashboard: open " << url << "/" << std::endl;
    std::error_code ec;
    if (!std::filesystem::is_directory(args.dashboard_dir + "/node_modules",
                                       ec)) {
      out << "  (its graph libraries are missing: run `npm ci` in "
          << args.dashboard_dir << "; bash scripts/run.sh does)" << std::endl;
    }
  }
  out << "serving " << url << "/api/products   (tokens: "
      << "Authorization: Bearer analyst-token reads as ana, "
         "steward-token as sam)"
      << std::endl;
  out << "  try: curl " << url << "/api/violations ; curl -N " << url
      << "/api/events" << std::endl;
  while (!over() && !mesh->done()) {
    DM_ASSIGN_OR_RETURN(demo::StepReport r, mesh->Next());
    out << absl::StrFormat(
               "[step %d/%d] %s:00  +%d flights  %d corrected  %d retracted  "
               "refresh %.1f ms  violations %d  time %d%s%s",
               r.step, mesh->steps_total(), r.hour, r.added, r.corrected,
               r.retracted, r.refresh_ms, Violations(*mesh), r.time,
               r.product_added ? "  (operations.arrivals added)" : "",
               r.contract_tightened
                   ? "  (operations.flights_raw contract tightened to 1.1.0)"
                   : "")
        << std::endl;
    if (args.speed > 0) Pause(1.0 / args.speed, stop);
  }
  if (mesh->done() && !over()) {
    out << "the replay is over; serving and watching the files in "
        << mesh->live_dir() << " until stopped (Ctrl-C)" << std::endl;
    size_t failing = 0;
    while (!over()) {
      Pause(0.5, stop);
      DM_ASSIGN_OR_RETURN(RefreshReport r, mesh->mesh().Refresh());
      const bool failing_changed = r.failing_sources.size() != failing;
      failing = r.failing_sources.size();
      if (r.rows_inserted + r.rows_retracted + r.quarantine_changes > 0 ||
          failing_changed) {
        out << absl::StrFormat(
                   "[files] +%d -%d rows, %d quarantine changes, %d failing "
                   "sources  violations %d  time %d",
                   r.rows_inserted, r.rows_retracted, r.quarantine_changes,
                   r.failing_sources.size(), Violations(*mesh),
                   mesh->mesh().time())
            << std::endl;
      }
    }
  }
  (*server)->Stop();
  emitter->Stop();
  const EmitterStats lineage_stats = emitter->stats();
  out << "openlineage: " << lineage_stats.events << " events";
  if (lineage_stats.post_errors > 0) {
    out << ", " << lineage_stats.post_errors
        << " POSTs failed (the last: " << lineage_stats.last_error << ")";
  }
  out << std::endl;
  out << absl::StrFormat(
             "stopped after step %d of %d at time %d; the store in %s is "
             "consistent: run again to continue",
             mesh->steps_done(), mesh->steps_total(), mesh->mesh().time(),
             args.data_dir)
      << std::endl;
  return absl::OkStatus();
}

}  // namespace diffmesh
