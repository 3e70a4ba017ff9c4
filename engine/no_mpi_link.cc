// JoinLaunchedProcesses for a build without MPI (engine/process_link.h).
#include <memory>
#include <string>

#include "engine/process_link.h"

namespace diffmesh {

absl::Status JoinLaunchedProcesses(int threads,
                                   std::unique_ptr<ProcessLink>* link) {
  return absl::FailedPreconditionError(
      "this program was launched as one of " +
      std::to_string(LaunchedProcesses()) +
      " processes, but diffmesh was built without MPI (install Debian's "
      "libopenmpi-dev and configure again)");
}

}  // namespace diffmesh
