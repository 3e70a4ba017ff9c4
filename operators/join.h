// Join: the bilinear equijoin of two arrangements.
//
//   auto pairs = Join(orders, customers);   // pair<K, pair<V1, V2>>
//   auto names = JoinCore(orders_by_customer, customers_by_id,
//                         [](const int& id, const Order& o, const Name& n) {
//                         ... });
//
// For each new batch on one side, the operator walks the batch's keys and
// seeks them in the other side's trace *as of the batches this operator has
// acknowledged*, emitting f(key, v1, v2) at time join(t1, t2) with diff
// r1 * r2. Processing all batches of input 1 and then of input 2 joins every
// pair of batches exactly once:  d(A x B) = dA x B + A' x dB.
//
// Traces are shared: a join takes reader handles and never copies them. It
// allows trace 1 to compact up to input 2's frontier and vice versa, and
// releases a trace once the other input is finished.
//
// Costs: O(|batch| x log|trace keys|) seeks plus the output size, done in
// slices of bounded work per activation (queued batches hold capabilities).
#pragma once

#include <algorithm>
#include <deque>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "engine/arrangement.h"
#include "engine/collection.h"
#include "engine/graph.h"
#include "engine/port.h"
#include "operators/arrange.h"

namespace diffmesh {
namespace internal {

template <class K, class V1, class V2, class T, class R, class DOut, class F,
          class TB1, class TB2>
class JoinOperator : public OperatorBase {
 public:
  using P1 = BatchMessage<K, V1, TB1, R>;
  using P2 = BatchMessage<K, V2, TB2, R>;
  using POut = std::vector<Update<DOut, T, R>>;
  static constexpr size_t kChunk = 1 << 13;

  JoinOperator(std::string name, const Arranged<K, V1, T, R, TB1>& a,
               const Arranged<K, V2, T, R, TB2>& b, F f)
      : OperatorBase(std::move(name)),
        in1(a.graph(), a.graph()->NextOperatorIndex()),
        in2(a.graph(), a.graph()->NextOperatorIndex()),
        out(a.graph(), a.graph()->NextOperatorIndex()),
        reader1_(a.trace, a.base),
        reader2_(b.trace, b.base),
        f_(std::move(f)) {
    DM_CHECK_MSG(a.graph() == b.graph(),
                 "join of collections from different dataflows");
    a.stream.port->Connect(&in1);
    b.stream.port->Connect(&in2);
    out.AddGuard(in1.target());
    out.AddGuard(in2.target());
  }

  void Run() override {
    // Each new batch is paired with a cursor over the other trace as of
    // now (so every pair of batches meets exactly once) and queued; the
    // queue is then worked off with bounded fuel, so a large join hands its
    // output downstream in pieces instead of materializing it all at once.
    Message<T, P1> m1;
    while (in1.Pull(&m1)) {
      reader1_.Received(m1.payload.batch, m1.payload.seq);
      if (reader2_.valid()) {
        todo1_.push_back({std::move(m1.payload.batch), reader2_.Cursor(),
                          m1.time, 0, m1.payload.base});
      }
    }
    Message<T, P2> m2;
    while (in2.Pull(&m2)) {
      reader2_.Received(m2.payload.batch, m2.payload.seq);
      if (reader1_.valid()) {
        todo2_.push_back({std::move(m2.payload.batch), reader1_.Cursor(),
                          m2.time, 0, m2.payload.base});
      }
    }
    const Antichain<T>& f1 = in1.frontier();
    const Antichain<T>& f2 = in2.frontier();
    // New batches of input 2 meet trace 1 at times beyond f2, and vice versa.
    if (f2.empty()) {
      reader1_.Release();
    } else {
      reader1_.SetSince(OuterFrontier<TB1>(f2));
    }
    if (f1.empty()) {
      reader2_.Release();
    } else {
      reader2_.SetSince(OuterFrontier<TB2>(f1));
    }

    size_t fuel = kFuel;
    Drain(todo1_, &fuel, [&](const K& k, const V1& v1, const V2& v2) {
      return f_(k, v1, v2);
    });
    Drain(todo2_, &fuel, [&](const K& k, const V2& v2, const V1& v1) {
      return f_(k, v1, v2);
    });
    // Queued work holds capabilities for its batch's times.
    Antichain<T> held;
    AddTimes(todo1_, &held);
    AddTimes(todo2_, &held);
    out.SetCapabilities(held);
    if (!held.empty()) graph()->Activate(index());
  }

  // Queued work keeps its batches and its cursors' batches alive; those
  // its traces no longer keep count as pinned (once each).
  size_t HeldBytes() const override {
    HeldByteParts parts;
    AddHeldBytes(&parts);
    return parts.Total();
  }
  void AddHeldBytes(HeldByteParts* parts) const override {
    std::vector<const void*> seen;
    auto count = [&](const auto& batch, const auto& reader) {
      if ((reader.valid() && reader.trace()->Keeps(&batch)) ||
          std::find(seen.begin(), seen.end(), &batch) != seen.end()) {
        return;
      }
      seen.push_back(&batch);
      parts->pinned += batch.Bytes();
    };
    for (const auto& d : todo1_) {
      count(*d.batch, reader1_);
      d.cursor.ForEachBatch([&](const auto& b) { count(b, reader2_); });
    }
    for (const auto& d : todo2_) {
      count(*d.batch, reader2_);
      d.cursor.ForEachBatch([&](const auto& b) { count(b, reader1_); });
    }
  }

