// ParseFrames (engine/fabric.h): CheckFrames as an absl::Status, in a file
// of its own so that a program which never calls it links no Status code.
#include <string>

#include "engine/fabric.h"

namespace diffmesh {

absl::Status ParseFrames(
    absl::string_view batch, int peers,
    const std::function<void(const FrameHeader&, absl::string_view)>& frame) {
  const std::string refused = CheckFrames(batch, peers, frame);
  if (refused.empty()) return absl::OkStatus();
  return absl::DataLossError(refused);
}

}  // namespace diffmesh
