#include "engine/progress_exchange.h"

#include <utility>

#include "engine/check.h"

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
  changes_sent_ += outbox_.size();
  ++batches_sent_;
  // Each peer of this process gets its own copy (a lane holds its messages
  // by value, so a receiver reads the changes without chasing a shared
  // pointer); each other process one frame for all its workers.
  channel_->Broadcast(worker_, ProgressBatch{worker_,
                                             std::exchange(overflow_, false),
                                             {outbox_.begin(), outbox_.end()}});
  outbox_.clear();
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
    fabric_->Wait(worker_, seen);
  }
}

void ProgressExchange::Broadcast() {
  if (outbox_.empty() && !overflow_) return;
  ConsolidateProgress(outbox_);
  if (!outbox_.empty() || overflow_) Send();
}

bool ProgressExchange::Receive(ProgressTracker* tracker) {
  if (!channel_->HasMessages(worker_)) return false;
  channel_->DrainInto(worker_, &inbox_);
  bool any = false;
  for (const ProgressBatch& batch : inbox_) {
    // A batch decoded from another process's bytes is checked here, where
    // the run's workers and the dataflow's locations are known.
    DM_CHECK_MSG(
        batch.from >= 0 && static_cast<size_t>(batch.from) < received_.size(),
        "a progress batch names a sender outside the run's workers");
    ++received_[batch.from];
    peers_overflow_ |= batch.overflow;
    for (const ProgressChange& change : batch.changes) {
      DM_CHECK_MSG(
          change.index >= 0 && static_cast<size_t>(change.index) <
                                   (change.is_source ? tracker->num_sources()
                                                     : tracker->num_targets()),
          "a progress change names a location the dataflow lacks: "
          "the processes built different dataflows");
      tracker->Update(change);
      any = true;
    }
  }
  inbox_.clear();
  return any;
}

void ProgressBatch::WireEncode(WireWriter& writer) const {
  diffmesh::WireEncode(writer, static_cast<int32_t>(from));
  const uint8_t flag = overflow ? 1 : 0;
  writer.Bytes(&flag, 1);
  writer.Size(changes.size());
  for (const ProgressChange& c : changes) {
    const uint8_t kind = c.is_source ? 1 : 0;
    writer.Bytes(&kind, 1);
    diffmesh::WireEncode(writer, static_cast<int32_t>(c.index));
    writer.Bytes(&c.time.depth, 1);
    writer.Bytes(c.time.coords.data(), c.time.depth * sizeof(uint64_t));
    diffmesh::WireEncode(writer, c.delta);
  }
}

bool ProgressBatch::WireDecode(WireReader& reader) {
  int32_t sender;
  uint8_t flag;
  uint64_t n;
  if (!diffmesh::WireDecode(reader, sender) || !reader.Bytes(&flag, 1) ||
      flag > 1 || !reader.Size(&n, reader.remaining() / 14)) {
    return reader.Fail();
  }
  from = sender;
  overflow = flag == 1;
  changes.clear();
  changes.resize(n);
  for (ProgressChange& c : changes) {
    uint8_t kind;
    int32_t index;
    if (!reader.Bytes(&kind, 1) || kind > 1 ||
        !diffmesh::WireDecode(reader, index) ||
        !reader.Bytes(&c.time.depth, 1) || c.time.depth > kMaxTimeDepth ||
        !reader.Bytes(c.time.coords.data(), c.time.depth * sizeof(uint64_t)) ||
        !diffmesh::WireDecode(reader, c.delta)) {
      return reader.Fail();
    }
    c.is_source = kind == 1;
    c.index = index;
  }
  return true;
}

}  // namespace diffmesh
