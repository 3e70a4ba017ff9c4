// Arranged<K, V, T, R>: a collection indexed by key, as a stream of sealed
// batches plus the shared trace that accumulates them.
//
//   Arranged<int, int> by_key = ArrangeByKey(pairs);   // operators/arrange.h
//   auto a = Join(by_key, other);                       // both joins read
//   auto b = Join(by_key, third);                       // one shared trace
//
// Readers (join, reduce, ...) take a TraceReader on `trace`; each batch
// message carries the batch and its sequence number in the trace.
//
// An arrangement entered into a loop (EnterArranged, operators/iterate.h)
// keeps its outer trace and batches: TB is the time stored in the batches,
// T the time of the scope reading them, and ScopeTime<TB, T> maps one to the
// other (t -> (t, 0), per level of nesting) without copying anything.
#pragma once

#include <cstdint>
#include <memory>
#include <type_traits>

#include "engine/batch.h"
#include "engine/port.h"
#include "engine/trace.h"

namespace diffmesh {

template <class K, class V, class T, class R>
struct BatchMessage {
  BatchPtr<K, V, T, R> batch;
  uint64_t seq = 0;
  // One of an imported trace's base batches (operators/import.h): its
  // times may be before the message's, and read as advanced to it
  // (AdvancedTo).
  bool base = false;
};

// Time `t` of a base batch read in a message at time `at` (the import's
// start): `t` when it is at or after `at`, else advanced to it -- as the
// trace compacted up to the import would hold it.
template <class T>
T AdvancedTo(const T& t, const Antichain<T>& at) {
  if (at.LessEqual(t)) return t;
  T out = t;
  for (const T& a : at) out = Join(out, a);
  return out;
}

// Maps batch times TB into a scope's time T, and scope frontiers back out.
template <class TB, class T>
struct ScopeTime;
template <class T>
struct ScopeTime<T, T> {
  static const T& In(const T& t) { return t; }
  static const T& Out(const T& t) { return t; }
};
template <class TB, class Outer>
requires(!std::is_same_v<TB, Product<Outer, uint64_t>>) struct ScopeTime<
    TB, Product<Outer, uint64_t>> {
  static Product<Outer, uint64_t> In(const TB& t) {
    return {ScopeTime<TB, Outer>::In(t), 0};
  }
  static TB Out(const Product<Outer, uint64_t>& t) {
    return ScopeTime<TB, Outer>::Out(t.outer);
  }
};

// The frontier `f` of a scope, as a frontier of batch times: compaction of an
// outer trace up to it preserves every lookup the scope can still make.
template <class TB, class T>
Antichain<TB> OuterFrontier(const Antichain<T>& f) {
  Antichain<TB> out;
  for (const T& t : f) out.Insert(ScopeTime<TB, T>::Out(t));
  return out;
}

template <class K, class V, class T = uint64_t, class R = int64_t, class TB = T>
struct Arranged {
  using Key = K;
  using Val = V;
  using Time = T;
  using Diff = R;
  using BatchTime = TB;
  using Payload = BatchMessage<K, V, TB, R>;
  using TraceT = Trace<K, V, TB, R>;

  Stream<T, Payload> stream;
  std::shared_ptr<TraceT> trace;
  // Set when the trace was imported from another dataflow: its contents
  // then, which the stream sends first (readers: TraceReader(trace, base)).
  std::shared_ptr<const ImportBase<K, V, TB, R>> base;

  Graph* graph() const { return stream.graph; }
};

}  // namespace diffmesh
