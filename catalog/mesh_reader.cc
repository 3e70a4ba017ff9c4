#include "catalog/mesh_reader.h"

#include "absl/strings/str_cat.h"
#include "engine/status_macros.h"

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

absl::StatusOr<std::shared_ptr<Subscription>> MeshReader::Subscribe(
    SubscribeOptions options) const {
  if (options.principal.empty()) return hub_->Subscribe(std::move(options));
  const std::string& id = options.id;
  if (id.empty()) {
    return absl::InvalidArgumentError(
        "a principal's subscription follows one product: give its id");
  }
  for (MeshStream stream : options.streams) {
    if (stream != MeshStream::kProductRows) {
      return absl::InvalidArgumentError(absl::StrCat(
          "a principal's subscription gives product rows only, not ",
          MeshStreamName(stream)));
    }
  }
  options.streams = {MeshStream::kProductRows};
  std::shared_ptr<const MeshSnapshot> latest = board_->Latest();
  if (latest->empty()) {
    return absl::FailedPreconditionError(
        "a principal's subscription starts from a snapshot: none is closed "
        "yet");
  }
  const uint64_t next = latest->time() + 1;
  const uint64_t from = options.from.value_or(next);
  if (from > next) {
    return absl::InvalidArgumentError(
        absl::StrCat("a principal's subscription starts at time ", next,
                     " at the latest, not ", from));
  }
  const std::string& access = latest->parts().access_product;
  if (from < next && !access.empty()) {
    std::vector<DataVersion> versions = latest->DataVersions(access);
    if (!versions.empty() && versions.back().time >= from) {
      return absl::AbortedError(absl::StrCat(
          "access changed at time ", versions.back().time,
          ", after the resume time ", from, ": read ", id,
          " again (ReadAs) and subscribe from that snapshot's time + 1"));
    }
  }
  DM_ASSIGN_OR_RETURN(ProductView view, latest->ViewFor(options.principal, id));
  AccessWatch watch;
  watch.access_product = access;
  DM_ASSIGN_OR_RETURN(watch.product, latest->Descriptor(id));
  if (!access.empty()) {
    if (const ProductRows* rows = latest->Find(access)) {
      watch.entries = AccessEntries(rows->rows, options.principal, id);
    }
  }
  watch.view = std::move(view);
  options.from = from;
  return hub_->Subscribe(std::move(options), std::move(watch));
}

}  // namespace diffmesh
