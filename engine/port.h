// Typed ports and streams: how operators exchange messages and hold
// capabilities.
//
//   OutputPort<uint64_t, Payload> out(graph, op_index);
//   out.SetCapabilities(Antichain<uint64_t>(5));   // may emit at times >= 5
//   out.Send({Antichain<uint64_t>(5), payload});
//
// A message carries a *time* antichain: every update in its payload is at a
// time beyond it. Each element counts as a pointstamp at the receiving input
// from send until the receiver pulls it, so no frontier passes a message in
// flight.
//
// Invariant (checked on every send): each element of a message's time is
// beyond one of the port's capabilities or beyond the frontier of one of the
// operator's guard inputs (for operators that do not read frontiers, which
// forward the times they pull, the guard is not checked). Nothing is
// emitted for a time before it is allowed.
#pragma once

#include <cstdint>
#include <deque>
#include <tuple>
#include <utility>
#include <vector>

#include "engine/antichain.h"
#include "engine/check.h"
#include "engine/graph.h"
#include "engine/timestamp.h"

namespace diffmesh {

template <class T, class P>
struct Message {
  Antichain<T> time;
  P payload;
  template <class Self>
  static auto WireFields(Self& self) {
    return std::tie(self.time, self.payload);
  }
};

// The bytes a payload holds directly: a vector's capacity, else its size.
template <class P>
int64_t PayloadBytes(const P& payload) {
  if constexpr (requires { payload.capacity(); }) {
    return static_cast<int64_t>(payload.capacity() *
                                sizeof(typename P::value_type));
  } else {
    return static_cast<int64_t>(sizeof(P));
  }
}

template <class T, class P>
class InputPort {
 public:
  InputPort(Graph* graph, int op)
      : graph_(graph),
        op_(op),
        target_(graph->NewTarget(op, TimeCodec<T>::kDepth)) {}
  InputPort(const InputPort&) = delete;
  InputPort& operator=(const InputPort&) = delete;

  // Takes the oldest message; its pointstamps are released after the
  // operator's activation.
  bool Pull(Message<T, P>* message) {
    if (queue_.empty()) return false;
    *message = std::move(queue_.front());
    queue_.pop_front();
    graph_->AddQueuedBytes(-PayloadBytes(message->payload));
    for (const T& t : message->time) {
      graph_->ChangeTarget(target_, TimeCodec<T>::Encode(t), -1);
    }
    return true;
  }
  bool HasMessages() const { return !queue_.empty(); }

  // Times that may still arrive here (including messages queued).
  const Antichain<T>& frontier() {
    uint64_t version = graph_->FrontierVersion(target_);
    if (version != frontier_version_ || !decoded_) {
      frontier_ = DecodeFrontier<T>(graph_->Frontier(target_));
      frontier_version_ = version;
      decoded_ = true;
    }
    return frontier_;
  }

  int target() const { return target_; }
  int op() const { return op_; }

 private:
  template <class, class>
  friend class OutputPort;

  void Deliver(Message<T, P> message) {
    for (const T& t : message.time) {
      graph_->ChangeTarget(target_, TimeCodec<T>::Encode(t), +1);
    }
    graph_->AddQueuedBytes(PayloadBytes(message.payload));
    queue_.push_back(std::move(message));
    graph_->Activate(op_);
  }

  Graph* graph_;
  int op_;
  int target_;
  std::deque<Message<T, P>> queue_;
  Antichain<T> frontier_;
  uint64_t frontier_version_ = 0;
  bool decoded_ = false;
};

template <class T, class P>
class OutputPort {
 public:
  OutputPort(Graph* graph, int op)
      : graph_(graph), source_(graph->NewSource(op, TimeCodec<T>::kDepth)) {}
  OutputPort(const OutputPort&) = delete;
  OutputPort& operator=(const OutputPort&) = delete;

  // A reader connected after the stream sent data still receives it, when
  // no reader was there to take it (the data waits until the graph runs);
  // connecting after other readers took data is a programming error that
  // aborts, as the new reader would silently miss it.
  void Connect(InputPort<T, P>* input) {
    DM_CHECK_MSG(!delivered_,
                 "a reader connected to a stream that already delivered "
                 "data to other readers would miss it");
    graph_->Connect(source_, input->target());
    consumers_.push_back(input);
    for (const Message<T, P>& message : waiting_) input->Deliver(message);
  }
  // Sends may be justified by the frontier of `target` (an input of the same
  // operator, same time type, identity summary).
  void AddGuard(int target) { guards_.push_back(target); }
  // For operators that change the time type (enter, leave, feedback): their
  // sends are justified by their declared path summary, not by a guard.
  void SetSummarized() { summarized_ = true; }
  int source() const { return source_; }

  void Send(Message<T, P> message) {
    for (const T& t : message.time) {
      DM_CHECK_MSG(Allowed(t), "operator emitted at a time it may not");
    }
    if (consumers_.empty()) {
      // Before the graph runs, a reader may still come: keep the data for
      // it. Once it runs, nobody can, and the data is nobody's.
      if (!graph_->sealed()) {
        waiting_.push_back(std::move(message));
      } else {
        waiting_.clear();
      }
      return;
    }
    if (!graph_->sealed()) delivered_ = true;
    waiting_.clear();
    for (size_t i = 0; i + 1 < consumers_.size(); ++i) {
      consumers_[i]->Deliver(message);
    }
    consumers_.back()->Deliver(std::move(message));
  }

  // Replaces the held capabilities with `caps`.
  void SetCapabilities(const Antichain<T>& caps) {
    if (caps == caps_) return;
    for (const T& t : caps) {
      graph_->ChangeSource(source_, TimeCodec<T>::Encode(t), +1);
    }
    for (const T& t : caps_) {
      graph_->ChangeSource(source_, TimeCodec<T>::Encode(t), -1);
    }
    caps_ = caps;
  }
  const Antichain<T>& capabilities() const { return caps_; }
  bool connected() const { return !consumers_.empty(); }

 private:
  bool Allowed(const T& t) const {
    if (summarized_ || caps_.LessEqual(t)) return true;
    Timestamp ts = TimeCodec<T>::Encode(t);
    for (int target : guards_) {
      // The frontier of an operator that does not read it is not
      // maintained; such an operator forwards the times it pulls.
      if (!graph_->tracker().observed(target)) return true;
      if (graph_->Frontier(target).LessEqual(ts)) return true;
    }
    return false;
  }

  Graph* graph_;
  int source_;
  std::vector<InputPort<T, P>*> consumers_;
  // Sent before the graph ran, while no reader was connected.
  std::vector<Message<T, P>> waiting_;
  // Data went to readers before the graph ran (so no reader may join).
  bool delivered_ = false;
  std::vector<int> guards_;
  Antichain<T> caps_;
  bool summarized_ = false;
};

// A handle to an operator's output: what operators connect to.
template <class T, class P>
struct Stream {
  Graph* graph = nullptr;
  OutputPort<T, P>* port = nullptr;
};

}  // namespace diffmesh
