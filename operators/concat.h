// Concat: the sum of several collections.
//
//   Collection<int> both = Concat(left, right);
//   Collection<int> all = ConcatMany({a, b, c});
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/collection.h"
#include "engine/graph.h"
#include "engine/port.h"

namespace diffmesh {
namespace internal {

template <class D, class T, class R>
class ConcatOperator : public OperatorBase {
 public:
  using P = std::vector<Update<D, T, R>>;

  explicit ConcatOperator(const std::vector<Collection<D, T, R>>& inputs)
      : OperatorBase("concat(" + std::to_string(inputs.size()) + ")"),
        out(inputs[0].graph(), inputs[0].graph()->NextOperatorIndex()) {
    Graph* graph = inputs[0].graph();
    for (const auto& input : inputs) {
      ins.push_back(
          std::make_unique<InputPort<T, P>>(graph, graph->NextOperatorIndex()));
      input.stream.port->Connect(ins.back().get());
      out.AddGuard(ins.back()->target());
    }
  }

  bool ReadsFrontiers() const override { return false; }
  void Run() override {
    Message<T, P> message;
    for (auto& in : ins) {
      while (in->Pull(&message)) out.Send(std::move(message));
    }
  }

  std::vector<std::unique_ptr<InputPort<T, P>>> ins;
  OutputPort<T, P> out;
};

}  // namespace internal

// REQUIRES: at least one input, all in one dataflow.
template <class D, class T, class R>
Collection<D, T, R> ConcatMany(const std::vector<Collection<D, T, R>>& inputs) {
  DM_CHECK_MSG(!inputs.empty(), "concat of no collections");
  auto* op =
      inputs[0]
          .graph()
          ->template AddOperator<internal::ConcatOperator<D, T, R>>(inputs);
  return Collection<D, T, R>{{inputs[0].graph(), &op->out}};
}

template <class D, class T, class R>
Collection<D, T, R> Concat(const Collection<D, T, R>& a,
                           const Collection<D, T, R>& b) {
  return ConcatMany<D, T, R>({a, b});
}

}  // namespace diffmesh
