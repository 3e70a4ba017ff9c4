// Nested scopes and iteration over partially ordered time.
//
//   // Nodes reachable from `roots` along `edges` (pairs src -> dst).
//   auto reach = Iterate(roots, [&](const auto& inner) {
//     auto e = Enter<uint64_t>(edges);   // edges, readable inside the loop
//     return Distinct(Concat(Map(JoinMap(...)), Enter<uint64_t>(roots)));
//   });
//
// Inside a loop, time is Product<Outer, uint64_t>: the outer time and an
// iteration counter. Enter maps t -> (t, 0); Leave maps (t, i) -> t (summing
// the loop's diffs over iterations); a Variable's feedback edge maps
// (t, i) -> (t, i + 1) and carries the +1 summary, so progress tracking sees
// the loop, reaches the fixed point at each outer time and then releases it.
//
// Variable semantics: with source s and body result r, the variable's
// collection is s at iteration 0 and r(i - 1) at iteration i (it feeds back
// r - s). The body must consolidate what circulates (reduce, distinct,
// consolidate) or the loop never quiesces.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "engine/arrangement.h"
#include "engine/collection.h"
#include "engine/graph.h"
#include "engine/port.h"
#include "operators/concat.h"
#include "operators/negate.h"

namespace diffmesh {
namespace internal {

// Forwards updates, rewriting every time with `map` (a monotone map that
// matches the operator's declared path summary).
template <class D, class TIn, class TOut, class R, class Map>
class RetimeOperator : public OperatorBase {
 public:
  using PIn = std::vector<Update<D, TIn, R>>;
  using POut = std::vector<Update<D, TOut, R>>;

  RetimeOperator(std::string name, const Stream<TIn, PIn>& input,
                 const PathSummary& summary, Map map)
      : OperatorBase(std::move(name)),
        in(input.graph, input.graph->NextOperatorIndex()),
        out(input.graph, input.graph->NextOperatorIndex()),
        map_(std::move(map)) {
    if (input.port != nullptr) input.port->Connect(&in);
    input.graph->SetSummary(in.target(), out.source(), summary);
    out.SetSummarized();
  }

  bool ReadsFrontiers() const override { return false; }
  void Run() override {
    Message<TIn, PIn> message;
    while (in.Pull(&message)) {
      POut output;
      output.reserve(message.payload.size());
      for (auto& u : message.payload)
        output.push_back({std::move(u.data), map_(u.time), u.diff});
      Antichain<TOut> time;
      for (const TIn& t : message.time) time.Insert(map_(t));
      out.Send({std::move(time), std::move(output)});
    }
  }

  InputPort<TIn, PIn> in;
  OutputPort<TOut, POut> out;

 private:
  Map map_;
};

template <class D, class TIn, class TOut, class R, class Map>
auto Retime(std::string name, const Collection<D, TIn, R>& input,
            const PathSummary& summary, Map map) {
  using Op = RetimeOperator<D, TIn, TOut, R, Map>;
  auto* op = input.graph()->template AddOperator<Op>(
      std::move(name), input.stream, summary, std::move(map));
  return std::pair(op, Collection<D, TOut, R>{{input.graph(), &op->out}});
}

// Forwards batch messages into a loop scope, retiming only the messages.
template <class T, class Inner, class Payload>
class EnterBatchesOperator : public OperatorBase {
 public:
  explicit EnterBatchesOperator(const Stream<T, Payload>& input)
      : OperatorBase("enter_arranged"),
        in(input.graph, input.graph->NextOperatorIndex()),
        out(input.graph, input.graph->NextOperatorIndex()) {
    input.port->Connect(&in);
    input.graph->SetSummary(in.target(), out.source(),
                            PathSummary::Enter(TimeCodec<T>::kDepth));
    out.SetSummarized();
  }

  bool ReadsFrontiers() const override { return false; }
  void Run() override {
    Message<T, Payload> message;
    while (in.Pull(&message)) {
      Antichain<Inner> time;
      for (const T& t : message.time) time.Insert(Inner{t, 0});
      out.Send({std::move(time), std::move(message.payload)});
    }
  }

