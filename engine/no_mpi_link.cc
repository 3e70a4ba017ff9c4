// JoinLaunchedProcesses for a build without MPI (engine/process_link.h).
#include <memory>
#include <string>

#include "engine/process_link.h"

namespace diffmesh {

bool JoinLaunchedProcesses(int threads, std::unique_ptr<ProcessLink>* link,
                           std::string* error) {
  *error = "this program was launched as one of " +
           std::to_string(LaunchedProcesses()) +
           " processes, but diffmesh was built without MPI (install Debian's "
           "libopenmpi-dev and configure again)";
  return false;
}

}  // namespace diffmesh
