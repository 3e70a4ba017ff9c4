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
// order except along feedback edges) and every operator's progress changes
// are applied, atomically, right after it runs, so one step carries data
// through a whole acyclic dataflow.
//
// Thread compatibility: a Graph belongs to one worker thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/progress.h"
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
  // Background work when the worker is otherwise idle (e.g. trace merging).
  // Returns true if work remains.
  virtual bool Exert() { return false; }
  // Bytes of state the operator holds (traces it owns, buffered updates),
  // for introspection; 0 for stateless operators.
  virtual size_t HeldBytes() const { return 0; }

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
  explicit Graph(std::string name) : name_(std::move(name)) {}
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

  int NewSource(int op, int depth);
  int NewTarget(int op, int depth);
  void Connect(int source, int target) { tracker_.AddEdge(source, target); }
  // Overrides the default identity summaries from an operator's inputs to its
  // outputs. Call once per (target, source) pair that has a path.
  void SetSummary(int target, int source, const PathSummary& summary);

  void ChangeSource(int source, const Timestamp& t, int64_t delta) {
    tracker_.UpdateSource(source, t, delta);
  }
  void ChangeTarget(int target, const Timestamp& t, int64_t delta) {
    tracker_.UpdateTarget(target, t, delta);
  }
  void Activate(int op);

  // Seals the graph on first use and applies pending progress changes, so
  // frontiers read afterwards are current.
  void Prepare();
  // Runs every activated operator once; returns whether any work was done.
  bool Step();
  // Background maintenance; returns whether any work remains.
  bool Exert();

  const Antichain<Timestamp>& Frontier(int target) const {
    return tracker_.frontier(target);
  }
  uint64_t FrontierVersion(int target) const {
    return tracker_.version(target);
  }
  const ProgressTracker& tracker() const { return tracker_; }
  const std::string& name() const { return name_; }
  size_t num_operators() const { return operators_.size(); }
  const OperatorBase& op(int i) const { return *operators_[i]; }

 private:
  void Seal();
  void ApplyProgress();

  std::string name_;
  std::vector<std::unique_ptr<OperatorBase>> operators_;
  std::vector<char> active_;
  std::vector<std::vector<int>> op_targets_;
  std::vector<std::vector<int>> op_sources_;
  std::vector<char> explicit_summaries_;
  std::vector<std::tuple<int, int, PathSummary>> summaries_;
  std::vector<int> changed_;
  ProgressTracker tracker_;
  bool sealed_ = false;
};

// A worker owns dataflows and steps them. One per thread.
class Worker {
 public:
  Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  Graph& NewDataflow(std::string name);
  // Steps every dataflow once; returns whether any work was done. When
  // nothing else is pending, performs idle maintenance (trace merging).
  bool Step();
  // Steps while `condition()` holds. Returns false if the computation stalled
  // (no work possible) while the condition still held, e.g. because an input
  // was never advanced.
  bool StepWhile(const std::function<bool()>& condition);

  int index() const { return 0; }
  int peers() const { return 1; }

 private:
  std::vector<std::unique_ptr<Graph>> graphs_;
};

}  // namespace diffmesh
