// The type-erased dataflow graph of one worker: operators, edges, progress
// tracking and the scheduler.
//
//   Worker worker;
//   Graph& graph = worker.NewDataflow("example");
//   auto [input, numbers] = NewInput<int>(graph);   // engine/input.h
//   ... build operators ...; then drive with worker.Step().
//
// Operators are objects behind the small virtual interface below; templates
// stay at the API surface (ports, collections, operators/), so the graph
// itself compiles once.
//
// Scheduling: an operator runs when a message arrives at one of its inputs,
// when the frontier of one of its inputs changes, or when it asks to be
// activated. Within a step operators run in creation order (a topological
// order except along feedback edges), so one step carries data through a
// whole acyclic dataflow.
//
// Progress is applied lazily: pending pointstamp changes are propagated
// just before each operator that reads its input frontiers (arrange, join,
// reduce, probe; OperatorBase::ReadsFrontiers) and at the end of the step.
// Operators that only forward what they pull (map, filter, concat,
// exchange, enter, leave) never wait for it, so a message crossing a chain
// of them costs one +1 and one -1, which cancel before propagation, and
// only frontier readers' frontiers are maintained at all. Deferring is
// always safe: the applied counts are an earlier consistent state, in which
// whatever caused a newer message is still counted upstream of it, so a
// frontier can only lag, never run ahead.
//
// Several workers: every worker builds the same dataflow and runs its own
// copy of it over the keys it owns (engine/runtime.h). The graph records
// every change of its pointstamps for its peers and applies theirs
// (engine/progress_exchange.h), so its frontiers are global ones.
//
// Thread compatibility: a Graph belongs to one worker thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/fabric.h"
#include "engine/held_bytes.h"
#include "engine/progress.h"
#include "engine/progress_exchange.h"
#include "engine/summary.h"
#include "engine/timestamp.h"

namespace diffmesh {

class Graph;

class OperatorBase {
 public:
  explicit OperatorBase(std::string name) : name_(std::move(name)) {}
  virtual ~OperatorBase() = default;
  OperatorBase(const OperatorBase&) = delete;
  OperatorBase& operator=(const OperatorBase&) = delete;

  // Does the operator's work for an activation.
  virtual void Run() = 0;
  // Background work when the worker is otherwise idle (e.g. trace merging),
  // about `fuel` units of it. Returns true if work remains.
  virtual bool Exert(int64_t fuel) { return false; }
  // Pays up to `fuel` units of the maintenance its recent work owes (merges
  // of the batches it just stored, see Spine::CatchUp), which otherwise its
  // next activation pays. Returns true if more is owed.
  virtual bool CatchUp(int64_t fuel) { return false; }
  // Bytes of state the operator holds (traces it owns, buffered updates),
  // for introspection; 0 for stateless operators.
  virtual size_t HeldBytes() const { return 0; }
  // HeldBytes by part (engine/held_bytes.h); by default all of it as other.
  virtual void AddHeldBytes(HeldByteParts* parts) const {
    parts->other += HeldBytes();
  }
  // Whether Run reads input frontiers. An operator that only forwards the
  // messages it pulls returns false: the graph then applies progress lazily
  // around it (see Graph::Step).
  virtual bool ReadsFrontiers() const { return true; }

  // A fixed description (name and parameters) for introspection and lineage.
  const std::string& name() const { return name_; }
  int index() const { return index_; }
  Graph* graph() const { return graph_; }

 private:
  friend class Graph;
  std::string name_;
  Graph* graph_ = nullptr;
  int index_ = -1;
};

class Graph {
 public:
  // A dataflow of a single worker.
  explicit Graph(std::string name) : Graph(std::move(name), nullptr, 0, 0) {}
  // The copy of dataflow number `dataflow` on worker `worker` of `fabric`
  // (a single worker's when `fabric` is null).
  Graph(std::string name, Fabric* fabric, int worker, int dataflow);
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;

