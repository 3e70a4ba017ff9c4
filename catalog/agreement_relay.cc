#include "catalog/agreement_relay.h"

#include <vector>

#include "catalog/worker_agreement.h"

namespace diffmesh {

AgreementRelay::AgreementRelay(Fabric* fabric, int worker, int dataflows)
    : fabric_(fabric),
      worker_(worker),
      box_(fabric->Channel<Mailbox<Call>>(
          ChannelKey{kOutsideDataflows, dataflows, 0})) {}

void AgreementRelay::SendEncoded(const Call& call) {
  const int threads = fabric_->threads();
  for (int first = 0; first < fabric_->peers(); first += threads) {
    if (!fabric_->IsLocal(first)) box_->Push(worker_, first, call);
  }
  fabric_->Pump();
}

void AgreementRelay::SendLeft() { SendEncoded(Call{}); }

absl::StatusOr<std::string> AgreementRelay::ReceiveEncoded(
    uint64_t number, const std::string& what) {
  std::vector<Call> drained;
  for (;;) {
    const uint64_t seen = fabric_->doorbell(worker_).Seen();
    box_->DrainInto(worker_, &drained);
    for (Call& call : drained) {
      if (call.what.empty()) {
        left_ = true;
      } else if (call.number >= number) {
        arrived_[call.number] = std::move(call);
      }
    }
    drained.clear();
    // Calls before this one are ones this process's workers failed early.
    arrived_.erase(arrived_.begin(), arrived_.lower_bound(number));
    auto it = arrived_.find(number);
    if (it != arrived_.end()) {
      Call call = std::move(it->second);
      arrived_.erase(it);
      if (call.what != what) {
        return WorkerAgreement::Diverged(worker_, what, call.what, number);
      }
      return std::move(call.value);
    }
    if (left_) {
      return WorkerAgreement::Left(worker_, what);
    }
    fabric_->Wait(worker_, seen);
  }
}

}  // namespace diffmesh
