#include "engine/memory.h"

#include <cstdlib>
#include <cstring>
#include <mutex>

#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <unistd.h>

namespace diffmesh {
namespace {

// DIFFMESH_SYSTEM_MALLOC=1: the allocator stays as the environment set it.
bool SystemMallocAsked() {
  const char* opt_out = std::getenv("DIFFMESH_SYSTEM_MALLOC");
  return opt_out != nullptr && std::strcmp(opt_out, "1") == 0;
}

}  // namespace

void TuneAllocator() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (SystemMallocAsked()) return;
#if defined(__GLIBC__)
    constexpr int kMiB = 1 << 20;
    mallopt(M_MMAP_THRESHOLD, 32 * kMiB);
    mallopt(M_TRIM_THRESHOLD, 256 * kMiB);
    mallopt(M_TOP_PAD, 64 * kMiB);
#endif
  });
}

void ShareOneHeap() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (SystemMallocAsked()) return;
#if defined(__GLIBC__)
    mallopt(M_ARENA_MAX, 1);
#endif
  });
}

void StartWithHugePages(char** argv) {
  if (std::getenv("GLIBC_TUNABLES") != nullptr) return;
  if (SystemMallocAsked()) return;
#if defined(__GLIBC__) && defined(__linux__)
  if (::setenv("GLIBC_TUNABLES", "glibc.malloc.hugetlb=1", 1) != 0) return;
  ::execv("/proc/self/exe", argv);
  // Not executed again: go on as started.
  ::unsetenv("GLIBC_TUNABLES");
#else
  (void)argv;
#endif
}

}  // namespace diffmesh
