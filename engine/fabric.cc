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
  std::unique_lock<std::mutex> lock(mutex_);
  sleeping_.store(true, std::memory_order_seq_cst);
  // The timeout only bounds the damage of a bug; wake-ups come from Ring.
  wake_.wait_for(lock, std::chrono::milliseconds(50),
                 [&] { return Seen() != seen; });
  sleeping_.store(false, std::memory_order_seq_cst);
}

}  // namespace diffmesh
