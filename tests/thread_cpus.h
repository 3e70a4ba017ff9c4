// The CPUs the calling thread may run on, in order (tests of pinning).
#pragma once

#include <pthread.h>
#include <sched.h>

#include <vector>

namespace diffmesh::testing {

inline std::vector<int> ThreadCpus() {
  std::vector<int> cpus;
  cpu_set_t set;
  if (pthread_getaffinity_np(pthread_self(), sizeof(set), &set) != 0) {
    return cpus;
  }
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
  }
  return cpus;
}

}  // namespace diffmesh::testing
