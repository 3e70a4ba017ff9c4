// Arranged<K, V, T, R>: a collection indexed by key, as a stream of sealed
// batches plus the shared trace that accumulates them.
//
//   Arranged<int, int> by_key = ArrangeByKey(pairs);   // operators/arrange.h
//   auto a = Join(by_key, other);                       // both joins read
//   auto b = Join(by_key, third);                       // one shared trace
//
// Readers (join, reduce, ...) take a TraceReader on `trace`; each batch
// message carries the batch and its sequence number in the trace.
#pragma once

#include <cstdint>
#include <memory>

#include "engine/batch.h"
#include "engine/port.h"
#include "engine/trace.h"

namespace diffmesh {

template <class K, class V, class T, class R>
struct BatchMessage {
  BatchPtr<K, V, T, R> batch;
  uint64_t seq = 0;
};

template <class K, class V, class T = uint64_t, class R = int64_t>
struct Arranged {
  using Key = K;
  using Val = V;
  using Time = T;
  using Diff = R;
  using Payload = BatchMessage<K, V, T, R>;
  using TraceT = Trace<K, V, T, R>;

  Stream<T, Payload> stream;
  std::shared_ptr<TraceT> trace;

  Graph* graph() const { return stream.graph; }
};

}  // namespace diffmesh
