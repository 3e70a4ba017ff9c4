#include "catalog/mesh_agreement.h"

namespace diffmesh {

MeshAgreement::MeshAgreement(Worker& worker, WorkerAgreement* local)
    : worker_(worker), local_(local) {
  // The relay's channel is named by the dataflows made so far: every
  // worker makes its agreement at the same point.
  if (worker.spans_processes()) {
    relay_ = std::make_unique<AgreementRelay>(
        worker.fabric(), worker.index(),
        static_cast<int>(worker.num_dataflows()));
  }
}

void MeshAgreement::FeederLeft() {
  if (!feeder()) return;
  if (worker_.peers() > 1) local_->FeederLeft();
  if (relay_ != nullptr) relay_->SendLeft();
}

}  // namespace diffmesh
