#include "engine/process_link.h"

#include <cstdlib>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace diffmesh {

namespace {

// The queues between loopback processes: one per (sender, receiver) pair.
struct LoopbackHub {
  explicit LoopbackHub(int processes)
      : processes(processes),
        queues(static_cast<size_t>(processes) * processes) {}
  struct Queue {
    std::mutex mutex;
    std::deque<std::string> batches;
  };
  int processes;
  std::vector<Queue> queues;  // [from * processes + to]
};

class LoopbackLink : public ProcessLink {
 public:
  LoopbackLink(std::shared_ptr<LoopbackHub> hub, int process)
      : hub_(std::move(hub)), process_(process) {}
  int process() const override { return process_; }
  int processes() const override { return hub_->processes; }
  void Send(int to, std::string batch) override {
    auto& queue =
        hub_->queues[static_cast<size_t>(process_) * hub_->processes + to];
    std::lock_guard<std::mutex> lock(queue.mutex);
    queue.batches.push_back(std::move(batch));
  }
  void Poll(const std::function<void(int, std::string)>& deliver) override {
    for (int from = 0; from < hub_->processes; ++from) {
      if (from == process_) continue;
      auto& queue =
          hub_->queues[static_cast<size_t>(from) * hub_->processes + process_];
      std::deque<std::string> taken;
      {
        std::lock_guard<std::mutex> lock(queue.mutex);
        taken.swap(queue.batches);
      }
      for (std::string& batch : taken) deliver(from, std::move(batch));
    }
  }
  void Close() override {}
  std::string Describe() const override {
    return "process " + std::to_string(process_) + " of " +
           std::to_string(hub_->processes) + " (in memory)";
  }

 private:
  std::shared_ptr<LoopbackHub> hub_;
  int process_;
};

int EnvInt(const char* name, int fallback) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return fallback;
  char* end = nullptr;
  long parsed = std::strtol(value, &end, 10);
  if (*end != '\0' || parsed < 0 || parsed > 1 << 20) return fallback;
  return static_cast<int>(parsed);
}

}  // namespace

std::vector<std::unique_ptr<ProcessLink>> LoopbackLinks(int processes) {
  auto hub = std::make_shared<LoopbackHub>(processes);
  std::vector<std::unique_ptr<ProcessLink>> links;
  for (int p = 0; p < processes; ++p) {
    links.push_back(std::make_unique<LoopbackLink>(hub, p));
  }
  return links;
}

int LaunchedProcesses() {
  int n = EnvInt("OMPI_COMM_WORLD_SIZE", 0);
  if (n == 0) n = EnvInt("PMI_SIZE", 0);
  return n >= 1 ? n : 1;
}

int LaunchedProcessIndex() {
  if (LaunchedProcesses() == 1) return 0;
  int rank = EnvInt("OMPI_COMM_WORLD_RANK", -1);
  if (rank < 0) rank = EnvInt("PMI_RANK", 0);
  return rank;
}

}  // namespace diffmesh
