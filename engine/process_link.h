// ProcessLink: moves bytes between the processes of one Runtime, so that
// its workers can span several processes (and hosts). The fabric
// (engine/fabric.h) frames and batches the messages; a link only carries
// the batches.
//
//   std::unique_ptr<ProcessLink> link = ...;   // MpiLink, or a loopback
//   link->Send(/*to=*/1, std::move(batch));
//   link->Poll([](int from, std::string batch) { ... });
//
// Two implementations: the MPI one (engine/mpi_link.h), which a program
// started by `mpirun -np P` gets from Runtime::Execute, and LoopbackLinks
// below, which stands several "processes" up inside one (for tests: the
// same framing, ordering and shutdown as across processes, under the
// thread sanitizer too).
//
// Ordering: batches from one process to another arrive in the order sent
// (MPI's non-overtaking rule for one sender, tag and communicator; a queue
// for the loopback). The progress protocol relies on it
// (engine/progress_exchange.h).
//
// Thread-safety: Send and Poll are called by one thread at a time (the
// fabric serializes them), from any thread.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace diffmesh {

class ProcessLink {
 public:
  virtual ~ProcessLink() = default;
  // This process's index, and how many processes there are.
  virtual int process() const = 0;
  virtual int processes() const = 0;
  // Queues `batch` for process `to` (not this one); it is sent without
  // waiting for the receiver.
  virtual void Send(int to, std::string batch) = 0;
  // Hands every batch received so far to `deliver`, oldest first per
  // sender. Returns quickly when nothing has arrived.
  virtual void Poll(
      const std::function<void(int from, std::string batch)>& deliver) = 0;
  // Waits until every batch sent has left this process's buffers. Called
  // once, at the end of a run, after every peer has said it is done.
  virtual void Close() = 0;
  // A description for error messages: "process 1 of 3 (MPI rank 1)".
  virtual std::string Describe() const = 0;
};

// `processes` links connected to each other in memory.
std::vector<std::unique_ptr<ProcessLink>> LoopbackLinks(int processes);

// How many processes this one was launched with, and its index among them,
// from the launcher's environment (mpirun's OMPI_COMM_WORLD_SIZE and
// OMPI_COMM_WORLD_RANK, or PMI_SIZE and PMI_RANK): 1 and 0 when started on
// its own. Cheap; needs no MPI call.
int LaunchedProcesses();
int LaunchedProcessIndex();

// The link of this process when it was launched as one of several MPI
// processes (LaunchedProcesses() > 1), for one run of `threads` workers
// per process. Every process must ask with the same `threads`, and every
// process must run the same sequence of runs. False, with the reason in
// *error (a run reports it as FailedPrecondition), when the build has no
// MPI, MPI cannot be loaded, or the thread counts differ between processes.
// (Text, not absl::Status: see Runtime's CoreBody.)
bool JoinLaunchedProcesses(int threads, std::unique_ptr<ProcessLink>* link,
                           std::string* error);

}  // namespace diffmesh
