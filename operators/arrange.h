// Arrange: index a collection by key into a shared trace.
//
//   Arranged<int, std::string> by_id = ArrangeByKey(pairs);  // pair<K, V>
//   Arranged<int, Unit> ids = ArrangeBySelf(numbers);
//   Collection<std::pair<int, std::string>> back = AsCollection(by_id);
//
// The arrange operator buffers updates in a batcher; whenever its input
// frontier advances it seals the completed updates into one batch, inserts it
// into the trace and sends it to every reader. It holds capabilities for the
// pending updates only. When the worker is idle it spends fuel on the
// trace's merges. On several workers an Exchange in front routes each key to
// its owner. A trace with no reader and no other owner (every Arranged
// handle to it gone) can never be read: the operator drops it and goes on
// sending its batches to the stream alone.
#pragma once

#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "engine/arrangement.h"
#include "engine/batcher.h"
#include "engine/collection.h"
#include "engine/graph.h"
#include "engine/port.h"
#include "operators/exchange.h"

namespace diffmesh {
namespace internal {

// How a record splits into (key, value).
template <class D>
struct KeyValueOf;
template <class K, class V>
struct KeyValueOf<std::pair<K, V>> {
  using Key = K;
  using Val = V;
  static const K& KeyOf(const std::pair<K, V>& d) { return d.first; }
  static void Push(std::pair<K, V>&& d, auto& batcher, auto&& time, auto diff) {
    batcher.Push(std::move(d.first), std::move(d.second), time, diff);
  }
};
template <class K>
struct SelfKeyed {
  using Key = K;
  using Val = Unit;
  static const K& KeyOf(const K& d) { return d; }
  static void Push(K&& d, auto& batcher, auto&& time, auto diff) {
    batcher.Push(std::move(d), Unit{}, time, diff);
  }
};

template <class D, class Split, class T, class R>
class ArrangeOperator : public OperatorBase {
 public:
  using K = typename Split::Key;
  using V = typename Split::Val;
  using PIn = std::vector<Update<D, T, R>>;
  using POut = BatchMessage<K, V, T, R>;

  ArrangeOperator(std::string name, const Stream<T, PIn>& input)
      : OperatorBase(std::move(name)),
        in(input.graph, input.graph->NextOperatorIndex()),
        out(input.graph, input.graph->NextOperatorIndex()),
        trace(std::make_shared<Trace<K, V, T, R>>()) {
    input.port->Connect(&in);
  }

  void Run() override {
    Message<T, PIn> message;
    while (in.Pull(&message)) {
      for (auto& u : message.payload) {
        Split::Push(std::move(u.data), batcher_, u.time, u.diff);
      }
    }
    const Antichain<T>& frontier = in.frontier();
    if (!(frontier == batcher_.lower())) {
      if (batcher_.empty()) {
        // The usual activation of a quiet arrangement: only time moved on.
        batcher_.Skip(frontier);
        if (trace) trace->Advance(frontier);
      } else {
        Antichain<T> batch_lower;
        auto batch = batcher_.Seal(frontier, &batch_lower);
        uint64_t seq = trace ? trace->Insert(batch) : ++dropped_seq_;
        if (!batch->empty())
          out.Send({std::move(batch_lower), POut{std::move(batch), seq}});
      }
    }
    out.SetCapabilities(batcher_.PendingFrontier());
    if (trace && trace->NumReaders() == 0 && trace.use_count() == 1) {
      dropped_seq_ = trace->sequence();
      trace.reset();
    }
  }

  bool Exert(int64_t fuel) override {
    return trace && trace->spine().Exert(fuel);
  }
  bool CatchUp(int64_t fuel) override {
    return trace && trace->spine().CatchUp(fuel);
  }
  size_t HeldBytes() const override {
    return (trace ? trace->HeldBytes() : 0) + batcher_.PendingBytes();
  }
  void AddHeldBytes(HeldByteParts* parts) const override {
    if (trace) trace->AddBytesTo(parts);
    parts->batching += batcher_.PendingBytes();
  }

  InputPort<T, PIn> in;
  OutputPort<T, POut> out;
  std::shared_ptr<Trace<K, V, T, R>> trace;

