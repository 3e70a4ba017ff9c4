#include "engine/fabric.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <utility>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace diffmesh {

namespace {
void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#endif
}
}  // namespace

bool Doorbell::Spin(uint64_t seen) const {
  for (int i = 0; i < 2000; ++i) {
    if (Seen() != seen) return true;
    CpuRelax();
  }
  return false;
}

void Doorbell::Wait(uint64_t seen) {
  // Spinning first keeps the round trip of a small round short; yielding
  // then lets other workers run when there are more workers than cores;
  // sleeping last keeps an idle worker off the CPU.
  if (Spin(seen)) return;
  for (int i = 0; i < 200; ++i) {
    if (Seen() != seen) return;
    std::this_thread::yield();
  }
  Sleep(seen);
}

void Doorbell::Sleep(uint64_t seen) {
  std::unique_lock<std::mutex> lock(mutex_);
  sleeping_.store(true, std::memory_order_seq_cst);
  sleeps_.fetch_add(1, std::memory_order_relaxed);
  // The timeout only bounds the damage of a bug; wake-ups come from Ring.
  const auto start = std::chrono::steady_clock::now();
  const bool rang =
      wake_.wait_for(lock, kSleepLimit, [&] { return Seen() != seen; });
  if (rang && std::chrono::steady_clock::now() - start >= kSleepLimit) {
    late_wakeups_.fetch_add(1, std::memory_order_relaxed);
  }
  sleeping_.store(false, std::memory_order_seq_cst);
}

Fabric::Fabric(int peers) : Fabric(peers, nullptr) {}

Fabric::Fabric(int threads, ProcessLink* link)
    : threads_(threads),
      link_(link),
      processes_(link != nullptr ? link->processes() : 1),
      first_(link != nullptr ? link->process() * threads : 0),
      peers_(threads * processes_),
      doorbells_(threads) {
  DM_CHECK_MSG(threads >= 1, "a runtime needs at least one worker");
  if (link_ != nullptr) {
    for (int p = 0; p < processes_; ++p) {
      outboxes_.push_back(std::make_unique<Outbox>());
    }
    finished_.assign(processes_, 0);
  }
}

std::string CheckFrames(
    absl::string_view batch, int peers,
    const std::function<void(const FrameHeader&, absl::string_view)>& frame) {
  size_t at = 0;
  while (at < batch.size()) {
    FrameHeader header;
    if (batch.size() - at < sizeof header) {
      return ("batch cut short at byte " + std::to_string(at) + " of " +
              std::to_string(batch.size()) + ": a frame header needs " +
              std::to_string(sizeof header) + " bytes");
    }
    std::memcpy(&header, batch.data() + at, sizeof header);
    if (header.size > batch.size() - at - sizeof header) {
      return ("frame at byte " + std::to_string(at) + " says " +
              std::to_string(header.size) + " bytes follow, but " +
              std::to_string(batch.size() - at - sizeof header) + " do");
    }
    const bool control = header.dataflow == kControlDataflow;
    if (!control && (header.from < 0 || header.from >= peers ||
                     header.to < kEveryWorker || header.to >= peers)) {
      return ("frame at byte " + std::to_string(at) + " is from worker " +
              std::to_string(header.from) + " to worker " +
              std::to_string(header.to) + ", outside the run's " +
              std::to_string(peers) + " workers");
    }
    if (!control && header.dataflow < 0 &&
        header.dataflow != kOutsideDataflows) {
      return ("frame at byte " + std::to_string(at) + " names dataflow " +
              std::to_string(header.dataflow));
    }
    frame(header,
          absl::string_view(batch.data() + at + sizeof header, header.size));
    at += sizeof header + header.size;
  }
  return std::string();
}

void Fabric::AdoptEarlyFrames(const ChannelKey& key, RemoteInbox* inbox) {
  inboxes_[key] = inbox;
  auto it = early_.find(key);
  if (it == early_.end()) return;
  for (const EarlyFrame& frame : it->second) {
    inbox->Deliver(frame.from, frame.to, frame.batch, frame.bytes);
  }
  early_.erase(it);
}

