#include "engine/fabric.h"

#include <chrono>
#include <thread>

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

}  // namespace diffmesh
