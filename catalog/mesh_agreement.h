// MeshAgreement: how the workers of one mesh learn what worker 0 read or
// wrote, in one process or across several. Worker 0 computes each call;
// within its process the others take the result from the MeshGroup's
// WorkerAgreement. Across processes worker 0 also relays it
// (AgreementRelay) to the first worker of every other process, which runs
// `received` on it and hands it to its own process's workers the same way.
//
//   MeshAgreement agreement(worker, &group->agreement);
//   absl::Status s = agreement.Agree<absl::Status>("Advance", close,
//                                                  close_replica);
//
// Every worker calls Agree at the same points in the same order; a worker
// whose call differs from worker 0's, or that waits for a worker 0 that
// left (FeederLeft), gets FailedPrecondition. T is absl::Status or has a
// `status` member, and crosses processes (engine/wire.h).
//
// Thread-safety: one worker's thread (the WorkerAgreement is shared).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "catalog/agreement_relay.h"
#include "catalog/worker_agreement.h"
#include "engine/graph.h"

namespace diffmesh {

class MeshAgreement {
 public:
  // `local` is this process's (its MeshGroup's); it outlives this.
  MeshAgreement(Worker& worker, WorkerAgreement* local);

  // Call `what`: worker 0 runs `compute`; every worker returns its result.
  // Across processes the first worker of each other process runs
  // `received` on the result (to do to its process's history what
  // `compute` did to worker 0's).
  template <class T>
  T Agree(const std::string& what, const std::function<T()>& compute,
          const std::function<void(const T&)>& received = nullptr) {
    const int peers = worker_.peers();
    if (peers == 1) return compute();
    const uint64_t number = calls_++;
    if (relay_ == nullptr) {
      return local_->Agree<T>(worker_.index(), peers, number, what, compute);
    }
    std::function<T()> first = compute;
    if (!feeder()) {
      first = [&]() -> T {
        absl::StatusOr<T> value = relay_->Receive<T>(number, what);
        if (!value.ok()) return WorkerAgreement::Failed<T>(value.status());
        if (received) received(*value);
        return *std::move(value);
      };
    }
    const int local_peers = worker_.local_peers();
    T value = local_peers == 1
                  ? first()
                  : local_->Agree<T>(worker_.index() - worker_.first_local(),
                                     local_peers, number, what, first);
    if (feeder()) relay_->Send(number, what, value);
    return value;
  }

  // Worker 0's mesh is gone: a worker still waiting (or about to) is told.
  void FeederLeft();
  bool spans_processes() const { return relay_ != nullptr; }

 private:
  bool feeder() const { return worker_.index() == 0; }

  Worker& worker_;
  WorkerAgreement* local_;
  std::unique_ptr<AgreementRelay> relay_;  // across processes only
  uint64_t calls_ = 0;
};

}  // namespace diffmesh
