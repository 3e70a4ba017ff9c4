#include "governance/counted_rows.h"

#include <algorithm>

#include "engine/graph.h"
#include "engine/port.h"
#include "governance/row_changes.h"
#include "operators/exchange.h"

namespace diffmesh {
namespace {

using Updates = std::vector<Update<Row, uint64_t, int64_t>>;

// Holds a capability at the start until the first rows are out, and one at
// each time whose counts wait for their time to be complete.
class CountedRowsOperator : public OperatorBase {
 public:
  using Counts =
      std::vector<Update<std::pair<Row, int64_t>, uint64_t, int64_t>>;

  CountedRowsOperator(std::string name,
                      const Collection<std::pair<Row, int64_t>>& counts,
                      RowsOfCounts rows_of)
      : OperatorBase(std::move(name)),
        in(counts.graph(), counts.graph()->NextOperatorIndex()),
        out(counts.graph(), counts.graph()->NextOperatorIndex()),
        rows_of_(std::move(rows_of)),
        gathers_(counts.graph()->worker_index() == 0),
        start_(counts.graph()->start_time()) {
    counts.stream.port->Connect(&in);
    if (gathers_) out.SetCapabilities(Antichain<uint64_t>{start_});
  }

  void Run() override {
    Message<uint64_t, Counts> message;
    while (in.Pull(&message)) {
      for (auto& u : message.payload) pending_[u.time].push_back(std::move(u));
    }
    const Antichain<uint64_t>& frontier = in.frontier();
    auto complete = [&](uint64_t t) { return !frontier.LessEqual(t); };
    Updates output;
    if (gathers_ && !started_ &&
        (frontier.empty() || !frontier.LessEqual(start_) ||
         !pending_.empty())) {
      // The first rows, from no counts, at the start.
      started_ = true;
      Settle(start_, &output);
    }
    while (started_ && !pending_.empty() && complete(pending_.begin()->first)) {
      const uint64_t t = pending_.begin()->first;
      for (const auto& u : pending_.begin()->second) {
        // CountTotal retracts (name, old) and inserts (name, new).
        const int64_t name = u.data.first[0].as_int64();
        counts_[name] += u.diff > 0 ? u.data.second : -u.data.second;
        if (counts_[name] == 0) counts_.erase(name);
      }
      pending_.erase(pending_.begin());
      Settle(t, &output);
    }
    if (!output.empty()) {
      // Sent at the least time it holds, which a capability covers.
      uint64_t least = output.front().time;
      for (const auto& u : output) least = std::min(least, u.time);
      out.Send({Antichain<uint64_t>{least}, std::move(output)});
    }
    Antichain<uint64_t> caps;
    if (gathers_ && !started_) caps.Insert(start_);
    if (!pending_.empty()) caps.Insert(pending_.begin()->first);
    out.SetCapabilities(caps);
  }

  InputPort<uint64_t, Counts> in;
  OutputPort<uint64_t, Updates> out;

 private:
  // The rows as of time `t` replace the last ones emitted.
  void Settle(uint64_t t, Updates* output) {
    std::vector<Row> now = rows_of_(t, counts_);
    AppendRowChanges(emitted_, now, t, output);
    emitted_ = std::move(now);
  }

  RowsOfCounts rows_of_;
  bool gathers_;
  uint64_t start_;  // the dataflow's
  bool started_ = false;
  std::map<uint64_t, Counts> pending_;
  CountsByName counts_;
  std::vector<Row> emitted_;
};

}  // namespace

RowCollection CountedRows(const Collection<std::pair<Row, int64_t>>& counts,
                          std::string name, RowsOfCounts rows_of) {
  Collection<std::pair<Row, int64_t>> gathered = counts;
  Graph* graph = counts.graph();
  if (graph->peers() > 1) {
    // Every count meets on worker 0.
    gathered = Exchange(counts, [](const auto&) { return uint64_t{0}; });
  }
  auto* op = graph->AddOperator<CountedRowsOperator>(std::move(name), gathered,
                                                     std::move(rows_of));
  return RowCollection{{graph, &op->out}};
}

}  // namespace diffmesh
