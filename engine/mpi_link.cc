// The MPI implementation of ProcessLink (engine/process_link.h): one
// communicator per run (a duplicate of MPI_COMM_WORLD, so runs never see
// each other's messages), every batch one non-blocking MPI_Isend, received
// with MPI_Iprobe and MPI_Recv from any source.
//
// MPI is initialized by the first run that needs it, asking for
// MPI_THREAD_SERIALIZED (the fabric lets one thread at a time call the
// link), and finalized when the program exits. MPI's default error handler
// stays: a failed MPI call ends the whole job, and mpirun reports which
// rank failed and exits non-zero.
#include <mpi.h>

#include <climits>
#include <cstdlib>
#include <deque>
#include <memory>
#include <string>
#include <utility>

#include "engine/check.h"
#include "engine/process_link.h"

namespace diffmesh {

namespace {

constexpr int kBatchTag = 7;

void FinalizeAtExit() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

absl::Status InitMpi() {
  static const absl::Status status = [] {
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (initialized) return absl::OkStatus();
    int provided = 0;
    if (MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided) !=
        MPI_SUCCESS) {
      return absl::FailedPreconditionError("MPI_Init_thread failed");
    }
    std::atexit(FinalizeAtExit);
    if (provided < MPI_THREAD_SERIALIZED) {
      return absl::FailedPreconditionError(
          "this MPI library does not let threads take turns calling it "
          "(MPI_THREAD_SERIALIZED)");
    }
    return absl::OkStatus();
  }();
  return status;
}

class MpiLink : public ProcessLink {
 public:
  MpiLink(MPI_Comm comm, int rank, int size)
      : comm_(comm), rank_(rank), size_(size) {
    char name[MPI_MAX_PROCESSOR_NAME];
    int length = 0;
    if (MPI_Get_processor_name(name, &length) == MPI_SUCCESS) {
      host_.assign(name, static_cast<size_t>(length));
    }
  }
  ~MpiLink() override {
    if (comm_ != MPI_COMM_NULL) Close();
  }

  int process() const override { return rank_; }
  int processes() const override { return size_; }

  void Send(int to, std::string batch) override {
    DM_CHECK_MSG(batch.size() <= static_cast<size_t>(INT_MAX),
                 "a batch to another process exceeds 2 GiB");
    sending_.push_back(Sending{MPI_REQUEST_NULL, std::move(batch)});
    Sending& s = sending_.back();
    MPI_Isend(s.bytes.data(), static_cast<int>(s.bytes.size()), MPI_BYTE, to,
              kBatchTag, comm_, &s.request);
  }

  void Poll(const std::function<void(int, std::string)>& deliver) override {
    Reap();
    for (;;) {
      int flag = 0;
      MPI_Status status;
      MPI_Iprobe(MPI_ANY_SOURCE, kBatchTag, comm_, &flag, &status);
      if (!flag) return;
      int count = 0;
      MPI_Get_count(&status, MPI_BYTE, &count);
      std::string batch(static_cast<size_t>(count), '\0');
      MPI_Recv(batch.data(), count, MPI_BYTE, status.MPI_SOURCE, kBatchTag,
               comm_, MPI_STATUS_IGNORE);
      deliver(status.MPI_SOURCE, std::move(batch));
    }
  }

  void Close() override {
    for (Sending& s : sending_) MPI_Wait(&s.request, MPI_STATUS_IGNORE);
    sending_.clear();
    MPI_Comm_free(&comm_);
    comm_ = MPI_COMM_NULL;
  }

  std::string Describe() const override {
    return "process " + std::to_string(rank_) + " of " + std::to_string(size_) +
           " (MPI rank " + std::to_string(rank_) +
           (host_.empty() ? "" : " on " + host_) + ")";
  }

 private:
  // Frees the buffers of sends that completed, oldest first.
  void Reap() {
    while (!sending_.empty()) {
      int done = 0;
      MPI_Test(&sending_.front().request, &done, MPI_STATUS_IGNORE);
      if (!done) return;
      sending_.pop_front();
    }
  }

  struct Sending {
    MPI_Request request;
    std::string bytes;  // stays put until the send completes
  };
  MPI_Comm comm_;
  int rank_;
  int size_;
  std::string host_;
  std::deque<Sending> sending_;
};

}  // namespace

absl::Status JoinLaunchedProcesses(int threads,
                                   std::unique_ptr<ProcessLink>* link) {
  if (absl::Status status = InitMpi(); !status.ok()) return status;
  MPI_Comm comm;
  MPI_Comm_dup(MPI_COMM_WORLD, &comm);
  int rank = 0, size = 0;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  // Every process learns the least and the most threads asked for, so all
  // of them fail alike when they differ.
  int mine[2] = {threads, -threads};
  int all[2] = {0, 0};
  MPI_Allreduce(mine, all, 2, MPI_INT, MPI_MIN, comm);
  if (all[0] != -all[1]) {
    MPI_Comm_free(&comm);
    return absl::FailedPreconditionError(
        "the processes of this run asked for different worker counts (" +
        std::to_string(all[0]) + " to " + std::to_string(-all[1]) +
        " per process); every process must ask for the same");
  }
  *link = std::make_unique<MpiLink>(comm, rank, size);
  return absl::OkStatus();
}

}  // namespace diffmesh
