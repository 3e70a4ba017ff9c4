#include "catalog/mesh_reader.h"

#include "absl/strings/str_cat.h"

namespace diffmesh {

SnapshotBoard::SnapshotBoard()
    : latest_(std::make_shared<const MeshSnapshot>(MeshSnapshot::Parts{})) {}

std::shared_ptr<const MeshSnapshot> SnapshotBoard::Latest() const {
  std::lock_guard<std::mutex> lock(mu_);
  return latest_;
}

absl::StatusOr<std::shared_ptr<const MeshSnapshot>> SnapshotBoard::WaitFor(
    uint64_t time, absl::Duration timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  auto reached = [&] { return !latest_->empty() && latest_->time() >= time; };
  if (!changed_.wait_for(lock, absl::ToChronoNanoseconds(timeout), reached)) {
    return absl::DeadlineExceededError(
        absl::StrCat("no snapshot at time ", time, " or later within ",
                     absl::FormatDuration(timeout), " (latest: ",
                     latest_->empty() ? std::string("none")
                                      : absl::StrCat("time ", latest_->time()),
                     ")"));
  }
  return latest_;
}

void SnapshotBoard::Put(std::shared_ptr<const MeshSnapshot> snapshot) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    latest_.swap(snapshot);
  }
  changed_.notify_all();
  // The old snapshot (now in `snapshot`) is released outside the lock.
}

}  // namespace diffmesh
