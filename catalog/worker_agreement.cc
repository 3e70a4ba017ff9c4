#include "catalog/worker_agreement.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace diffmesh {

absl::Status WorkerAgreement::Diverged(int worker, const std::string& what,
                                       const std::string& theirs,
                                       uint64_t number) {
  return absl::FailedPreconditionError(absl::StrCat(
      "the workers' mesh calls diverged: worker ", worker, " called ", what,
      " where worker 0 called ", theirs, " (mesh call ", number + 1,
      "); every worker must make the same mesh calls in the same order"));
}

absl::Status WorkerAgreement::Left(int worker, const std::string& what) {
  return absl::FailedPreconditionError(absl::StrCat(
      "worker 0 left the mesh (its Mesh was destroyed) before ", what,
      " on worker ", worker,
      ": every worker must make the same mesh calls in the same order"));
}

absl::Status WorkerAgreement::Failure() const {
  std::lock_guard<std::mutex> lock(mu_);
  return failed_;
}

void WorkerAgreement::Publish(uint64_t number, const std::string& what,
                              std::shared_ptr<const void> value) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    Call& call = calls_[number];
    call.value = std::move(value);
    call.what = what;
  }
  published_.notify_all();
}

absl::StatusOr<std::shared_ptr<const void>> WorkerAgreement::Take(
    int worker, int peers, uint64_t number, const std::string& what) {
  std::unique_lock<std::mutex> lock(mu_);
  published_.wait(lock, [&] {
    auto it = calls_.find(number);
    return (it != calls_.end() && it->second.value != nullptr) ||
           !failed_.ok() || feeder_left_;
  });
  auto it = calls_.find(number);
  if (failed_.ok()) {
    if (it == calls_.end() || it->second.value == nullptr) {
      failed_ = Left(worker, what);
    } else if (it->second.what != what) {
      failed_ = Diverged(worker, what, it->second.what, number);
    }
    if (!failed_.ok()) published_.notify_all();
  }
  if (!failed_.ok()) return failed_;
  std::shared_ptr<const void> value = it->second.value;
  if (++it->second.taken == peers - 1) calls_.erase(it);
  return value;
}

void WorkerAgreement::FeederLeft() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    feeder_left_ = true;
  }
  published_.notify_all();
}

}  // namespace diffmesh
