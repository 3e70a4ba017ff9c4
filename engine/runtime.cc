#include "engine/runtime.h"

#include <memory>
#include <thread>
#include <vector>

#include "engine/check.h"
#include "engine/fabric.h"

namespace diffmesh {

namespace {
void RunWorker(Fabric* fabric, int index,
               const std::function<void(Worker&)>& body) {
  Worker worker(fabric, index);
  body(worker);
  // Drain: peers may still need this worker's share of the work.
  worker.StepWhile([&] { return !worker.AllComplete(); });
}
}  // namespace

void Runtime::Run(int workers, const std::function<void(Worker&)>& body) {
  DM_CHECK_MSG(workers >= 1 && workers <= kMaxWorkers,
               "worker count out of range");
  auto fabric = std::make_unique<Fabric>(workers);
  std::vector<std::thread> threads;
  threads.reserve(workers - 1);
  for (int i = 1; i < workers; ++i) {
    threads.emplace_back(RunWorker, fabric.get(), i, std::cref(body));
  }
  RunWorker(fabric.get(), 0, body);
  for (std::thread& t : threads) t.join();
}

}  // namespace diffmesh
