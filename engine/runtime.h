// Runtime: N workers, each on its own thread, each running the same
// dataflows over the keys it owns.
//
//   absl::Status status = Runtime::Execute(2, [](Worker& worker) {
//     Graph& graph = worker.NewDataflow("counts");
//     auto [input, words] = NewInput<std::string>(graph);
//     ... operators ...; feed `input` (from any worker), step, probe ...
//   });
//
// The body may return absl::Status; Execute then returns the first
// worker's error ("worker N: ...").
//
// Several processes: a program started by `mpirun -np P` runs P x N
// workers in all, N threads in each process. Worker ids are global
// (process p has workers p*N .. p*N+N-1), keys are owned by a hash that
// is the same in every process (engine/stable_hash.h), and frontiers are
// final on every worker of every process; dataflow code does not change.
// Messages between processes go through MPI (engine/process_link.h,
// engine/fabric.h), so their data must be crossable (engine/wire.h).
// Every process must call Execute the same number of times with the same
// N. Execute returns, in every process, the first failure of any
// process's workers ("worker N (process p): ..."). A process that dies
// ends the job: mpirun stops the others and names the rank.
//
// `body` runs once per worker, with that worker. Every worker must build the
// same dataflows in the same order (channels between workers are named by
// position); each keyed operator (arrange and everything built on it) routes
// every update to the worker that owns its key (operators/exchange.h), and
// the workers agree on frontiers by exchanging progress messages
// (engine/progress_exchange.h). Inputs may be fed from any worker.
//
// When `body` returns on a worker, that worker keeps stepping until all its
// dataflows are complete, so every input handle must be closed by then
// (handles close when destroyed). Execute returns after every worker thread
// has exited.
//
// Threads: worker 0 runs on the calling thread and workers 1..N-1 on
// dedicated threads, not on oneTBB tasks: a worker is a long-lived loop that
// waits for messages from its peers, and a task scheduler is free to run N
// tasks one after another on fewer threads, which would leave a waiting
// worker's peer never scheduled. oneTBB stays available for data-parallel
// work inside an operator.
//
// Process-wide settings are opt-in (RuntimeOptions), as a library should:
// by default the kernel places the workers and the C library's allocator
// keeps its settings.
//
// Placement (pin_workers): when the calling thread may run on at least as
// many CPUs as there are workers, worker i is pinned to the i-th of them
// (the caller gets its own mask back when Execute returns). A worker that
// the kernel moves between cores loses its caches, and two workers spinning
// for each other's messages on one core take turns instead of running.
// oneTBB's pool is sized from the caller's CPUs before any worker is
// pinned, so data-parallel work inside an operator still uses them all.
// DIFFMESH_PIN_WORKERS=0 turns pinning off where a program asked for it.
//
// Allocator (tune_allocator): TuneAllocator (engine/memory.h) before the
// workers start; it changes malloc's settings for the whole process.
// The benchmark drivers and the diffmesh program ask for both.
// one_heap: ShareOneHeap (engine/memory.h) before the workers start, so
// buffers one worker frees for another are reused by both: less memory,
// slower small rounds; bench/bfs asks for it with --one-heap.
#pragma once

#include <functional>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/status/status.h"
#include "engine/graph.h"
#include "engine/process_link.h"

namespace diffmesh {

struct RuntimeOptions {
  bool pin_workers = false;     // worker i on the caller's i-th CPU
  bool tune_allocator = false;  // TuneAllocator(), process-wide
  bool one_heap = false;        // ShareOneHeap(), process-wide
};

class Runtime {
 public:
  static constexpr int kMaxWorkers = 256;

  // InvalidArgument if `workers` is not in [1, kMaxWorkers]. A body that
  // returns absl::Status reports a worker's failure: Execute returns the
  // first error by worker index, prefixed "worker N: ", after every worker
  // has finished (a worker whose body returned early keeps stepping until
  // its dataflows are complete, so it does not hold the others up once
  // its inputs are closed). Under mpirun, `workers` is the count per
  // process (see above).
  template <class Body>
  static absl::Status Execute(int workers, Body&& body) {
    return Execute(workers, RuntimeOptions{}, std::forward<Body>(body));
  }
  template <class Body>
  static absl::Status Execute(int workers, const RuntimeOptions& options,
                              Body&& body) {
    if (workers < 1 || workers > kMaxWorkers) {
      return absl::InvalidArgumentError(
          "workers must be between 1 and 256, got " + std::to_string(workers));
    }
    return StatusOf(Launch(workers, WithFailure(body), options));
  }
  // Execute on `link`'s processes (engine/process_link.h) instead of the
  // ones this program was launched with: what Execute does under mpirun,
  // for tests that stand several processes up in one (LoopbackLinks).
  // Each "process" calls it on its own thread with its own link.
  template <class Body>
  static absl::Status ExecuteOn(ProcessLink* link, int workers,
                                const RuntimeOptions& options, Body&& body) {
    if (workers < 1 || workers > kMaxWorkers) {
      return absl::InvalidArgumentError(
          "workers must be between 1 and 256, got " + std::to_string(workers));
    }
    return StatusOf(RunOn(link, workers, WithFailure(body), options));
  }
  // Registers `fn` to be called before Execute/Run pins its workers (with
  // pin_workers), on the caller's thread: a library whose thread pool sizes
  // itself from the CPUs of the first thread that asks (oneTBB; catalog/
  // registers it) asks there, so data-parallel work inside a pinned worker
  // still gets every CPU the caller had. Thread-safe.
  static void BeforePinning(void (*fn)());

  // Execute for a count the caller has checked (a program that validates
  // its own arguments needs no Status machinery linked in); aborts with
  // the message if joining the other processes fails.
  // REQUIRES: 1 <= workers <= kMaxWorkers.
  static void Run(int workers, const std::function<void(Worker&)>& body,
                  const RuntimeOptions& options = {});

  // How many processes this program was launched with (mpirun -np), and
  // which one this is: 1 and 0 on its own.
  static int Processes() { return LaunchedProcesses(); }
  static int ProcessIndex() { return LaunchedProcessIndex(); }

 private:
  // A worker's body as the runtime runs it: on failure it sets
  // `failure->code` (an absl::StatusCode, not 0) and the message. The core
  // of a run reports failures this way, as plain values, so that Run (and
  // a program that uses only Run) never builds an absl::Status and links
  // none of its library.
  using CoreBody = std::function<void(Worker&, WorkerFailure* failure)>;
  template <class Body>
  static CoreBody WithFailure(Body& body) {
    if constexpr (std::is_same_v<std::invoke_result_t<Body&, Worker&>,
                                 absl::Status>) {
      return [&body](Worker& worker, WorkerFailure* failure) {
        absl::Status status = body(worker);
        if (status.ok()) return;
        failure->code = static_cast<int32_t>(status.code());
        failure->message = std::string(status.message());
      };
    } else {
      return [&body](Worker& worker, WorkerFailure*) { body(worker); };
    }
  }
  // Joins the processes this program was launched with, if several, and
  // runs there. Returns the first failure of any worker of any process,
  // its message prefixed "worker N: " ("worker N (process p): " across
  // processes); code 0 when none failed.
  static WorkerFailure Launch(int workers, const CoreBody& body,
                              const RuntimeOptions& options);
  static WorkerFailure RunOn(ProcessLink* link, int workers,
                             const CoreBody& body,
                             const RuntimeOptions& options);
  // OK for code 0; otherwise the failure as a status
  // (engine/runtime_status.cc).
  static absl::Status StatusOf(const WorkerFailure& failure);
};

}  // namespace diffmesh
