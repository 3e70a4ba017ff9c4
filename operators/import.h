// Import: an arrangement of a running dataflow, read by a dataflow added
// later on the same worker, without arranging anything again.
//
//   Graph& live = worker.NewDataflow("live");
//   live.set_start_time(t);                     // the first time it runs
//   Arranged<int, int> by_key = Import(live, products_by_key);
//   auto joined = Join(by_key, ArrangeByKey(fresh));   // in `live`
//
// The imported arrangement shares the running one's trace and batches.
// Its stream first sends the batches that hold the trace's contents at the
// import (its "base", read as of the dataflow's start time: times before
// it advance to it, as if the trace had been compacted there), then every
// batch the running dataflow adds, as it adds them. Readers in the new
// dataflow (join, reduce, ...) read the shared trace as of what they have
// received, so each pair of batches meets once, as in one dataflow. The
// import holds a reader on the trace: its batches since the import are
// kept until the import has passed them on, and the readers of the new
// dataflow hold back its compaction as any reader does.
//
// An import follows the running dataflow for as long as it runs, so the
// new dataflow completes only when that one does -- or when the import is
// stopped: an ImportStop ends it (nothing more is sent and its frontier
// empties), and the new dataflow can then complete and be dropped
// (Worker::DropDataflow), which releases every hold on the trace.
//
//   ImportStop stop;
//   auto by_key = Import(live, products_by_key, &stop);
//   ...
//   stop();   // then step until live.Complete(), and drop it
//
// REQUIRES: both dataflows are top-level (engine time uint64_t) on the
// same worker; the running dataflow is not dropped before the new one (its
// trace would stop growing and the new dataflow would never complete).
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

#include "engine/arrangement.h"
#include "engine/graph.h"
#include "engine/port.h"
#include "engine/trace.h"

namespace diffmesh {

// Ends the imports it was given to (see above). Copyable; calling it again,
// or after the new dataflow is gone, does nothing.
class ImportStop {
 public:
  void operator()() const {
    for (const auto& weak : imports_) {
      if (std::shared_ptr<State> state = weak.lock()) {
        state->stopped = true;
        if (state->wake) state->wake();
      }
    }
  }

  // Shared with one import's operator.
  struct State {
    bool stopped = false;
    std::function<void()> wake;
  };
  void Add(const std::shared_ptr<State>& state) { imports_.push_back(state); }

 private:
  std::vector<std::weak_ptr<State>> imports_;
};

namespace internal {

template <class K, class V, class T, class R>
class ImportOperator : public OperatorBase {
 public:
  static_assert(std::is_same_v<T, uint64_t>,
                "Import joins top-level dataflows (engine time uint64_t)");
  using Payload = BatchMessage<K, V, T, R>;
  using TraceT = Trace<K, V, T, R>;

  ImportOperator(Graph* into, const Arranged<K, V, T, R>& from)
      : OperatorBase("import"),
        out(into, into->NextOperatorIndex()),
        start_(into->start_time()),
        reader_(from.trace),
        listener_(std::make_shared<typename TraceT::Listener>()),
        base_(std::make_shared<ImportBase<K, V, T, R>>()),
        stop_(std::make_shared<ImportStop::State>()) {
    base_->batches = from.trace->Batches();
    base_->seq = from.trace->sequence();
    upper_ = from.trace->spine().upper();
    from.trace->Listen(listener_);
    out.SetCapabilities(Antichain<T>(start_));  // the base goes there
  }

  bool ReadsFrontiers() const override { return false; }
  void Run() override {
    if (listener_ == nullptr) return;  // stopped
    if (stop_->stopped) {
      // No more news: the trace forgets the listener, the reader lets go.
      listener_.reset();
      reader_.Release();
      base_->batches.clear();
      out.SetCapabilities(Antichain<T>());
      return;
    }
    if (!listener_->wake) {
      Graph* g = graph();
      const int op = index();
      listener_->wake = [g, op] { g->Activate(op); };
      stop_->wake = listener_->wake;
      // The base, oldest first, at the start time.
      for (auto it = base_->batches.rbegin(); it != base_->batches.rend();
           ++it) {
        out.Send({Antichain<T>(start_), Payload{*it, base_->seq, true}});
      }
      // Readers took their copies when they were built; the trace holds
      // these batches as long as it needs them.
      base_->batches.clear();
    }
    while (!listener_->news.empty()) {
      typename TraceT::Listener::News news = std::move(listener_->news.front());
      listener_->news.pop_front();
      if (news.batch != nullptr) {
        // A batch that begins before the start reads as advanced to it.
        Antichain<T> at;
        bool before = false;
        for (const T& t : news.batch->description.lower) {
          at.Insert(std::max(t, start_));
          before = before || t < start_;
        }
        out.Send(
            {std::move(at), Payload{std::move(news.batch), news.seq, before}});
      }
      reader_.Acknowledge(news.seq);
      upper_ = std::move(news.upper);
    }
    const Antichain<T> capability = Capability();
    out.SetCapabilities(capability);
    if (capability.empty()) {
      reader_.Release();
    } else {
      reader_.SetSince(capability);
    }
  }

  // The trace's contents at the import, for the new dataflow's readers.
  std::shared_ptr<const ImportBase<K, V, T, R>> base() const { return base_; }
  const std::shared_ptr<ImportStop::State>& stop() const { return stop_; }

  OutputPort<T, Payload> out;

 private:
  // What the import may still send: the trace's upper, from the start on.
  Antichain<T> Capability() const {
    Antichain<T> at;
    for (const T& t : upper_) at.Insert(std::max(t, start_));
    return at;
  }

  const T start_;
  TraceReader<K, V, T, R> reader_;
  std::shared_ptr<typename TraceT::Listener> listener_;
  std::shared_ptr<ImportBase<K, V, T, R>> base_;
  std::shared_ptr<ImportStop::State> stop_;
  Antichain<T> upper_;
};

}  // namespace internal

// `from`, an arrangement of another dataflow on this worker, read in
// dataflow `into` (see above); `stop`, when given, can end the import.
template <class K, class V, class R>
Arranged<K, V, uint64_t, R> Import(Graph& into,
                                   const Arranged<K, V, uint64_t, R>& from,
                                   ImportStop* stop = nullptr) {
  using Op = internal::ImportOperator<K, V, uint64_t, R>;
  auto* op = into.template AddOperator<Op>(&into, from);
  if (stop != nullptr) stop->Add(op->stop());
  return Arranged<K, V, uint64_t, R>{{&into, &op->out}, from.trace, op->base()};
}

}  // namespace diffmesh
