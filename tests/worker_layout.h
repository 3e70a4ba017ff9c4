// Where a multi-worker test runs its workers: `processes` x `threads`.
//
//   for (WorkerLayout layout : WorkerLayouts("1,2,2x2")) {
//     absl::Status s = RunOnLayout(layout, [&](Worker& w) { ...; });
//   }
//
// "N" is N worker threads in one process; "PxN" is P processes of N threads
// each. Inside one test binary the P processes are stood up in threads
// over in-memory links (LoopbackLinks, engine/process_link.h), with the
// same framing, encoding and shutdown as across real processes; a body
// that needs one worker per process (the mesh's keeper) picks it with
// `worker.first_local()`, as it would under mpirun, since every loopback
// process shares this binary's statics. When the
// test binary itself was started by mpirun (Runtime::Processes() > 1), the
// launch decides the processes: "N" means N threads in each of them and
// "PxN" entries are skipped.
#pragma once

#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "engine/process_link.h"
#include "engine/runtime.h"

namespace diffmesh::testing {

struct WorkerLayout {
  int processes = 1;
  int threads = 1;
  std::string Name() const {
    if (Runtime::Processes() > 1) {
      return std::to_string(Runtime::Processes()) + " MPI processes x " +
             std::to_string(threads) + " worker(s)";
    }
    if (processes == 1) return std::to_string(threads) + " worker(s)";
    return std::to_string(processes) + " processes x " +
           std::to_string(threads) + " worker(s)";
  }
};

inline std::vector<WorkerLayout> WorkerLayouts(const std::string& list) {
  std::vector<WorkerLayout> layouts;
  std::stringstream in(list);
  std::string item;
  while (std::getline(in, item, ',')) {
    WorkerLayout layout;
    const size_t x = item.find('x');
    if (x == std::string::npos) {
      layout.threads = std::stoi(item);
    } else {
      layout.processes = std::stoi(item.substr(0, x));
      layout.threads = std::stoi(item.substr(x + 1));
      if (Runtime::Processes() > 1) continue;
    }
    layouts.push_back(layout);
  }
  return layouts;
}

// Runs `body` on every worker of `layout`; returns what Runtime::Execute
// returns (the same in every process).
template <class Body>
absl::Status RunOnLayout(const WorkerLayout& layout, Body body) {
  if (layout.processes == 1) return Runtime::Execute(layout.threads, body);
  std::vector<std::unique_ptr<ProcessLink>> links =
      LoopbackLinks(layout.processes);
  std::vector<absl::Status> statuses(layout.processes);
  std::vector<std::thread> processes;
  for (int p = 1; p < layout.processes; ++p) {
    processes.emplace_back([&, p] {
      statuses[p] =
          Runtime::ExecuteOn(links[p].get(), layout.threads, {}, body);
    });
  }
  statuses[0] = Runtime::ExecuteOn(links[0].get(), layout.threads, {}, body);
  for (std::thread& t : processes) t.join();
  for (const absl::Status& s : statuses) {
    if (s != statuses[0]) {
      return absl::InternalError(
          "the processes disagree on the run: " + statuses[0].ToString() +
          " and " + s.ToString());
    }
  }
  return statuses[0];
}

}  // namespace diffmesh::testing
