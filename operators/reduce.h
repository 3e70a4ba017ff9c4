// Reduce: a user function over each key's accumulated values, maintained
// incrementally; only corrections to the output are emitted.
//
//   // For each key, the minimum value.
//   auto mins = Reduce<int>(pairs, [](const int& key, const auto& input, auto*
//   output) {
//     output->push_back({input.front().first, 1});   // input sorted by value
//   });
//
// `logic(key, input, output)`: `input` is the key's accumulation at a time,
// consolidated, sorted by value, non-empty; `output` receives (value, diff)
// pairs (consolidated afterwards).
//
// The operator keeps its input and its output arranged. For each key that
// received updates it evaluates only the *interesting times*: the new update
// times closed under join with the times in the key's input and output
// histories (for a total order: just the new times). Times not yet complete
// are kept, with a capability, until they are. At each complete interesting
// time t, in an order that extends the lattice order, it emits
//   f(input accumulated at t) - output accumulated at t
// so the output equals f(input) at every time, also for partially ordered
// times (nested scopes).
//
// Completeness: a time is complete once it is not beyond the upper of the
// last received batch, or not beyond the input frontier.
//
// Costs: per changed key, O(|interesting times| x |key history|).
#pragma once

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "engine/arrangement.h"
#include "engine/batch.h"
#include "engine/collection.h"
#include "engine/graph.h"
#include "engine/port.h"
#include "operators/arrange.h"

namespace diffmesh {
namespace internal {

template <class K, class V, class O, class T, class R, class RO, class L>
class ReduceOperator : public OperatorBase {
 public:
  using PIn = BatchMessage<K, V, T, R>;
  using POut = BatchMessage<K, O, T, RO>;

  ReduceOperator(std::string name, const Arranged<K, V, T, R>& input, L logic)
      : OperatorBase(std::move(name)),
        in(input.graph(), input.graph()->NextOperatorIndex()),
        out(input.graph(), input.graph()->NextOperatorIndex()),
        trace(std::make_shared<Trace<K, O, T, RO>>()),
        input_reader_(input.trace, input.base),
        output_reader_(trace),
        logic_(std::move(logic)) {
    input.stream.port->Connect(&in);
    out.AddGuard(in.target());
  }

  void Run() override {
    // Gather (key, time) work from new batches.
    work_.clear();
    Message<T, PIn> message;
    while (in.Pull(&message)) {
      const auto& b = *message.payload.batch;
      for (size_t k = 0; k < b.keys.size(); ++k) {
        for (size_t v = b.ValBegin(k); v < b.ValEnd(k); ++v) {
          auto [lo, hi] = b.Updates(v);
          for (size_t i = lo; i < hi; ++i) {
            work_.emplace_back(b.keys[k],
                               message.payload.base
                                   ? AdvancedTo(b.TimeAt(i), message.time)
                                   : b.TimeAt(i));
          }
        }
      }
      input_reader_.Received(message.payload.batch, message.payload.seq);
      input_upper_ = b.description.upper;
    }
    const Antichain<T> frontier = in.frontier();
    Antichain<T> complete = JoinFrontiers(input_upper_, frontier);
    if (complete == output_upper_ && work_.empty()) return;

    // Pending times now complete rejoin the work with their keys. Pending
    // work is indexed by time: there are few distinct times, many keys.
    for (auto it = pending_.begin(); it != pending_.end();) {
      if (complete.LessEqual(it->first)) {
        ++it;
        continue;
      }
      for (const K& key : it->second) work_.emplace_back(key, it->first);
      it = pending_.erase(it);
    }
    std::sort(work_.begin(), work_.end());
    work_.erase(std::unique(work_.begin(), work_.end()), work_.end());

    corrections_.clear();
    if (!work_.empty()) {
      auto input_cursor = input_reader_.Cursor();
      auto output_cursor = trace->CursorThrough(trace->sequence());
      for (size_t i = 0; i < work_.size();) {
        size_t j = i;
        times_.clear();
        while (j < work_.size() && work_[j].first == work_[i].first) {
          times_.push_back(work_[j++].second);
        }
        ProcessKey(work_[i].first, complete, input_cursor, output_cursor);
        i = j;
      }
    }

    // Seal the corrections into an output batch [output_upper_, complete).
    if (!(complete == output_upper_)) {
      if (corrections_.empty()) {
        trace->Advance(complete);  // only time moved on: no batch to build
      } else {
        SealCorrections(complete);
      }
      output_upper_ = complete;
    }

    // Scratch is sized by the largest activation: a bulk load's is given
    // back rather than kept for the small rounds after it.
    Release(work_);
    Release(times_);
    Release(input_history_);
    Release(output_history_);
    Release(input_acc_);
    Release(delta_);
    Release(corrections_);

    Antichain<T> caps;
    for (const auto& [time, keys] : pending_) caps.Insert(time);
    out.SetCapabilities(caps);
    // Future evaluations happen at times beyond the frontier.
    input_reader_.SetSince(frontier);
    output_reader_.SetSince(frontier);
  }

