// Probes: observe how far a stream's frontier has advanced.
//
//   Probe<uint64_t> probe = ProbeStream(result.stream);  // or ProbeFrontier
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
  Graph* graph() const { return graph_; }

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
  // `take_data`: a reader of the stream's messages (which it drops), or
  // only of its frontier (connected for progress; no message comes here).
  ProbeOperator(Graph* graph, OutputPort<T, P>* source, bool take_data)
      : OperatorBase("probe"), in(graph, graph->NextOperatorIndex()) {
    if (take_data) {
      source->Connect(&in);
    } else {
      graph->Connect(source->source(), in.target());
    }
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
      stream.graph, stream.port, true);
  return Probe<T>(stream.graph, op->in.target());
}

// A probe that is not one of the stream's readers: its messages go only to
// the others (a stream with one reader hands it each message without a
// copy). Its frontier is the stream's, less the messages in flight, which
// no reader here waits for: it passes t once the operator that emits the
// stream is done with every time before t.
template <class T, class P>
Probe<T> ProbeFrontier(const Stream<T, P>& stream) {
  auto* op = stream.graph->template AddOperator<ProbeOperator<T, P>>(
      stream.graph, stream.port, false);
  return Probe<T>(stream.graph, op->in.target());
}

}  // namespace diffmesh