 private:
  Batcher<K, V, T, R> batcher_;
  uint64_t dropped_seq_ = 0;  // sequence numbers once the trace is dropped
};

// `route(key)` names the worker that owns a key (KeyHash by default).
template <class Split, class D, class T, class R, class Route>
auto ArrangeWith(const Collection<D, T, R>& input, std::string name,
                 Route route) {
  using Op = ArrangeOperator<D, Split, T, R>;
  // On several workers each key's updates go to the worker that owns it
  // first, so every worker's trace holds exactly its keys.
  Collection<D, T, R> owned = input;
  if (input.graph()->peers() > 1) {
    owned = Exchange(input, [route](const D& d) {
      return static_cast<uint64_t>(route(Split::KeyOf(d)));
    });
  }
  auto* op =
      input.graph()->template AddOperator<Op>(std::move(name), owned.stream);
  return Arranged<typename Split::Key, typename Split::Val, T, R>{
      {input.graph(), &op->out}, op->trace};
}

template <class Split, class D, class T, class R>
auto ArrangeWith(const Collection<D, T, R>& input, std::string name) {
  return ArrangeWith<Split>(
      input, std::move(name),
      [](const typename Split::Key& k) { return KeyHash(k); });
}

// Turns batches back into updates: f(key, val) -> record.
template <class K, class V, class T, class R, class DOut, class F>
class FlattenOperator : public OperatorBase {
 public:
  using PIn = BatchMessage<K, V, T, R>;
  using POut = std::vector<Update<DOut, T, R>>;

  FlattenOperator(const Stream<T, PIn>& input, F f)
      : OperatorBase("as_collection"),
        in(input.graph, input.graph->NextOperatorIndex()),
        out(input.graph, input.graph->NextOperatorIndex()),
        f_(std::move(f)) {
    input.port->Connect(&in);
    out.AddGuard(in.target());
  }

  bool ReadsFrontiers() const override { return false; }
  void Run() override {
    Message<T, PIn> message;
    while (in.Pull(&message)) {
      const auto& b = *message.payload.batch;
      POut output;
      output.reserve(b.size());
      for (size_t k = 0; k < b.keys.size(); ++k) {
        for (size_t v = b.ValBegin(k); v < b.ValEnd(k); ++v) {
          DOut d = f_(b.keys[k], b.vals[v]);
          auto [lo, hi] = b.Updates(v);
          for (size_t i = lo; i < hi; ++i) {
            output.push_back({d,
                              message.payload.base
                                  ? AdvancedTo(b.TimeAt(i), message.time)
                                  : b.TimeAt(i),
                              b.DiffAt(i)});
          }
        }
      }
      out.Send({std::move(message.time), std::move(output)});
    }
  }

  InputPort<T, PIn> in;
  OutputPort<T, POut> out;

 private:
  F f_;
};

}  // namespace internal

template <class K, class V, class T, class R>
Arranged<K, V, T, R> ArrangeByKey(
    const Collection<std::pair<K, V>, T, R>& input) {
  return internal::ArrangeWith<internal::KeyValueOf<std::pair<K, V>>>(
      input, "arrange_by_key");
}

template <class K, class T, class R>
Arranged<K, Unit, T, R> ArrangeBySelf(const Collection<K, T, R>& input) {
  return internal::ArrangeWith<internal::SelfKeyed<K>>(input,
                                                       "arrange_by_self");
}

// ArrangeBySelf with the owning worker of a key chosen by `route(key)`
// (a uint64_t, taken modulo the workers): keys that must meet on one worker
// (e.g. every value of one column, sorted after its column) route alike.
// Every worker must route a key alike (a stable hash: engine/stable_hash.h).
template <class K, class T, class R, class Route>
Arranged<K, Unit, T, R> ArrangeBySelfRouted(const Collection<K, T, R>& input,
                                            std::string name, Route route) {
  return internal::ArrangeWith<internal::SelfKeyed<K>>(input, std::move(name),
                                                       std::move(route));
}

// The records of an arrangement, made by f(key, val).
template <class K, class V, class T, class R, class F>
auto FlattenArranged(const Arranged<K, V, T, R>& arranged, F f) {
  using DOut = std::decay_t<std::invoke_result_t<F&, const K&, const V&>>;
  using Op = internal::FlattenOperator<K, V, T, R, DOut, F>;
  auto* op =
      arranged.graph()->template AddOperator<Op>(arranged.stream, std::move(f));
  return Collection<DOut, T, R>{{arranged.graph(), &op->out}};
}

template <class K, class V, class T, class R>
Collection<std::pair<K, V>, T, R> AsCollection(
    const Arranged<K, V, T, R>& arranged) {
  return FlattenArranged(
      arranged, [](const K& k, const V& v) { return std::pair<K, V>(k, v); });
}

template <class K, class T, class R>
Collection<K, T, R> AsCollection(const Arranged<K, Unit, T, R>& arranged) {
  return FlattenArranged(arranged, [](const K& k, const Unit&) { return k; });
}

}  // namespace diffmesh
