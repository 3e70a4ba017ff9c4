#include "engine/runtime.h"

#include <pthread.h>
#include <sched.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "engine/check.h"
#include "engine/fabric.h"
#include "engine/memory.h"
#include "engine/process_link.h"

namespace diffmesh {

namespace {

std::mutex& HooksMutex() {
  static std::mutex mu;
  return mu;
}
std::vector<void (*)()>& Hooks() {
  static std::vector<void (*)()> hooks;
  return hooks;
}

// The CPUs in `mask`, in order.
std::vector<int> CpusOf(const cpu_set_t& mask) {
  std::vector<int> cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &mask)) cpus.push_back(cpu);
  }
  return cpus;
}

void PinTo(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  // Best effort: a refusal (a restricted container) leaves the thread free.
  pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

void RunWorker(Fabric* fabric, int index,
               const std::function<void(Worker&, WorkerFailure*)>& body,
               int cpu, WorkerFailure* failure) {
  if (cpu >= 0) PinTo(cpu);
  Worker worker(fabric, index);
  body(worker, failure);
  // Drain: peers may still need this worker's share of the work.
  worker.StepWhile([&] { return !worker.AllComplete(); });
}

// This process's place among the processes of its host (mpirun's
// OMPI_COMM_WORLD_LOCAL_RANK), so processes sharing a host pin their
// workers to different CPUs; -1 when unknown.
int LocalProcessIndex() {
  const char* value = std::getenv("OMPI_COMM_WORLD_LOCAL_RANK");
  if (value == nullptr || *value == '\0') return -1;
  return std::atoi(value);
}

}  // namespace

void Runtime::BeforePinning(void (*fn)()) {
  std::lock_guard<std::mutex> lock(HooksMutex());
  Hooks().push_back(fn);
}

void Runtime::Run(int workers, const std::function<void(Worker&)>& body,
                  const RuntimeOptions& options) {
  DM_CHECK_MSG(workers >= 1 && workers <= kMaxWorkers,
               "worker count out of range");
  const WorkerFailure failure = Launch(
      workers, [&body](Worker& worker, WorkerFailure*) { body(worker); },
      options);
  DM_CHECK_MSG(failure.code == 0, failure.message.c_str());
}

WorkerFailure Runtime::Launch(int workers, const CoreBody& body,
                              const RuntimeOptions& options) {
  if (LaunchedProcesses() <= 1) return RunOn(nullptr, workers, body, options);
  std::unique_ptr<ProcessLink> link;
  std::string error;
  if (!JoinLaunchedProcesses(workers, &link, &error)) {
    return WorkerFailure{
        -1, static_cast<int32_t>(absl::StatusCode::kFailedPrecondition), error};
  }
  return RunOn(link.get(), workers, body, options);
}

WorkerFailure Runtime::RunOn(ProcessLink* link, int workers,
                             const CoreBody& body,
                             const RuntimeOptions& options) {
  if (options.tune_allocator) TuneAllocator();
  if (options.one_heap) ShareOneHeap();
  auto fabric = link != nullptr ? std::make_unique<Fabric>(workers, link)
                                : std::make_unique<Fabric>(workers);
  // The CPUs the caller may run on: the workers are spread over them, and
  // the caller gets its mask back at the end. Processes that share a host
  // take consecutive slices; a run across processes of unknown placement
  // (a loopback run) is not pinned.
  cpu_set_t caller_mask;
  std::vector<int> cpus;
  if (pthread_getaffinity_np(pthread_self(), sizeof(caller_mask),
                             &caller_mask) == 0) {
    cpus = CpusOf(caller_mask);
  }
  int offset = 0;
  if (link != nullptr) {
    offset = LaunchedProcesses() > 1 ? LocalProcessIndex() * workers : -1;
  }
  const char* pin_env = std::getenv("DIFFMESH_PIN_WORKERS");
  const bool pin = options.pin_workers && offset >= 0 &&
                   static_cast<int>(cpus.size()) >= offset + workers &&
                   !(pin_env != nullptr && std::strcmp(pin_env, "0") == 0);
  if (pin) {
    std::vector<void (*)()> hooks;
    {
      std::lock_guard<std::mutex> lock(HooksMutex());
      hooks = Hooks();
    }
    for (void (*fn)() : hooks) fn();
  }
  const int first = fabric->first();
  std::vector<WorkerFailure> outcomes(static_cast<size_t>(workers));
  std::vector<std::thread> threads;
  threads.reserve(workers - 1);
  for (int i = 1; i < workers; ++i) {
    threads.emplace_back(RunWorker, fabric.get(), first + i, std::cref(body),
                         pin ? cpus[offset + i] : -1, &outcomes[i]);
  }
  RunWorker(fabric.get(), first, body, pin ? cpus[offset] : -1, &outcomes[0]);
  for (std::thread& t : threads) t.join();
  if (pin) {
    pthread_setaffinity_np(pthread_self(), sizeof(caller_mask), &caller_mask);
  }
  std::vector<WorkerFailure> failures;
  for (int i = 0; i < workers; ++i) {
    if (outcomes[i].code == 0) continue;
    outcomes[i].worker = first + i;
    failures.push_back(std::move(outcomes[i]));
  }
  failures = fabric->Finish(std::move(failures));
  if (failures.empty()) return WorkerFailure{};
  WorkerFailure f = failures.front();
  std::string who = "worker " + std::to_string(f.worker);
  if (link != nullptr) {
    who += " (process " + std::to_string(f.worker / workers) + ")";
  }
  f.message = who + ": " + f.message;
  return f;
}

}  // namespace diffmesh
