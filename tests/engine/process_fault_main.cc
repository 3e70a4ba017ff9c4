// A run across processes in which one process fails, for
// tests/engine/process_faults.sh:
//   process_fault error R   the body of rank R's worker returns an error
//                           at round 50; every process must report it
//   process_fault kill R    rank R kills itself at round 50; mpirun must
//                           end the job instead of the others hanging
// Prints "done: N rounds" when the run succeeds, "error: ..." when it
// returns an error (exit 1).
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "absl/status/status.h"
#include "engine/input.h"
#include "engine/probe.h"
#include "engine/runtime.h"
#include "operators/count.h"

using namespace diffmesh;

int main(int argc, char** argv) {
  if (argc != 3 || (std::strcmp(argv[1], "error") != 0 &&
                    std::strcmp(argv[1], "kill") != 0 &&
                    std::strcmp(argv[1], "none") != 0)) {
    std::fprintf(stderr, "usage: %s error|kill|none RANK\n", argv[0]);
    return 2;
  }
  const bool kill = std::strcmp(argv[1], "kill") == 0;
  const bool none = std::strcmp(argv[1], "none") == 0;
  const int rank = std::atoi(argv[2]);
  constexpr uint64_t kRounds = 200;
  absl::Status status = Runtime::Execute(1, [&](Worker& worker) {
    Graph& graph = worker.NewDataflow("fault");
    auto [input, numbers] = NewInput<uint64_t>(graph);
    auto probe = ProbeStream(Count(numbers).stream);
    for (uint64_t round = 0; round < kRounds; ++round) {
      if (!none && round == 50 && Runtime::ProcessIndex() == rank) {
        if (kill) std::raise(SIGKILL);
        return absl::InvalidArgumentError("rank " + std::to_string(rank) +
                                          " gave up at round 50");
      }
      input.Insert(round % 17);
      input.AdvanceTo(round + 1);
      worker.StepWhile([&] { return probe.LessThan(round + 1); });
    }
    return absl::OkStatus();
  });
  if (!status.ok()) {
    std::printf("error: %s\n", status.ToString().c_str());
    return 1;
  }
  std::printf("done: %llu rounds\n", static_cast<unsigned long long>(kRounds));
  return 0;
}
