// Runtime::StatusOf (engine/runtime.h), in a file of its own so that a
// program that uses only Runtime::Run links no absl::Status code.
#include "engine/runtime.h"

namespace diffmesh {

absl::Status Runtime::StatusOf(const WorkerFailure& failure) {
  if (failure.code == 0) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(failure.code),
                      failure.message);
}

}  // namespace diffmesh
