#include "engine/graph.h"

#include <algorithm>
#include <utility>

#include "engine/check.h"
#include "engine/difference.h"

namespace diffmesh {

Graph::Graph(std::string name, Fabric* fabric, int worker, int dataflow)
    : name_(std::move(name)),
      fabric_(fabric),
      worker_(worker),
      dataflow_(dataflow) {
  if (fabric_ != nullptr && fabric_->peers() > 1) {
    progress_ = std::make_unique<ProgressExchange>(fabric_, dataflow_, worker_);
  }
}

int Graph::Register(std::unique_ptr<OperatorBase> op) {
  DM_CHECK_MSG(!sealed_, "operators must be added before the dataflow runs");
  op->graph_ = this;
  op->index_ = static_cast<int>(operators_.size());
  operators_.push_back(std::move(op));
  active_.push_back(1);  // every operator runs once at start
  op_targets_.resize(operators_.size());
  op_sources_.resize(operators_.size());
  explicit_summaries_.resize(operators_.size());
  return operators_.back()->index_;
}

int Graph::NewSource(int op, int depth) {
  int source = tracker_.AddSource(op, depth);
  if (op_sources_.size() <= static_cast<size_t>(op)) op_sources_.resize(op + 1);
  op_sources_[op].push_back(source);
  return source;
}

int Graph::NewTarget(int op, int depth) {
  int target = tracker_.AddTarget(op, depth);
  if (op_targets_.size() <= static_cast<size_t>(op)) op_targets_.resize(op + 1);
  op_targets_[op].push_back(target);
  return target;
}

void Graph::SetSummary(int target, int source, const PathSummary& summary) {
  int op = tracker_.target_operator(target);
  if (explicit_summaries_.size() <= static_cast<size_t>(op)) {
    explicit_summaries_.resize(op + 1);
  }
  explicit_summaries_[op] = 1;
  summaries_.emplace_back(target, source, summary);
}

void Graph::Seal() {
  for (const auto& [target, source, summary] : summaries_) {
    tracker_.AddInternal(target, source, summary);
  }
  for (size_t op = 0; op < operators_.size(); ++op) {
    if (explicit_summaries_[op]) continue;
    for (int target : op_targets_[op]) {
      for (int source : op_sources_[op]) {
        tracker_.AddInternal(
            target, source,
            PathSummary::Identity(tracker_.target_depth(target)));
      }
    }
  }
  // Only the frontiers of operators that read them are maintained.
  reads_frontiers_.resize(operators_.size());
  for (size_t op = 0; op < operators_.size(); ++op) {
    reads_frontiers_[op] = operators_[op]->ReadsFrontiers();
  }
  for (int t = 0; t < static_cast<int>(tracker_.num_targets()); ++t) {
    tracker_.SetObserved(t, reads_frontiers_[tracker_.target_operator(t)]);
  }
  tracker_.Build();
  sealed_ = true;
  if (progress_) progress_->Start(&tracker_);
}

void Graph::Activate(int op) {
  if (static_cast<size_t>(op) < active_.size()) active_[op] = 1;
}

void Graph::AddMailboxPoll(int op, std::function<bool()> has_mail) {
  mailbox_polls_.emplace_back(op, std::move(has_mail));
}

void Graph::ApplyProgress() {
  if (!tracker_.HasPendingUpdates()) return;
  changed_.clear();
  tracker_.Propagate(&changed_);
  for (int target : changed_) active_[tracker_.target_operator(target)] = 1;
}

void Graph::Release() {
  // Complete: no operator has work or will get any. The tracker stays (a
  // probe or stream of this graph still reads a finished frontier).
  operators_.clear();
  active_.clear();
  reads_frontiers_.clear();
  mailbox_polls_.clear();
  released_ = true;
}

void Graph::Prepare() {
  if (released_) return;
  if (!sealed_) Seal();
  if (progress_) {
    // User actions since the last step (input flushes, advances) form a
    // consistent point.
    progress_->Broadcast();
    progress_->Receive(&tracker_);
  }
  ApplyProgress();
}

bool Graph::Step() {
  if (released_) return false;
  Prepare();
  for (const auto& [op, has_mail] : mailbox_polls_) {
    if (has_mail()) active_[op] = 1;
  }
  bool worked = false;
  for (size_t i = 0; i < operators_.size(); ++i) {
    if (reads_frontiers_[i]) ApplyProgress();
    if (!active_[i]) continue;
    active_[i] = 0;
    operators_[i]->Run();
    worked = true;
  }
  ApplyProgress();
  // An overflow in this step leaves with the changes that report the step.
  if (TakeThreadDiffOverflow()) {
    diff_overflow_ = true;
    if (progress_) progress_->RaiseOverflow();
  }
  if (progress_) progress_->Broadcast();
  return worked;
}

bool Graph::TakeDiffOverflow() {
  bool was = std::exchange(diff_overflow_, false);
  if (progress_ && progress_->TakePeersOverflow()) was = true;
  return was;
}

bool Graph::RaiseDiffOverflow() {
  if (!progress_ || released_) return false;
  progress_->RaiseOverflow();
  return true;
}

bool Graph::Complete() {
  Prepare();
  return tracker_.Quiet();
}

bool Graph::CatchUp(int64_t fuel) {
  bool more = false;
  for (auto& op : operators_) more |= op->CatchUp(fuel);
  return more;
}

bool Graph::Exert(int64_t fuel) {
  bool more = false;
  for (auto& op : operators_) more |= op->Exert(fuel);
  return more;
}

Worker::Worker() = default;

Worker::Worker(Fabric* fabric, int index) : fabric_(fabric), index_(index) {
  DM_CHECK_MSG(index >= 0 && index < fabric->peers(),
               "worker index out of range");
}

Graph& Worker::NewDataflow(std::string name) {
  int dataflow = static_cast<int>(graphs_.size());
  graphs_.push_back(
      std::make_unique<Graph>(std::move(name), fabric_, index_, dataflow));
  return *graphs_.back();
}

bool Worker::Step() {
  // Read before looking at any mailbox, so a delivery after this point
  // keeps a later Idle from sleeping (see Doorbell).
  if (fabric_ != nullptr) doorbell_seen_ = fabric_->doorbell(index_).Seen();
  bool worked = false;
  // Raised by this worker's idle merging (or, where several workers share
  // a thread, by one of them: the flag cannot tell).
  if (TakeThreadDiffOverflow()) RaiseDiffOverflow();
  for (auto& graph : graphs_) worked |= graph->Step();
  // Sends what this step queued for other processes (none within one).
  if (fabric_ != nullptr && fabric_->link() != nullptr) fabric_->Pump();
  if (!worked && peers() == 1) {
    for (auto& graph : graphs_) worked |= graph->Exert(kIdleFuel);
  }
  if (TakeThreadDiffOverflow()) RaiseDiffOverflow();
  return worked;
}

bool Worker::TakeDiffOverflow() {
  bool was = std::exchange(diff_overflow_, false);
  for (auto& graph : graphs_) was |= graph->TakeDiffOverflow();
  return was;
}

void Worker::RaiseDiffOverflow() {
  diff_overflow_ = true;
  // Any one dataflow's next progress batch tells the peers.
  for (auto& graph : graphs_) {
    if (graph->RaiseDiffOverflow()) return;
  }
}

void Worker::Idle() {
  Doorbell& doorbell = fabric_->doorbell(index_);
  // Owed merging first: it would otherwise delay this worker's next round.
  for (bool owed = true; owed && doorbell.Seen() == doorbell_seen_;) {
    owed = false;
    for (auto& graph : graphs_) owed |= graph->CatchUp(kCatchUpSliceFuel);
  }
  if (fabric_->Spin(index_, doorbell_seen_)) return;
  while (doorbell.Seen() == doorbell_seen_) {
    bool more = false;
    for (auto& graph : graphs_) more |= graph->Exert(kIdleSliceFuel);
    if (!more) {
      fabric_->Wait(index_, doorbell_seen_);
      return;
    }
    fabric_->Pump();
  }
}

bool Worker::StepWhile(const std::function<bool()>& condition) {
  while (condition()) {
    if (Step()) continue;
    if (peers() == 1) return !condition();
    // Idle: wait for a peer's data or progress.
    if (condition()) Idle();
  }
  return true;
}

size_t Graph::HeldBytes() const {
  size_t total = 0;
  for (const auto& op : operators_) total += op->HeldBytes();
  return total;
}

void Graph::AddHeldBytes(HeldByteParts* parts) const {
  for (const auto& op : operators_) op->AddHeldBytes(parts);
  parts->queued += static_cast<size_t>(std::max<int64_t>(queued_bytes_, 0));
}

void Worker::AddHeldBytes(HeldByteParts* parts) const {
  for (const auto& graph : graphs_) graph->AddHeldBytes(parts);
}

size_t Worker::HeldBytes() const {
  size_t total = 0;
  for (const auto& graph : graphs_) total += graph->HeldBytes();
  return total;
}

bool Worker::AllComplete() {
  for (auto& graph : graphs_) {
    if (!graph->Complete()) return false;
  }
  return true;
}

bool Worker::DropDataflow(Graph* graph) {
  for (auto& g : graphs_) {
    if (g.get() != graph) continue;
    if (!g->Complete()) return false;
    g->Release();
    return true;
  }
  return false;
}

}  // namespace diffmesh
