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
//
// With Open MPI the library is not linked but loaded (dlopen) by the first
// run launched by mpirun: a program that never spans processes does not
// map libmpi and its dependencies, which cost every process about 3.4 MiB
// of resident memory. The build names the library in DIFFMESH_MPI_LIBRARY
// (engine/CMakeLists.txt); other MPI implementations are linked.
// The C API only (Open MPI's and MPICH's mpi.h otherwise pull in C++
// bindings that need their own library).
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

#include <climits>
#include <cstdlib>
#include <deque>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#ifdef DIFFMESH_MPI_LIBRARY
#include <dlfcn.h>
#ifndef OPEN_MPI
#error "DIFFMESH_MPI_LIBRARY is for Open MPI, whose handles are global objects"
#endif
#endif

#include "engine/check.h"
#include "engine/process_link.h"

namespace diffmesh {

namespace {

constexpr int kBatchTag = 7;

// The MPI functions this file calls.
#define DIFFMESH_MPI_FUNCTIONS(X)                                       \
  X(Initialized)                                                        \
  X(Init_thread)                                                        \
  X(Finalized)                                                          \
  X(Finalize)                                                           \
  X(Get_processor_name) X(Isend) X(Iprobe) X(Get_count) X(Recv) X(Wait) \
      X(Test) X(Comm_free) X(Comm_dup) X(Comm_rank) X(Comm_size) X(Allreduce)

// The MPI library as this file uses it: its functions and the predefined
// handles, found in the loaded library or taken from the linked one.
struct Mpi {
#define DIFFMESH_MPI_SLOT(name) decltype(&::MPI_##name) name = nullptr;
  DIFFMESH_MPI_FUNCTIONS(DIFFMESH_MPI_SLOT)
#undef DIFFMESH_MPI_SLOT
  MPI_Comm comm_world{};
  MPI_Comm comm_null{};
  MPI_Request request_null{};
  MPI_Datatype byte{};
  MPI_Datatype int_type{};
  MPI_Op min{};
};

// Fills *mpi; the reason when the library cannot serve (errors are text
// here: see Runtime's CoreBody).
std::string BindMpi(Mpi* out) {
  Mpi& mpi = *out;
#ifdef DIFFMESH_MPI_LIBRARY
  void* library = dlopen(DIFFMESH_MPI_LIBRARY, RTLD_NOW | RTLD_GLOBAL);
  if (library == nullptr) {
    const char* error = dlerror();
    return std::string("launched by mpirun, but the MPI library ") +
           DIFFMESH_MPI_LIBRARY +
           " could not be loaded: " + (error ? error : "unknown error") +
           " (scripts/install-deps.sh installs libopenmpi-dev)";
  }
  std::string missing;
  auto find = [&](const char* name, auto& slot) {
    void* address = dlsym(library, name);
    if (address == nullptr && missing.empty()) {
      missing = std::string("the MPI library ") + DIFFMESH_MPI_LIBRARY +
                " has no symbol " + name +
                "; it is not the Open MPI this was built for";
    }
    slot = reinterpret_cast<std::remove_reference_t<decltype(slot)>>(address);
  };
#define DIFFMESH_MPI_FIND(name) find("MPI_" #name, mpi.name);
  DIFFMESH_MPI_FUNCTIONS(DIFFMESH_MPI_FIND)
#undef DIFFMESH_MPI_FIND
  // Open MPI's predefined handles are the addresses of global objects.
  find("ompi_mpi_comm_world", mpi.comm_world);
  find("ompi_mpi_comm_null", mpi.comm_null);
  find("ompi_request_null", mpi.request_null);
  find("ompi_mpi_byte", mpi.byte);
  find("ompi_mpi_int", mpi.int_type);
  find("ompi_mpi_op_min", mpi.min);
  if (!missing.empty()) return missing;
#else
#define DIFFMESH_MPI_TAKE(name) mpi.name = &::MPI_##name;
  DIFFMESH_MPI_FUNCTIONS(DIFFMESH_MPI_TAKE)
#undef DIFFMESH_MPI_TAKE
  mpi.comm_world = MPI_COMM_WORLD;
  mpi.comm_null = MPI_COMM_NULL;
  mpi.request_null = MPI_REQUEST_NULL;
  mpi.byte = MPI_BYTE;
  mpi.int_type = MPI_INT;
  mpi.min = MPI_MIN;
#endif
  return std::string();
}

// The bound library, loaded once and never unloaded, and why it could not
// be (empty when it was).
struct Bound {
  Mpi mpi;
  std::string error;
};
const Bound& TheMpi() {
  static const Bound bound = [] {
    Bound b;
    b.error = BindMpi(&b.mpi);
    return b;
  }();
  return bound;
}

void FinalizeAtExit() {
  const Mpi& mpi = TheMpi().mpi;
  int finalized = 0;
  mpi.Finalized(&finalized);
  if (!finalized) mpi.Finalize();
}

// Why MPI cannot be used; empty when it was initialized.
const std::string& InitMpi() {
  static const std::string error = []() -> std::string {
    if (!TheMpi().error.empty()) return TheMpi().error;
    const Mpi& mpi = TheMpi().mpi;
    int initialized = 0;
    mpi.Initialized(&initialized);
    if (initialized) return std::string();
    int provided = 0;
    if (mpi.Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided) !=
        MPI_SUCCESS) {
      return "MPI_Init_thread failed";
    }
    std::atexit(FinalizeAtExit);
    if (provided < MPI_THREAD_SERIALIZED) {
      return "this MPI library does not let threads take turns calling it "
             "(MPI_THREAD_SERIALIZED)";
    }
    return std::string();
  }();
  return error;
}

class MpiLink : public ProcessLink {
 public:
  MpiLink(const Mpi& mpi, MPI_Comm comm, int rank, int size)
      : mpi_(mpi), comm_(comm), rank_(rank), size_(size) {
    char name[MPI_MAX_PROCESSOR_NAME];
    int length = 0;
    if (mpi_.Get_processor_name(name, &length) == MPI_SUCCESS) {
      host_.assign(name, static_cast<size_t>(length));
    }
  }
  ~MpiLink() override {
    if (comm_ != mpi_.comm_null) Close();
  }