  // Adds an operator; the graph owns it. REQUIRES: the graph has not run.
  template <class Op, class... Args>
  Op* AddOperator(Args&&... args) {
    auto op = std::make_unique<Op>(std::forward<Args>(args)...);
    Op* raw = op.get();
    Register(std::move(op));
    return raw;
  }
  // Two-phase construction for operators whose constructors create ports.
  int Register(std::unique_ptr<OperatorBase> op);
  int NextOperatorIndex() const { return static_cast<int>(operators_.size()); }
  // The graph has run: no operator may be added any more.
  bool sealed() const { return sealed_; }
  // For dataflows over uint64_t times: the least time their data may have
  // (0, or the time a dataflow added to a running mesh starts at; its
  // inputs start there). An operator that emits something before any input
  // arrives emits it at this time. REQUIRES for the setter: not sealed.
  uint64_t start_time() const { return start_time_; }
  void set_start_time(uint64_t time) { start_time_ = time; }
  // Frees every operator and what it holds. REQUIRES: Complete(). The
  // graph stays, empty and sealed: its streams and probes still read as
  // finished, and nothing may be added.
  void Release();
  bool released() const { return released_; }

  int NewSource(int op, int depth);
  int NewTarget(int op, int depth);
  void Connect(int source, int target) { tracker_.AddEdge(source, target); }
  // Overrides the default identity summaries from an operator's inputs to its
  // outputs. Call once per (target, source) pair that has a path.
  void SetSummary(int target, int source, const PathSummary& summary);

  void ChangeSource(int source, const Timestamp& t, int64_t delta) {
    tracker_.UpdateSource(source, t, delta);
    if (progress_) progress_->Record(true, source, t, delta);
  }
  void ChangeTarget(int target, const Timestamp& t, int64_t delta) {
    tracker_.UpdateTarget(target, t, delta);
    if (progress_) progress_->Record(false, target, t, delta);
  }
  // Schedules `op` to run in the next step. An operator still being built
  // (a port connected to an output that already holds data delivers it at
  // once) is not registered yet; it runs at the first step anyway.
  void Activate(int op);
  // Operators that receive from other workers: `has_mail()` is asked at
  // every step and activates `op` when it holds.
  void AddMailboxPoll(int op, std::function<bool()> has_mail);

  // Seals the graph on first use and applies pending progress changes, so
  // frontiers read afterwards are current.
  void Prepare();
  // Runs every activated operator once; returns whether any work was done.
  bool Step();
  // Background maintenance; returns whether any work remains.
  bool Exert(int64_t fuel);
  bool CatchUp(int64_t fuel);
  // No capability is held and no message is queued or in flight anywhere,
  // on any worker: nothing will ever happen in this dataflow again.
  bool Complete();
  // Whether a diff overflowed (engine/difference.h) in an operator of this
  // dataflow since the last call: on this worker, or on any other whose
  // progress batch said so (engine/progress_exchange.h: once the frontier
  // has passed a time, every overflow raised computing it is known here).
  // Clears it.
  bool TakeDiffOverflow();
  // This worker overflowed a diff outside the dataflow's steps (idle
  // merging): its next progress batch says so. Returns whether the dataflow
  // has peers to tell.
  bool RaiseDiffOverflow();

  const Antichain<Timestamp>& Frontier(int target) const {
    return tracker_.frontier(target);
  }
  uint64_t FrontierVersion(int target) const {
    return tracker_.version(target);
  }
  const ProgressTracker& tracker() const { return tracker_; }
  const std::string& name() const { return name_; }
  int peers() const { return fabric_ ? fabric_->peers() : 1; }
  int worker_index() const { return worker_; }
  int dataflow_index() const { return dataflow_; }
  Fabric* fabric() const { return fabric_; }
  // Progress batches this worker sent for this dataflow (0 for one worker).
  uint64_t progress_batches_sent() const {
    return progress_ ? progress_->batches_sent() : 0;
  }
  size_t num_operators() const { return operators_.size(); }
  // The bytes of state every operator holds (OperatorBase::HeldBytes).
  size_t HeldBytes() const;
  // HeldBytes by part, plus the messages waiting at operator inputs.
  void AddHeldBytes(HeldByteParts* parts) const;
  // Payload bytes delivered to operator inputs and not yet pulled (kept by
  // InputPort: a vector payload counts its capacity).
  void AddQueuedBytes(int64_t bytes) { queued_bytes_ += bytes; }
  const OperatorBase& op(int i) const { return *operators_[i]; }

 private:
  void Seal();
  void ApplyProgress();