  InputPort<T, PIn> in;
  OutputPort<T, POut> out;
  std::shared_ptr<Trace<K, O, T, RO>> trace;

  bool Exert(int64_t fuel) override { return trace->spine().Exert(fuel); }
  bool CatchUp(int64_t fuel) override { return trace->spine().CatchUp(fuel); }

  // The output trace plus the pending-work index (its keys, roughly).
  size_t HeldBytes() const override {
    return trace->HeldBytes() + PendingBytes();
  }
  void AddHeldBytes(HeldByteParts* parts) const override {
    trace->AddBytesTo(parts);
    parts->other += PendingBytes() + ScratchBytes();
  }

 private:
  // Each scratch vector keeps up to this much between activations: a
  // small round's needs, without holding a load's or an iteration's (per
  // worker, per reduce). 128 KiB rather than 256: bfs 10K/50K's heap 0.2
  // MiB lower, no other row's moved (bench/README.md).
  static constexpr size_t kKeptScratchBytes = size_t{1} << 17;
  template <class X>
  static void Release(std::vector<X>& v) {
    if (v.capacity() * sizeof(X) > kKeptScratchBytes) std::vector<X>().swap(v);
  }
  template <class X>
  static size_t BytesOf(const std::vector<X>& v) {
    return v.capacity() * sizeof(X);
  }
  size_t ScratchBytes() const {
    return BytesOf(work_) + BytesOf(times_) + BytesOf(input_history_) +
           BytesOf(output_history_) + BytesOf(input_acc_) + BytesOf(delta_) +
           BytesOf(corrections_);
  }

  size_t PendingBytes() const {
    size_t keys = 0;
    for (const auto& [time, set] : pending_) keys += set.size();
    return keys * (sizeof(K) + 32);
  }

  // Seals the corrections into an output batch [output_upper_, complete),
  // inserts it into the output trace and sends it on.
  void SealCorrections(const Antichain<T>& complete) {
    std::sort(corrections_.begin(), corrections_.end());
    CoalesceSorted(
        corrections_,
        [](const auto& a, const auto& b) {
          return std::get<0>(a) == std::get<0>(b) &&
                 std::get<1>(a) == std::get<1>(b) &&
                 std::get<2>(a) == std::get<2>(b);
        },
        [](auto& c) -> RO& { return std::get<3>(c); });
    BatchBuilder<K, O, T, RO> builder;
    Antichain<T> batch_lower;
    for (const auto& [key, val, time, diff] : corrections_) {
      builder.Push(key, val, time, diff);
      batch_lower.Insert(time);
    }
    auto batch =
        builder.Build({output_upper_, complete, Antichain<T>(Minimum<T>())});
    uint64_t seq = trace->Insert(batch);
    output_reader_.Acknowledge(seq);
    if (!batch->empty())
      out.Send({std::move(batch_lower), POut{std::move(batch), seq}});
  }