  InputPort<T, Payload> in;
  OutputPort<Inner, Payload> out;
};

}  // namespace internal

// Brings an outer collection into a loop scope: t -> (t, 0).
template <class D, class T, class R>
Collection<D, Product<T, uint64_t>, R> Enter(const Collection<D, T, R>& input) {
  using Inner = Product<T, uint64_t>;
  return internal::Retime<D, T, Inner, R>(
             "enter", input, PathSummary::Enter(TimeCodec<T>::kDepth),
             [](const T& t) {
               return Inner{t, 0};
             })
      .second;
}

// Makes an outer arrangement readable inside a loop scope without
// re-arranging: the loop's readers share the outer trace and its batches,
// whose times read as (t, 0).
template <class K, class V, class T, class R, class TB>
Arranged<K, V, Product<T, uint64_t>, R, TB> EnterArranged(
    const Arranged<K, V, T, R, TB>& outer) {
  using Inner = Product<T, uint64_t>;
  using Payload = BatchMessage<K, V, TB, R>;
  using Op = internal::EnterBatchesOperator<T, Inner, Payload>;
  auto* op = outer.graph()->template AddOperator<Op>(outer.stream);
  return Arranged<K, V, Inner, R, TB>{
      {outer.graph(), &op->out}, outer.trace, outer.base};
}

// Takes a loop's collection out to the enclosing scope: (t, i) -> t.
template <class D, class T, class R>
Collection<D, T, R> Leave(const Collection<D, Product<T, uint64_t>, R>& input) {
  using Inner = Product<T, uint64_t>;
  return internal::Retime<D, Inner, T, R>(
             "leave", input, PathSummary::Leave(TimeCodec<Inner>::kDepth),
             [](const Inner& t) { return t.outer; })
      .second;
}

// A collection defined in terms of itself across iterations. T is the loop
// scope's time, Product<Outer, uint64_t>.
template <class D, class T, class R>
class Variable {
 public:
  // An initially empty variable: its collection at iteration i + 1 is the
  // result at iteration i.
  explicit Variable(Graph& graph) : graph_(&graph) {
    MakeFeedback();
    collection_ = feedback_;
  }
  // A variable that starts as `source` (at iteration 0).
  explicit Variable(const Collection<D, T, R>& source)
      : graph_(source.graph()), source_(source), has_source_(true) {
    MakeFeedback();
    collection_ = Concat(source_, feedback_);
  }

  // The variable's collection, to use in the loop body.
  const Collection<D, T, R>& collection() const { return collection_; }

  // Closes the loop. REQUIRES: called exactly once, before the dataflow runs.
  void Set(const Collection<D, T, R>& result) {
    DM_CHECK_MSG(!set_, "Variable::Set called twice");
    set_ = true;
    Collection<D, T, R> fed =
        has_source_ ? Concat(result, Negate(source_)) : result;
    fed.stream.port->Connect(&feedback_op_->in);
  }

 private:
  static T Step(const T& t) { return T{t.outer, t.inner + 1}; }
  struct StepFn {
    T operator()(const T& t) const { return Step(t); }
  };
  using FeedbackOp = internal::RetimeOperator<D, T, T, R, StepFn>;

  void MakeFeedback() {
    // The feedback operator is created unconnected; Set() connects its input.
    feedback_op_ = graph_->template AddOperator<FeedbackOp>(
        "feedback", Stream<T, std::vector<Update<D, T, R>>>{graph_, nullptr},
        PathSummary::Increment(TimeCodec<T>::kDepth), StepFn{});
    feedback_ = Collection<D, T, R>{{graph_, &feedback_op_->out}};
  }

  Graph* graph_;
  Collection<D, T, R> source_;
  bool has_source_ = false;
  bool set_ = false;
  FeedbackOp* feedback_op_ = nullptr;
  Collection<D, T, R> feedback_;
  Collection<D, T, R> collection_;
};

// Iterates `body` to a fixed point from `input`:
//   x(0) = input, x(i + 1) = body(x(i)); returns the limit.
// `body` receives and returns a Collection<D, Product<T, uint64_t>, R>; use
// Enter() to bring other outer collections into the loop.
template <class D, class T, class R, class F>
Collection<D, T, R> Iterate(const Collection<D, T, R>& input, F body) {
  using Inner = Product<T, uint64_t>;
  Collection<D, Inner, R> entered = Enter(input);
  Variable<D, Inner, R> variable(entered);
  Collection<D, Inner, R> result = body(variable.collection());
  variable.Set(result);
  return Leave(result);
}

}  // namespace diffmesh
