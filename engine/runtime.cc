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
               const std::function<void(Worker&)>& body, int cpu) {
  if (cpu >= 0) PinTo(cpu);
  Worker worker(fabric, index);
  body(worker);
  // Drain: peers may still need this worker's share of the work.
  worker.StepWhile([&] { return !worker.AllComplete(); });
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
  if (options.tune_allocator) TuneAllocator();
  auto fabric = std::make_unique<Fabric>(workers);
  // The CPUs the caller may run on: the workers are spread over them, and
  // the caller gets its mask back at the end.
  cpu_set_t caller_mask;
  std::vector<int> cpus;
  if (pthread_getaffinity_np(pthread_self(), sizeof(caller_mask),
                             &caller_mask) == 0) {
    cpus = CpusOf(caller_mask);
  }
  const char* pin_env = std::getenv("DIFFMESH_PIN_WORKERS");
  const bool pin = options.pin_workers &&
                   static_cast<int>(cpus.size()) >= workers &&
                   !(pin_env != nullptr && std::strcmp(pin_env, "0") == 0);
  if (pin) {
    std::vector<void (*)()> hooks;
    {
      std::lock_guard<std::mutex> lock(HooksMutex());
      hooks = Hooks();
    }
    for (void (*fn)() : hooks) fn();
  }
  std::vector<std::thread> threads;
  threads.reserve(workers - 1);
  for (int i = 1; i < workers; ++i) {
    threads.emplace_back(RunWorker, fabric.get(), i, std::cref(body),
                         pin ? cpus[i] : -1);
  }
  RunWorker(fabric.get(), 0, body, pin ? cpus[0] : -1);
  for (std::thread& t : threads) t.join();
  if (pin) {
    pthread_setaffinity_np(pthread_self(), sizeof(caller_mask), &caller_mask);
  }
}

}  // namespace diffmesh
