// Probes: observe how far a stream's frontier has advanced.
//
//   Probe<uint64_t> probe = ProbeStream(result.stream);
//   input.AdvanceTo(round + 1);
//   worker.StepWhile([&] { return probe.LessThan(round + 1); });
//
// LessThan(t) holds while some time < t may still appear on the stream, i.e.
// while results for times before t are not yet final.
#pragma once

#include "engine/graph.h"
#include "engine/port.h"
#include "engine/timestamp.h"

namespace diffmesh {

template <class T>
class Probe {
 public:
  Probe() = default;
  Probe(Graph* graph, int target) : graph_(graph), target_(target) {}

  bool LessThan(const T& t) const {
    return Frontier().LessThan(TimeCodec<T>::Encode(t));
  }
  bool LessEqual(const T& t) const {
    return Frontier().LessEqual(TimeCodec<T>::Encode(t));
  }
  // The stream is finished: no time may appear any more.
  bool Done() const { return Frontier().empty(); }
  Antichain<T> frontier() const { return DecodeFrontier<T>(Frontier()); }

 private:
  const Antichain<Timestamp>& Frontier() const {
    graph_->Prepare();
    return graph_->Frontier(target_);
  }
  Graph* graph_ = nullptr;
  int target_ = -1;
};

template <class T, class P>
class ProbeOperator : public OperatorBase {
 public:
  ProbeOperator(Graph* graph, OutputPort<T, P>* source)
      : OperatorBase("probe"), in(graph, graph->NextOperatorIndex()) {
    source->Connect(&in);
  }
  void Run() override {
    Message<T, P> message;
    while (in.Pull(&message)) {
    }
  }
  InputPort<T, P> in;
};

template <class T, class P>
Probe<T> ProbeStream(const Stream<T, P>& stream) {
  auto* op = stream.graph->template AddOperator<ProbeOperator<T, P>>(
      stream.graph, stream.port);
  return Probe<T>(stream.graph, op->in.target());
}

}  // namespace diffmesh