  void ProcessKey(const K& key, const Antichain<T>& complete,
                  TraceCursor<K, V, T, R>& input_cursor,
                  TraceCursor<K, O, T, RO>& output_cursor) {
    input_history_.clear();
    input_cursor.SeekKey(key);
    if (input_cursor.KeyValid() && input_cursor.Key() == key) {
      input_cursor.MapKeyUpdates([&](const V& v, const T& t, const R& r) {
        input_history_.emplace_back(v, t, r);
      });
    }
    output_history_.clear();
    output_cursor.SeekKey(key);
    if (output_cursor.KeyValid() && output_cursor.Key() == key) {
      output_cursor.MapKeyUpdates([&](const O& o, const T& t, const RO& r) {
        output_history_.emplace_back(o, t, r);
      });
    }

    std::sort(times_.begin(), times_.end());
    times_.erase(std::unique(times_.begin(), times_.end()), times_.end());
    if constexpr (!TotallyOrdered<T>) CloseUnderJoin();

    std::vector<T> still_pending;
    for (const T& t : times_) {
      if (complete.LessEqual(t)) {
        still_pending.push_back(t);
        continue;
      }
      input_acc_.clear();
      for (const auto& [v, ut, r] : input_history_) {
        if (LessEqual(ut, t)) input_acc_.emplace_back(v, r);
      }
      ConsolidatePairs(input_acc_);
      delta_.clear();
      if (!input_acc_.empty()) {
        logic_(key, input_acc_, &delta_);
      }
      for (const auto& [o, ut, r] : output_history_) {
        if (LessEqual(ut, t)) delta_.emplace_back(o, -r);
      }
      ConsolidatePairs(delta_);
      for (const auto& [o, r] : delta_) {
        corrections_.emplace_back(key, o, t, r);
        output_history_.emplace_back(o, t, r);
      }
    }
    for (const T& t : still_pending) pending_[t].insert(key);
  }

  // Extends times_ with its joins with every history time and itself, then
  // sorts it (a linear extension of the lattice order).
  void CloseUnderJoin() {
    std::vector<T> others;
    for (const auto& u : input_history_) others.push_back(std::get<1>(u));
    for (const auto& u : output_history_) others.push_back(std::get<1>(u));
    std::sort(others.begin(), others.end());
    others.erase(std::unique(others.begin(), others.end()), others.end());
    std::vector<T> frontier = times_;
    while (!frontier.empty()) {
      std::vector<T> next;
      for (const T& a : frontier) {
        auto consider = [&](const T& b) {
          T j = Join(a, b);
          if (!std::binary_search(times_.begin(), times_.end(), j))
            next.push_back(j);
        };
        for (const T& b : others) consider(b);
        for (const T& b : times_) consider(b);
      }
      std::sort(next.begin(), next.end());
      next.erase(std::unique(next.begin(), next.end()), next.end());
      std::vector<T> merged;
      std::merge(times_.begin(), times_.end(), next.begin(), next.end(),
                 std::back_inserter(merged));
      times_ = std::move(merged);
      frontier = std::move(next);
    }
  }

  TraceReader<K, V, T, R> input_reader_;
  TraceReader<K, O, T, RO> output_reader_;
  L logic_;
  Antichain<T> input_upper_ = Antichain<T>(Minimum<T>());
  Antichain<T> output_upper_ = Antichain<T>(Minimum<T>());
  // Interesting times not yet complete, and the keys to evaluate at each.
  std::map<T, std::set<K>> pending_;
  std::vector<std::pair<K, T>> work_;
  std::vector<T> times_;
  std::vector<std::tuple<V, T, R>> input_history_;
  std::vector<std::tuple<O, T, RO>> output_history_;
  std::vector<std::pair<V, R>> input_acc_;
  std::vector<std::pair<O, RO>> delta_;
  std::vector<std::tuple<K, O, T, RO>> corrections_;
};

}  // namespace internal

// The core reduce over an arrangement; returns the output arrangement.
template <class O, class RO, class K, class V, class T, class R, class L>
Arranged<K, O, T, RO> ReduceCore(const Arranged<K, V, T, R>& input, L logic,
                                 std::string name = "reduce") {
  using Op = internal::ReduceOperator<K, V, O, T, R, RO, L>;
  auto* op = input.graph()->template AddOperator<Op>(std::move(name), input,
                                                     std::move(logic));
  return Arranged<K, O, T, RO>{{input.graph(), &op->out}, op->trace};
}

// Reduce over a keyed collection; the output is (key, output value) pairs.
template <class O, class K, class V, class T, class R, class L>
Collection<std::pair<K, O>, T, R> Reduce(
    const Collection<std::pair<K, V>, T, R>& input, L logic) {
  return AsCollection(ReduceCore<O, R>(ArrangeByKey(input), std::move(logic)));
}

}  // namespace diffmesh
