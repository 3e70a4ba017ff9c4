// diffmesh: the command-line program.
//
//   diffmesh profile FILE [--then FILE2 ...] [--format json|table] [--key
//   COL]...
//                    [--contract CONTRACT.yaml [--object NAME]
//                     [--allow-unenforced]]
//   diffmesh demo [--port 8080] [--host H] [--data-dir DIR] [--speed X]
//                 [--for DURATION] [--sample DIR | --generate]
//                 [--dashboard DIR] [--openlineage-file F]
//                 [--openlineage-url URL]
//
// Exit status: 0 on success, 1 for an error (printed to stderr with what
// and where), 2 for bad arguments, 3 when a check of severity "error"
// fails at the last version (the output is complete).
#include <atomic>
#include <csignal>
#include <iostream>

#include "CLI/CLI.hpp"
#include "engine/memory.h"
#include "tools/cli/demo_command.h"
#include "tools/cli/profile_command.h"

namespace {
std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop.store(true); }
}  // namespace

int main(int argc, char** argv) {
  // This program's choice: malloc tuned for the engine, large blocks in
  // huge pages (engine/memory.h).
  diffmesh::StartWithHugePages(argv);
  diffmesh::TuneAllocator();
  CLI::App app{"diffmesh: a data mesh on a differential dataflow engine"};
  app.require_subcommand(1);

  diffmesh::ProfileArgs profile;
  CLI::App* profile_cmd = app.add_subcommand(
      "profile",
      "Quality metrics of a CSV, JSON or JSON Lines file, and of each later "
      "version of it (--then), kept incrementally");
  profile_cmd->add_option("file", profile.file, "the file to profile")
      ->required();
  profile_cmd->add_option(
      "--then", profile.then,
      "later versions of the file, in order: only what changed is printed");
  profile_cmd
      ->add_option("--format", profile.format,
                   "json (one line per version) "
                   "or table")
      ->check(CLI::IsMember({"json", "table"}));
  profile_cmd->add_option("--key", profile.keys,
                          "a key column (repeat for several): report the "
                          "rows that duplicate another's key");
  profile_cmd->add_option("--contract", profile.contract,
                          "an ODCS v3 data contract (YAML) to check");
  profile_cmd->add_option(
      "--object", profile.object,
      "the contract's schema object to check, when it has several");
  profile_cmd->add_flag("--allow-unenforced", profile.allow_unenforced,
                        "list sql and custom rules as not enforced instead "
                        "of refusing the contract");

  diffmesh::DemoArgs demo;
  CLI::App* demo_cmd = app.add_subcommand(
      "demo",
      "A live data mesh on public sample data (vega-datasets), served over "
      "HTTP while a replay of flights drives its time");
  demo_cmd->add_option("--port", demo.port, "the HTTP port (0: any free one)")
      ->check(CLI::Range(0, 65535));
  demo_cmd->add_option("--host", demo.host, "the address to bind");
  demo_cmd->add_option("--data-dir", demo.data_dir,
                       "where the store, the source files and the sample are");
  demo_cmd->add_option("--sample", demo.sample_dir,
                       "the vega-datasets data directory (default: "
                       "DATA_DIR/sample)");
  demo_cmd->add_flag("--generate", demo.generate,
                     "use generated data of the sample's shapes");
  demo_cmd->add_option("--speed", demo.speed,
                       "replay steps (simulated hours) per second; 0: no "
                       "pause");
  demo.dashboard_dir = diffmesh::DefaultDashboardDir();
  demo_cmd->add_option("--dashboard", demo.dashboard_dir,
                       "the dashboard's directory (empty: no dashboard)");
  demo_cmd->add_option("--openlineage-file", demo.openlineage_file,
                       "OpenLineage events, JSON Lines (default: "
                       "DATA_DIR/openlineage.jsonl)");
  demo_cmd->add_option("--openlineage-url", demo.openlineage_url,
                       "POST each OpenLineage event here too "
                       "(http://host:port/api/v1/lineage)");
  demo_cmd->add_option("--for", demo.for_duration,
                       "stop after this long (90s, 10m, 1h); default: at "
                       "Ctrl-C");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  if (demo_cmd->parsed()) {
    std::signal(SIGINT, OnSignal);
    std::signal(SIGTERM, OnSignal);
    absl::Status status = diffmesh::RunDemo(demo, std::cout, g_stop);
    if (!status.ok()) {
      std::cerr << "diffmesh demo: " << status.message() << std::endl;
      return 1;
    }
    return 0;
  }
  if (profile_cmd->parsed()) {
    absl::StatusOr<diffmesh::ProfileOutcome> outcome =
        diffmesh::RunProfile(profile, std::cout, std::cerr);
    if (!outcome.ok()) {
      std::cerr << "diffmesh profile: " << outcome.status().message()
                << std::endl;
      return 1;
    }
    if (outcome->failing_error_checks > 0) {
      std::cerr << "diffmesh profile: " << outcome->failing_error_checks
                << " check(s) of severity error fail" << std::endl;
      return 3;
    }
  }
  return 0;
}
