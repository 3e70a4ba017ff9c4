#include "engine/progress_exchange.h"

#include <utility>

namespace diffmesh {

namespace {
// The purpose tag of a dataflow's progress channel (operator -1: the
// dataflow itself).
constexpr int kProgressPurpose = 0;
}  // namespace

ProgressExchange::ProgressExchange(Fabric* fabric, int dataflow, int worker)
    : fabric_(fabric),
      worker_(worker),
      channel_(
          fabric->Channel<Channel>(ChannelKey{dataflow, -1, kProgressPurpose})),
      received_(fabric->peers(), 0) {}

void ProgressExchange::Send() {
  auto batch = std::make_shared<ProgressBatch>();
  batch->from = worker_;
  batch->changes = std::move(outbox_);
  outbox_ = {};
  changes_sent_ += batch->changes.size();
  ++batches_sent_;
  std::shared_ptr<const ProgressBatch> shared = std::move(batch);
  for (int peer = 0; peer < fabric_->peers(); ++peer) {
    if (peer != worker_) channel_->Push(peer, shared);
  }
}

void ProgressExchange::Start(ProgressTracker* tracker) {
  // The first batch goes out even when empty: peers count it.
  ConsolidateProgress(outbox_);
  Send();
  Doorbell& doorbell = fabric_->doorbell(worker_);
  for (;;) {
    uint64_t seen = doorbell.Seen();
    Receive(tracker);
    bool all = true;
    for (int peer = 0; peer < fabric_->peers(); ++peer) {
      if (peer != worker_ && received_[peer] == 0) all = false;
    }
    if (all) return;
    doorbell.Wait(seen);
  }
}

void ProgressExchange::Broadcast() {
  if (outbox_.empty()) return;
  ConsolidateProgress(outbox_);
  if (!outbox_.empty()) Send();
}

bool ProgressExchange::Receive(ProgressTracker* tracker) {
  if (!channel_->HasMessages(worker_)) return false;
  channel_->DrainInto(worker_, &inbox_);
  bool any = false;
  for (const auto& batch : inbox_) {
    ++received_[batch->from];
    for (const ProgressChange& change : batch->changes) {
      tracker->Update(change);
      any = true;
    }
  }
  inbox_.clear();
  return any;
}

}  // namespace diffmesh