  InputPort<T, P1> in1;
  InputPort<T, P2> in2;
  OutputPort<T, POut> out;

 private:
  // Output records (plus one per key visited) produced per activation:
  // what waits for the operators downstream at once. 2^13 rather than
  // 2^16: the same instructions, and bfs 10K/50K peaks 0.27 MiB lower
  // (medians of 9); 2^12 gains nothing more.
  static constexpr size_t kFuel = size_t{1} << 13;

  // A new batch (times TBB) to join with a snapshot of the other trace
  // (times TBC), both read in this scope's time T; `next` is the first key
  // not yet joined.
  template <class VB, class TBB, class VC, class TBC>
  struct Deferred {
    BatchPtr<K, VB, TBB, R> batch;
    TraceCursor<K, VC, TBC, R> cursor;
    Antichain<T> time;
    size_t next = 0;
    bool base = false;  // an import's base batch: times advance to `time`
  };

  // Works off queued batches in order until the fuel runs out.
  template <class Queue, class G>
  void Drain(Queue& todo, size_t* fuel, G&& g) {
    while (*fuel > 0 && !todo.empty() && JoinBatch(todo.front(), fuel, g)) {
      todo.pop_front();
    }
  }
  template <class Queue>
  static void AddTimes(const Queue& todo, Antichain<T>* times) {
    for (const auto& d : todo)
      for (const T& t : d.time) times->Insert(t);
  }

  // Joins keys of `d` until done (returns true) or out of fuel.
  template <class VB, class TBB, class VC, class TBC, class G>
  bool JoinBatch(Deferred<VB, TBB, VC, TBC>& d, size_t* fuel, G&& g) {
    const Batch<K, VB, TBB, R>& batch = *d.batch;
    auto& cursor = d.cursor;
    POut output;
    std::vector<std::tuple<VC, T, R>> other;
    size_t spent = 0;
    bool done = true;
    for (size_t& k = d.next; k < batch.keys.size() && cursor.KeyValid(); ++k) {
      if (spent >= *fuel) {
        done = false;
        break;
      }
      ++spent;
      const K& key = batch.keys[k];
      cursor.SeekKey(key);
      if (!cursor.KeyValid()) break;
      if (!(cursor.Key() == key)) continue;
      other.clear();
      cursor.MapKeyUpdates([&](const VC& v, const TBC& t, const R& r) {
        other.emplace_back(v, ScopeTime<TBC, T>::In(t), r);
      });
      for (size_t v = batch.ValBegin(k); v < batch.ValEnd(k); ++v) {
        auto [lo, hi] = batch.Updates(v);
        for (size_t i = lo; i < hi; ++i) {
          T bt = ScopeTime<TBB, T>::In(batch.TimeAt(i));
          if (d.base) bt = AdvancedTo(bt, d.time);
          for (const auto& [ov, ot, orr] : other) {
            output.push_back({g(key, batch.vals[v], ov), Join(bt, ot),
                              MultiplyDiff(batch.DiffAt(i), orr)});
          }
        }
      }
      if (output.size() >= kChunk) {
        spent += output.size();
        out.Send({d.time, std::move(output)});
        output = {};
      }
    }
    spent += output.size();
    if (!output.empty()) out.Send({d.time, std::move(output)});
    *fuel -= std::min(*fuel, spent);
    return done;
  }

  std::deque<Deferred<V1, TB1, V2, TB2>> todo1_;
  std::deque<Deferred<V2, TB2, V1, TB1>> todo2_;
  TraceReader<K, V1, TB1, R> reader1_;
  TraceReader<K, V2, TB2, R> reader2_;
  F f_;
};

}  // namespace internal

// The core join over two shared arrangements: f(key, v1, v2) -> record.
// Either side may be an outer arrangement entered into this scope.
template <class K, class V1, class V2, class T, class R, class F, class TB1,
          class TB2>
auto JoinCore(const Arranged<K, V1, T, R, TB1>& a,
              const Arranged<K, V2, T, R, TB2>& b, F f,
              std::string name = "join") {
  using DOut =
      std::decay_t<std::invoke_result_t<F&, const K&, const V1&, const V2&>>;
  using Op = internal::JoinOperator<K, V1, V2, T, R, DOut, F, TB1, TB2>;
  auto* op =
      a.graph()->template AddOperator<Op>(std::move(name), a, b, std::move(f));
  return Collection<DOut, T, R>{{a.graph(), &op->out}};
}

template <class K, class V1, class V2, class T, class R, class F>
auto JoinMap(const Collection<std::pair<K, V1>, T, R>& a,
             const Collection<std::pair<K, V2>, T, R>& b, F f) {
  return JoinCore(ArrangeByKey(a), ArrangeByKey(b), std::move(f), "join_map");
}

template <class K, class V1, class V2, class T, class R>
Collection<std::pair<K, std::pair<V1, V2>>, T, R> Join(
    const Collection<std::pair<K, V1>, T, R>& a,
    const Collection<std::pair<K, V2>, T, R>& b) {
  return JoinCore(ArrangeByKey(a), ArrangeByKey(b),
                  [](const K& k, const V1& v1, const V2& v2) {
                    return std::pair<K, std::pair<V1, V2>>(k, {v1, v2});
                  });
}

}  // namespace diffmesh
