// The `_total` fast path shared by count and threshold: for a totally
// ordered time and a key-only arrangement, the accumulated count of a key
// before a batch is the trace's sum as of the previously acknowledged batch,
// and the batch's times for that key are visited in increasing order. No
// output trace and no interesting-times closure are needed.
//
// `step(key, old_count, new_count, time, output)` appends the output changes
// for one time at which the key's count moved from old to new.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "engine/arrangement.h"
#include "engine/collection.h"
#include "engine/graph.h"
#include "engine/port.h"

namespace diffmesh::internal {

template <class K, class T, class R, class DOut, class ROut, class S>
class ReduceTotalOperator : public OperatorBase {
 public:
  static_assert(TotallyOrdered<T>,
                "the _total path needs a totally ordered time");
  using PIn = BatchMessage<K, Unit, T, R>;
  using POut = std::vector<Update<DOut, T, ROut>>;

  ReduceTotalOperator(std::string name, const Arranged<K, Unit, T, R>& input,
                      S step)
      : OperatorBase(std::move(name)),
        in(input.graph(), input.graph()->NextOperatorIndex()),
        out(input.graph(), input.graph()->NextOperatorIndex()),
        reader_(input.trace, input.base),
        step_(std::move(step)) {
    input.stream.port->Connect(&in);
    out.AddGuard(in.target());
  }

  void Run() override {
    Message<T, PIn> message;
    while (in.Pull(&message)) {
      const auto& b = *message.payload.batch;
      auto cursor = reader_.Cursor();  // as of the batches before this one
      POut output;
      for (size_t k = 0; k < b.keys.size(); ++k) {
        const K& key = b.keys[k];
        R count{};
        cursor.SeekKey(key);
        if (cursor.KeyValid() && cursor.Key() == key) {
          cursor.MapKeyUpdates(
              [&](const Unit&, const T&, const R& r) { AddDiff(count, r); });
        }
        // Key-only: one value per key, times ascending.
        size_t v = b.ValBegin(k);
        auto [lo, hi] = b.Updates(v);
        for (size_t i = lo; i < hi; ++i) {
          R before = count;
          count += b.DiffAt(i);
          step_(key, before, count,
                message.payload.base ? AdvancedTo(b.TimeAt(i), message.time)
                                     : b.TimeAt(i),
                &output);
        }
      }
      reader_.Received(message.payload.batch, message.payload.seq);
      if (!output.empty())
        out.Send({std::move(message.time), std::move(output)});
    }
    const Antichain<T>& frontier = in.frontier();
    if (frontier.empty()) {
      reader_.Release();
    } else {
      reader_.SetSince(frontier);
    }
  }

  InputPort<T, PIn> in;
  OutputPort<T, POut> out;

 private:
  TraceReader<K, Unit, T, R> reader_;
  S step_;
};

template <class DOut, class ROut, class K, class T, class R, class S>
Collection<DOut, T, ROut> ReduceTotal(const Arranged<K, Unit, T, R>& input,
                                      std::string name, S step) {
  using Op = ReduceTotalOperator<K, T, R, DOut, ROut, S>;
  auto* op = input.graph()->template AddOperator<Op>(std::move(name), input,
                                                     std::move(step));
  return Collection<DOut, T, ROut>{{input.graph(), &op->out}};
}

}  // namespace diffmesh::internal