  std::string name_;
  std::vector<std::unique_ptr<OperatorBase>> operators_;
  std::vector<char> active_;
  std::vector<char> reads_frontiers_;
  std::vector<std::vector<int>> op_targets_;
  std::vector<std::vector<int>> op_sources_;
  std::vector<char> explicit_summaries_;
  std::vector<std::tuple<int, int, PathSummary>> summaries_;
  std::vector<int> changed_;
  ProgressTracker tracker_;
  bool released_ = false;
  bool sealed_ = false;
  uint64_t start_time_ = 0;
  int64_t queued_bytes_ = 0;
  bool diff_overflow_ = false;  // raised by this worker's steps, not taken
  Fabric* fabric_ = nullptr;
  int worker_ = 0;
  int dataflow_ = 0;
  std::unique_ptr<ProgressExchange> progress_;
  std::vector<std::pair<int, std::function<bool()>>> mailbox_polls_;
};

// A worker owns dataflows and steps them. One per thread.
class Worker {
 public:
  // A worker on its own (peers() == 1).
  Worker();
  // Worker `index` of `fabric->peers()`; see engine/runtime.h.
  Worker(Fabric* fabric, int index);
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  Graph& NewDataflow(std::string name);
  // Steps every dataflow once; returns whether any work was done. When
  // nothing else is pending, performs idle maintenance (trace merging).
  bool Step();
  // Steps while `condition()` holds. A single worker returns false if the
  // computation stalled (no work possible) while the condition still held,
  // e.g. because an input was never advanced. With several workers, an idle
  // worker instead waits for its peers (it cannot tell a stall from a peer
  // that is busy) and StepWhile returns only when the condition fails.
  bool StepWhile(const std::function<bool()>& condition);
  // Every dataflow of this worker is complete (see Graph::Complete).
  bool AllComplete();
  // Frees dataflow `graph`'s operators and all they hold once it is
  // complete (nothing in it can change any more, on any worker: no message
  // to it is in flight and none will come); returns whether it did. The
  // Graph object stays, empty (Graph::Release).
  bool DropDataflow(Graph* graph);
  // The bytes of state the operators of every dataflow hold: traces (with
  // the batches their readers pin), batchers, pending work.
  size_t HeldBytes() const;
  // HeldBytes by part, plus the messages waiting at operator inputs.
  void AddHeldBytes(HeldByteParts* parts) const;
  // Whether a diff overflowed (engine/difference.h) since the last call in
  // an operator this worker stepped or merged, or, with several workers, in
  // one any worker stepped while computing the times this worker's
  // frontiers have passed (its progress batches carry the news:
  // Graph::TakeDiffOverflow); clears it.
  bool TakeDiffOverflow();

  // Fuel for idle maintenance: a single worker spends a large amount when it
  // has nothing else to do; one of several spends small slices and checks
  // for its peers' messages in between, so maintenance never delays a round.
  static constexpr int64_t kIdleFuel = 1 << 16;
  static constexpr int64_t kIdleSliceFuel = 1 << 12;
  // A waiting worker first pays the merging its last batches owe, in slices
  // this small (a few keys per merge in progress) between checks for its
  // peers' messages.
  static constexpr int64_t kCatchUpSliceFuel = 4;

  int index() const { return index_; }
  int peers() const { return fabric_ ? fabric_->peers() : 1; }
  // Whether some of the peers run in other processes (engine/runtime.h).
  bool spans_processes() const {
    return fabric_ != nullptr && fabric_->link() != nullptr;
  }
  // This process's workers are first_local() .. first_local() +
  // local_peers() - 1; peers() counts every process's.
  int first_local() const { return fabric_ ? fabric_->first() : 0; }
  // Null for a worker made alone (no Runtime).
  Fabric* fabric() const { return fabric_; }
  int local_peers() const { return fabric_ ? fabric_->threads() : 1; }
  // The dataflows made so far, in order (a dropped one stays, empty).
  size_t num_dataflows() const { return graphs_.size(); }
  const Graph& dataflow(size_t i) const { return *graphs_[i]; }

 private:
  // Several workers, nothing to do: wait for a peer, doing maintenance
  // while the wait lasts.
  void Idle();
  // An overflow outside any dataflow's step (idle merging): taken by the
  // next TakeDiffOverflow here, and told to the peers.
  void RaiseDiffOverflow();

  std::vector<std::unique_ptr<Graph>> graphs_;
  Fabric* fabric_ = nullptr;
  int index_ = 0;
  uint64_t doorbell_seen_ = 0;
  bool diff_overflow_ = false;
};

}  // namespace diffmesh
