// MeshReader: a handle on a running mesh for other threads -- a server's,
// a dashboard's, a test's -- to take snapshots and subscribe.
//
//   MeshReader reader = mesh->Reader();        // on the worker's thread
//   std::thread t([reader] {                   // then anywhere
//     std::shared_ptr<const MeshSnapshot> s = reader.Latest();
//     auto sub = reader.Subscribe({.from = s->empty() ? 0 : s->time() + 1});
//   });
//
// Taking a snapshot copies a pointer under a lock held for nothing else,
// so readers never hold up the workers for more than that, and any number
// read at once. A reader may outlive the mesh: it keeps the last snapshot,
// and its subscriptions are told the mesh closed.
// Thread-safety: thread-safe; copies share one board.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "catalog/mesh_snapshot.h"
#include "catalog/subscription.h"

namespace diffmesh {

// Where the mesh puts each closed time's snapshot.
class SnapshotBoard {
 public:
  SnapshotBoard();
  std::shared_ptr<const MeshSnapshot> Latest() const;
  // The first snapshot at `time` or later; DeadlineExceeded after `timeout`.
  absl::StatusOr<std::shared_ptr<const MeshSnapshot>> WaitFor(
      uint64_t time, absl::Duration timeout) const;
  void Put(std::shared_ptr<const MeshSnapshot> snapshot);

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable changed_;
  std::shared_ptr<const MeshSnapshot> latest_;
};

class MeshReader {
 public:
  MeshReader(std::shared_ptr<SnapshotBoard> board,
             std::shared_ptr<SubscriptionHub> hub)
      : board_(std::move(board)), hub_(std::move(hub)) {}

  // The last closed time's snapshot (empty() before the first).
  std::shared_ptr<const MeshSnapshot> Latest() const {
    return board_->Latest();
  }
  absl::StatusOr<std::shared_ptr<const MeshSnapshot>> WaitFor(
      uint64_t time, absl::Duration timeout) const {
    return board_->WaitFor(time, timeout);
  }
  // See catalog/subscription.h. A principal's subscription starts from
  // the latest snapshot's view: FailedPrecondition before the first closed
  // time, InvalidArgument without a product id, for streams other than
  // rows or for a `from` after the next time, Aborted when `from` is older
  // than the last change of the access product (resume from ReadAs's
  // snapshot instead), and ViewFor's errors.
  absl::StatusOr<std::shared_ptr<Subscription>> Subscribe(
      SubscribeOptions options) const;

 private:
  std::shared_ptr<SnapshotBoard> board_;
  std::shared_ptr<SubscriptionHub> hub_;
};

}  // namespace diffmesh
