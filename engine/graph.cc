#include "engine/graph.h"

#include "engine/check.h"
#include "engine/memory.h"

namespace diffmesh {

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
  tracker_.Build();
  sealed_ = true;
}

void Graph::Activate(int op) { active_[op] = 1; }

void Graph::ApplyProgress() {
  if (!tracker_.HasPendingUpdates()) return;
  changed_.clear();
  tracker_.Propagate(&changed_);
  for (int target : changed_) active_[tracker_.target_operator(target)] = 1;
}

void Graph::Prepare() {
  if (!sealed_) Seal();
  ApplyProgress();
}

bool Graph::Step() {
  Prepare();
  bool worked = false;
  for (size_t i = 0; i < operators_.size(); ++i) {
    if (!active_[i]) continue;
    active_[i] = 0;
    operators_[i]->Run();
    worked = true;
    ApplyProgress();
  }
  return worked;
}

bool Graph::Exert() {
  bool more = false;
  for (auto& op : operators_) more |= op->Exert();
  return more;
}

Worker::Worker() { TuneAllocator(); }

Graph& Worker::NewDataflow(std::string name) {
  graphs_.push_back(std::make_unique<Graph>(std::move(name)));
  return *graphs_.back();
}

bool Worker::Step() {
  bool worked = false;
  for (auto& graph : graphs_) worked |= graph->Step();
  if (!worked) {
    for (auto& graph : graphs_) worked |= graph->Exert();
  }
  return worked;
}

bool Worker::StepWhile(const std::function<bool()>& condition) {
  while (condition()) {
    if (!Step()) return !condition();
  }
  return true;
}

}  // namespace diffmesh
