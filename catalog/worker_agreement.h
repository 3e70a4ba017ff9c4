// WorkerAgreement: how the workers of one mesh learn what worker 0 read or
// wrote. Worker 0 publishes each call's result under the call's number and
// name; every other worker takes it, checking that it made the same call.
//
//   // worker 0                               // every other worker
//   agreement.Publish(n, "Advance", value);    agreement.Take(w, peers, n,
//                                                             "Advance");
//
// A worker whose call differs from worker 0's, or that waits for a worker
// 0 that has left (FeederLeft), gets FailedPrecondition naming the calls;
// from then on every Publish and Take returns that error, on every worker.
// Thread-safe: shared by the workers (one per MeshGroup).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <type_traits>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace diffmesh {

class WorkerAgreement {
 public:
  // Worker 0, before computing call `number`: the failure, if the workers'
  // calls already diverged.
  absl::Status Failure() const;
  // Worker 0: the result of call `number`, named `what`.
  void Publish(uint64_t number, const std::string& what,
               std::shared_ptr<const void> value);
  // Worker `worker` of `peers`: waits for worker 0's result of call
  // `number` and checks that worker 0 made the same call.
  absl::StatusOr<std::shared_ptr<const void>> Take(int worker, int peers,
                                                   uint64_t number,
                                                   const std::string& what);
  // Worker 0's mesh is gone: a worker still waiting is told.
  void FeederLeft();

  // Call `number`, named `what`, on worker `worker` of `peers`: worker 0
  // runs `compute` and publishes its result, every other worker takes it;
  // a divergent call (or a worker 0 that left) gives every worker the
  // error. T is absl::Status or has a `status` member.
  template <class T>
  T Agree(int worker, int peers, uint64_t number, const std::string& what,
          const std::function<T()>& compute) {
    if (worker == 0) {
      if (absl::Status failed = Failure(); !failed.ok()) {
        return Failed<T>(failed);
      }
      T value = compute();
      Publish(number, what, std::make_shared<const T>(value));
      return value;
    }
    absl::StatusOr<std::shared_ptr<const void>> taken =
        Take(worker, peers, number, what);
    if (!taken.ok()) return Failed<T>(taken.status());
    return *static_cast<const T*>(taken->get());
  }

  // The errors a worker gets when its call `what` (mesh call `number`)
  // differs from worker 0's call `theirs`, or when worker 0 left before it.
  static absl::Status Diverged(int worker, const std::string& what,
                               const std::string& theirs, uint64_t number);
  static absl::Status Left(int worker, const std::string& what);

  // A value of T carrying `status`.
  template <class T>
  static T Failed(const absl::Status& status) {
    if constexpr (std::is_same_v<T, absl::Status>) {
      return status;
    } else {
      T value;
      value.status = status;
      return value;
    }
  }

 private:
  struct Call {
    std::shared_ptr<const void> value;
    std::string what;
    int taken = 0;
  };
  mutable std::mutex mu_;
  std::condition_variable published_;
  std::map<uint64_t, Call> calls_;  // by number, until every worker took it
  absl::Status failed_;
  bool feeder_left_ = false;
};

}  // namespace diffmesh
