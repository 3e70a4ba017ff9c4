// The one stateless operator all record-at-a-time operators are made of:
// pull each message, transform its updates, forward at the same time.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "engine/collection.h"
#include "engine/graph.h"
#include "engine/port.h"

namespace diffmesh::internal {

template <class DIn, class DOut, class T, class RIn, class ROut, class F>
class UnaryOperator : public OperatorBase {
 public:
  using PIn = std::vector<Update<DIn, T, RIn>>;
  using POut = std::vector<Update<DOut, T, ROut>>;

  UnaryOperator(std::string name, const Stream<T, PIn>& input, F logic)
      : OperatorBase(std::move(name)),
        in(input.graph, input.graph->NextOperatorIndex()),
        out(input.graph, input.graph->NextOperatorIndex()),
        graph_(input.graph),
        logic_(std::move(logic)) {
    input.port->Connect(&in);
    out.AddGuard(in.target());
  }

  bool ReadsFrontiers() const override { return false; }
  void Run() override {
    Message<T, PIn> message;
    size_t taken = 0;
    while (taken < kRunUpdates && in.Pull(&message)) {
      taken += message.payload.size();
      POut output;
      logic_(std::move(message.payload), &output);
      if (!output.empty())
        out.Send({std::move(message.time), std::move(output)});
    }
    // The rest waits for the next step, after the operators downstream
    // took this part: a large input flows through in pieces rather than
    // piling up whole between each pair of operators.
    if (in.HasMessages()) graph_->Activate(in.op());
  }

  // Updates an activation takes before it lets the others run.
  static constexpr size_t kRunUpdates = size_t{1} << 16;

  InputPort<T, PIn> in;
  OutputPort<T, POut> out;

 private:
  Graph* graph_;
  F logic_;
};

// Builds a unary operator; `logic(std::vector<Update<D,T,R>>&&, POut*)`.
template <class DOut, class ROut, class D, class T, class R, class F>
Collection<DOut, T, ROut> Unary(const Collection<D, T, R>& input,
                                std::string name, F logic) {
  using Op = UnaryOperator<D, DOut, T, R, ROut, F>;
  auto* op = input.graph()->template AddOperator<Op>(
      std::move(name), input.stream, std::move(logic));
  return Collection<DOut, T, ROut>{{input.graph(), &op->out}};
}

}  // namespace diffmesh::internal