  int process() const override { return rank_; }
  int processes() const override { return size_; }

  void Send(int to, std::string batch) override {
    DM_CHECK_MSG(batch.size() <= static_cast<size_t>(INT_MAX),
                 "a batch to another process exceeds 2 GiB");
    sending_.push_back(Sending{mpi_.request_null, std::move(batch)});
    Sending& s = sending_.back();
    mpi_.Isend(s.bytes.data(), static_cast<int>(s.bytes.size()), mpi_.byte, to,
               kBatchTag, comm_, &s.request);
  }

  void Poll(const std::function<void(int, std::string)>& deliver) override {
    Reap();
    for (;;) {
      int flag = 0;
      MPI_Status status;
      mpi_.Iprobe(MPI_ANY_SOURCE, kBatchTag, comm_, &flag, &status);
      if (!flag) return;
      int count = 0;
      mpi_.Get_count(&status, mpi_.byte, &count);
      std::string batch(static_cast<size_t>(count), '\0');
      mpi_.Recv(batch.data(), count, mpi_.byte, status.MPI_SOURCE, kBatchTag,
                comm_, MPI_STATUS_IGNORE);
      deliver(status.MPI_SOURCE, std::move(batch));
    }
  }

  void Close() override {
    for (Sending& s : sending_) mpi_.Wait(&s.request, MPI_STATUS_IGNORE);
    sending_.clear();
    mpi_.Comm_free(&comm_);
    comm_ = mpi_.comm_null;
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
      mpi_.Test(&sending_.front().request, &done, MPI_STATUS_IGNORE);
      if (!done) return;
      sending_.pop_front();
    }
  }

  struct Sending {
    MPI_Request request;
    std::string bytes;  // stays put until the send completes
  };
  const Mpi& mpi_;
  MPI_Comm comm_;
  int rank_;
  int size_;
  std::string host_;
  std::deque<Sending> sending_;
};

}  // namespace

bool JoinLaunchedProcesses(int threads, std::unique_ptr<ProcessLink>* link,
                           std::string* error) {
  if (!InitMpi().empty()) {
    *error = InitMpi();
    return false;
  }
  const Mpi& mpi = TheMpi().mpi;
  MPI_Comm comm;
  mpi.Comm_dup(mpi.comm_world, &comm);
  int rank = 0, size = 0;
  mpi.Comm_rank(comm, &rank);
  mpi.Comm_size(comm, &size);
  // Every process learns the least and the most threads asked for, so all
  // of them fail alike when they differ.
  int mine[2] = {threads, -threads};
  int all[2] = {0, 0};
  mpi.Allreduce(mine, all, 2, mpi.int_type, mpi.min, comm);
  if (all[0] != -all[1]) {
    mpi.Comm_free(&comm);
    *error = "the processes of this run asked for different worker counts (" +
             std::to_string(all[0]) + " to " + std::to_string(-all[1]) +
             " per process); every process must ask for the same";
    return false;
  }
  *link = std::make_unique<MpiLink>(mpi, comm, rank, size);
  return true;
}

}  // namespace diffmesh