void Fabric::Dispatch(int from_process,
                      std::shared_ptr<const std::string> batch) {
  const std::string refused = CheckFrames(
      *batch, peers_, [&](const FrameHeader& header, absl::string_view bytes) {
        if (header.dataflow == kControlDataflow) {
          WireReader reader(bytes);
          std::vector<WorkerFailure> failures;
          DM_CHECK_MSG(WireDecode(reader, failures) && reader.done(),
                       "another process's end-of-run message did not decode");
          for (WorkerFailure& f : failures) {
            remote_failures_.push_back(std::move(f));
          }
          finished_[from_process] = 1;
          return;
        }
        DM_CHECK_MSG((header.to == kEveryWorker || IsLocal(header.to)) &&
                         !IsLocal(header.from),
                     "a frame from another process names a worker of the "
                     "wrong process");
        const ChannelKey key{header.dataflow, header.op, header.purpose};
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = inboxes_.find(key);
        if (it != inboxes_.end()) {
          it->second->Deliver(header.from, header.to, batch, bytes);
        } else {
          early_[key].push_back(
              EarlyFrame{header.from, header.to, batch, bytes});
        }
      });
  if (!refused.empty()) {
    std::string message = "process " + std::to_string(from_process) +
                          " sent a malformed batch: " + refused;
    DM_CHECK_MSG(false, message.c_str());
  }
}

void Fabric::Pump() {
  if (link_ == nullptr) return;
  std::unique_lock<std::mutex> lock(pump_mutex_, std::try_to_lock);
  if (!lock.owns_lock()) return;
  for (int p = 0; p < processes_; ++p) {
    Outbox& box = *outboxes_[p];
    std::string batch;
    {
      std::lock_guard<std::mutex> box_lock(box.mutex);
      if (box.bytes.empty()) continue;
      batch.swap(box.bytes);
    }
    link_->Send(p, std::move(batch));
  }
  link_->Poll([this](int from, std::string batch) {
    Dispatch(from, std::make_shared<const std::string>(std::move(batch)));
  });
}

bool Fabric::Spin(int worker, uint64_t seen) {
  Doorbell& bell = doorbell(worker);
  if (link_ == nullptr) return bell.Spin(seen);
  for (int i = 0; i < 100; ++i) {
    Pump();
    if (bell.Seen() != seen) return true;
    for (int j = 0; j < 16; ++j) CpuRelax();
  }
  return bell.Seen() != seen;
}

void Fabric::Wait(int worker, uint64_t seen) {
  Doorbell& bell = doorbell(worker);
  if (link_ == nullptr) {
    bell.Wait(seen);
    return;
  }
  // Nothing parks while another process may be sending: someone has to
  // pump. Spin first (a small round's reply comes within microseconds),
  // then yield a little (more workers than cores), then sleep in growing
  // steps (an idle run costs little CPU; a reply after a long pause waits
  // at most the last step). Yielding for milliseconds instead measured
  // no better on bench/bfs 1M/10M across two processes.
  if (Spin(worker, seen)) return;
  for (int i = 0; i < kYields; ++i) {
    Pump();
    if (bell.Seen() != seen) return;
    std::this_thread::yield();
  }
  auto pause = std::chrono::microseconds(20);
  for (;;) {
    Pump();
    if (bell.Seen() != seen) return;
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(1000));
  }
}

std::vector<WorkerFailure> Fabric::Finish(std::vector<WorkerFailure> local) {
  if (link_ == nullptr) return local;
  const int me = link_->process();
  for (int p = 0; p < processes_; ++p) {
    if (p == me) continue;
    SendFrame(ChannelKey{kControlDataflow, 0, 0}, first_, p * threads_,
              [&](WireWriter& writer) { WireEncode(writer, local); });
  }
  auto pause = std::chrono::microseconds(10);
  for (;;) {
    Pump();
    bool all = true;
    {
      std::lock_guard<std::mutex> lock(pump_mutex_);
      for (int p = 0; p < processes_; ++p) {
        if (p != me && finished_[p] == 0) all = false;
      }
    }
    if (all) break;
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(1000));
  }
  link_->Close();
  std::lock_guard<std::mutex> lock(pump_mutex_);
  for (WorkerFailure& f : remote_failures_) local.push_back(std::move(f));
  std::sort(local.begin(), local.end(),
            [](const WorkerFailure& a, const WorkerFailure& b) {
              return a.worker < b.worker;
            });
  return local;
}

}  // namespace diffmesh
