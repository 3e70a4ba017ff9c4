// The progress protocol between workers: how N workers running the same
// dataflow agree on its frontiers. Everything about it is in this file.
//
//   ProgressExchange exchange(&fabric, /*dataflow=*/0, /*worker=*/1);
//   exchange.Record(/*is_source=*/true, source, t, +1);   // a local change
//   exchange.Start(&tracker);      // once, when the dataflow is sealed
//   exchange.Broadcast();          // at a consistent point (between operators)
//   exchange.Receive(&tracker);    // apply what peers sent
//
// Model. Every worker builds the same dataflow, so a location (an operator's
// output or input) has the same index on every worker. A pointstamp is
// (location, time) with a count summed over all workers: capabilities held
// by any worker's instance of an operator, and messages queued at or in
// flight towards any worker's instance of an input. Each worker's tracker
// holds its *view* of these global counts: all of its own changes, plus, for
// each peer, the changes of a prefix of that peer's batches. A message sent
// to another worker is counted (+1) by its sender and uncounted (-1) by its
// receiver when taken, at a location of its own (the exchange operator's
// remote input, operators/exchange.h) that nothing else counts at.
//
// Invariant (what makes every view safe): a worker broadcasts its own
// changes only at consistent points, i.e. between operator activations and
// between user actions, never in the middle of one; each batch is applied
// atomically and batches from one worker arrive in the order sent. Then
// every view is the sum of consistent prefixes, and in each prefix anything
// that can still produce a message at time t (a capability, a queued or
// in-flight message) is counted at some time <= t upstream of it: a worker
// stops counting a pointstamp only in the same batch that counts what it
// turned into. A view may briefly hold negative counts (a receiver's -1
// for a message whose sender's +1 has not arrived yet). The tracker
// (engine/progress.h) sums counts per location and lets only a location's
// frontier imply anything downstream, so a negative count can hide only
// counts at that same location; and the sender's upstream pointstamp, at
// another location and still in that view, keeps the frontier at or before
// the message's time. So no view's frontier passes a time at which data can
// still arrive, and all views converge to the same frontiers.
//
// Across processes (engine/fabric.h, engine/process_link.h) the same
// argument holds, because the two facts it uses still do. A batch is one
// message, encoded whole and decoded whole by its receiver, so it is still
// applied atomically. And batches from one worker still arrive in the order
// sent: the worker appends them to its process's outbox for the receiver's
// process in order, an outbox leaves as one MPI message per pump, and MPI
// does not let a message overtake an earlier one with the same sender,
// tag and communicator (the non-overtaking rule; the receiver matches any
// source, so messages from different processes may interleave, which the
// argument allows). Data messages travel in the same stream, so a
// receiver's -1 can still come before the sender's +1 and nothing else
// changes. What MPI adds is delay, and delay only makes a view an older
// consistent prefix.
//
// Diff overflows (engine/difference.h) ride on the batches: a batch says
// whether its sender's operators overflowed a diff since its previous
// batch, and a receiver remembers it (TakePeersOverflow). The flag leaves
// in the batch that reports the overflowing activation's changes, so a
// worker whose frontier has passed a time has also heard of every overflow
// any worker of any process raised while computing it.
//
// Start-up: changes made while the dataflow was built (initial
// capabilities, data sent before the first step) are each worker's first
// batch; a worker starts running the dataflow only after it has applied the
// first batch of every peer, so no view ever misses a peer's capability.
//
// Costs: a broadcast is one consolidated vector, copied into the lane of
// each peer in this process and encoded once per other process, whose
// workers all read that one frame (Mailbox::Broadcast; changes that cancel,
// such as a message consumed and re-sent at the same time, vanish before
// sending). Thread-safety: one instance per worker and dataflow, used only
// by that worker's thread.
#pragma once

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "engine/fabric.h"
#include "engine/progress.h"
#include "engine/timestamp.h"
#include "engine/wire.h"

namespace diffmesh {

struct ProgressBatch {
  int from;
  bool overflow = false;  // the sender overflowed a diff since its last batch
  // A small round's batch holds a few changes: they travel inside the
  // mailbox slot, so the receiver reads them right after the slot instead
  // of chasing a pointer into memory the sender's core wrote last.
  absl::InlinedVector<ProgressChange, 4> changes;

  // Across processes (engine/wire.h): the sender, the overflow flag as a
  // byte, then each change as its location, its time's used coordinates
  // and its delta; a flag byte or a location kind other than 0 or 1, or a
  // time deeper than kMaxTimeDepth, does not decode.
  void WireEncode(WireWriter& writer) const;
  bool WireDecode(WireReader& reader);
};

class ProgressExchange {
 public:
  ProgressExchange(Fabric* fabric, int dataflow, int worker);

  // A change of this worker's own pointstamps (also applied locally by the
  // caller).
  void Record(bool is_source, int index, const Timestamp& t, int64_t delta) {
    outbox_.push_back({is_source, index, t, delta});
  }
  // Sends the first batch (even if empty) and waits until the first batch
  // of every peer has been applied to `tracker`.
  void Start(ProgressTracker* tracker);
  // This worker overflowed a diff: the next broadcast says so (and is sent
  // even without changes).
  void RaiseOverflow() { overflow_ = true; }
  // Sends the changes recorded since the last broadcast, consolidated, to
  // every peer. REQUIRES: called at a consistent point.
  void Broadcast();
  // Applies every batch received so far, in order; returns whether any
  // change was applied.
  bool Receive(ProgressTracker* tracker);
  // Whether a batch applied since the last call said its sender overflowed
  // a diff; clears it.
  bool TakePeersOverflow() { return std::exchange(peers_overflow_, false); }

  // Batches sent and changes sent (after consolidation), for the
  // coordination-overhead figures.
  uint64_t batches_sent() const { return batches_sent_; }
  uint64_t changes_sent() const { return changes_sent_; }

 private:
  using Channel = Mailbox<ProgressBatch>;
  // Sends the outbox, as it is, to every peer as one batch.
  void Send();
  Fabric* fabric_;
  int worker_;
  std::shared_ptr<Channel> channel_;
  std::vector<ProgressChange> outbox_;
  std::vector<ProgressBatch> inbox_;
  std::vector<uint64_t> received_;  // batches applied, per peer
  bool overflow_ = false;           // raised here, not yet sent
  bool peers_overflow_ = false;     // raised by a peer, not yet taken
  uint64_t batches_sent_ = 0;
  uint64_t changes_sent_ = 0;
};

}  // namespace diffmesh
