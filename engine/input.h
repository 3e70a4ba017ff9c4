// Input handles: where data enters a dataflow.
//
//   auto [input, collection] = NewInput<int>(graph);
//   input.Insert(7);         // +1 at the current time (0)
//   input.AdvanceTo(1);      // time 0 is complete; later updates are at >= 1
//   input.Remove(7);         // -1 at time 1
//   input.Close();           // no more updates: frontiers become empty
//
// The handle holds a capability at its current time; AdvanceTo downgrades it,
// Close drops it. Updates are buffered and sent on Flush, AdvanceTo, Close or
// when the buffer is large. REQUIRES: a handle does not outlive its worker;
// it closes itself when destroyed.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "engine/check.h"
#include "engine/collection.h"
#include "engine/graph.h"
#include "engine/port.h"

namespace diffmesh {

template <class D, class T, class R>
class InputOperator : public OperatorBase {
 public:
  using Payload = std::vector<Update<D, T, R>>;
  explicit InputOperator(Graph* graph)
      : OperatorBase("input"), out(graph, graph->NextOperatorIndex()) {}
  bool ReadsFrontiers() const override { return false; }
  void Run() override {}
  OutputPort<T, Payload> out;
};

template <class D, class T = uint64_t, class R = int64_t>
class InputHandle {
 public:
  static constexpr size_t kBufferLimit = 1 << 14;

  // An empty handle, closed; assign one from NewInput.
  InputHandle() = default;
  explicit InputHandle(InputOperator<D, T, R>* op) : op_(op) {
    op_->out.SetCapabilities(Antichain<T>(time_));
  }
  InputHandle(InputHandle&& other) noexcept
      : op_(std::exchange(other.op_, nullptr)),
        time_(other.time_),
        buffer_(std::move(other.buffer_)) {}
  InputHandle& operator=(InputHandle&& other) noexcept {
    if (this != &other) {
      Close();
      op_ = std::exchange(other.op_, nullptr);
      time_ = other.time_;
      buffer_ = std::move(other.buffer_);
    }
    return *this;
  }
  ~InputHandle() { Close(); }

  void Insert(D data) { UpdateAt(std::move(data), time_, R{1}); }
  void Remove(D data) { UpdateAt(std::move(data), time_, -R{1}); }
  void Update(D data, R diff) { UpdateAt(std::move(data), time_, diff); }
  // REQUIRES: time() <= time.
  void UpdateAt(D data, T time, R diff) {
    DM_CHECK_MSG(op_ != nullptr, "update on a closed input");
    DM_CHECK_MSG(diffmesh::LessEqual(time_, time),
                 "update at a time before the input's time");
    // Sized like the last flush, so bulk loads do not regrow the buffer and
    // small rounds do not allocate a bulk-sized one.
    if (buffer_.capacity() == 0) buffer_.reserve(last_flush_);
    buffer_.push_back({std::move(data), time, diff});
    if (buffer_.size() >= kBufferLimit) Flush();
  }

  void Flush() {
    if (op_ == nullptr || buffer_.empty()) return;
    last_flush_ = buffer_.size();
    op_->out.Send({Antichain<T>(time_), std::move(buffer_)});
    buffer_ = {};
  }
  // REQUIRES: time() <= time.
  void AdvanceTo(T time) {
    DM_CHECK_MSG(op_ != nullptr, "advance on a closed input");
    DM_CHECK_MSG(diffmesh::LessEqual(time_, time), "inputs only advance");
    Flush();
    time_ = time;
    op_->out.SetCapabilities(Antichain<T>(time_));
  }
  void Close() {
    if (op_ == nullptr) return;
    Flush();
    op_->out.SetCapabilities(Antichain<T>());
    op_ = nullptr;
  }

  const T& time() const { return time_; }
  bool closed() const { return op_ == nullptr; }

 private:
  InputOperator<D, T, R>* op_ = nullptr;
  T time_ = Minimum<T>();
  std::vector<diffmesh::Update<D, T, R>> buffer_;
  size_t last_flush_ = 16;
};

template <class D, class T = uint64_t, class R = int64_t>
std::pair<InputHandle<D, T, R>, Collection<D, T, R>> NewInput(Graph& graph) {
  auto* op = graph.AddOperator<InputOperator<D, T, R>>(&graph);
  Collection<D, T, R> collection{{&graph, &op->out}};
  return {InputHandle<D, T, R>(op), collection};
}

}  // namespace diffmesh
