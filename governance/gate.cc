#include "governance/gate.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/graph.h"
#include "engine/port.h"
#include "operators/exchange.h"
#include "operators/flat_map.h"

namespace diffmesh {
namespace {

using Updates = std::vector<Update<Row, uint64_t, int64_t>>;
using Signals = std::vector<Update<uint64_t, uint64_t, int64_t>>;

// Rows in, failing blocking verdicts in (each worker gets all of them);
// rows out at the times the count of failing verdicts is zero.
class HoldOperator : public OperatorBase {
 public:
  HoldOperator(std::string name, const RowCollection& rows,
               const Collection<uint64_t>& failing)
      : OperatorBase(std::move(name)),
        rows_in(rows.graph(), rows.graph()->NextOperatorIndex()),
        failing_in(rows.graph(), rows.graph()->NextOperatorIndex()),
        out(rows.graph(), rows.graph()->NextOperatorIndex()) {
    rows.stream.port->Connect(&rows_in);
    failing.stream.port->Connect(&failing_in);
  }

  void Run() override {
    Message<uint64_t, Updates> rows;
    while (rows_in.Pull(&rows)) {
      for (auto& u : rows.payload)
        pending_[u.time].rows.push_back(std::move(u));
    }
    Message<uint64_t, Signals> signals;
    while (failing_in.Pull(&signals)) {
      for (const auto& u : signals.payload) pending_[u.time].failing += u.diff;
    }
    const Antichain<uint64_t>& f1 = rows_in.frontier();
    const Antichain<uint64_t>& f2 = failing_in.frontier();
    Updates output;
    while (!pending_.empty()) {
      const uint64_t t = pending_.begin()->first;
      if (f1.LessEqual(t) || f2.LessEqual(t)) break;  // not complete yet
      Pending& now = pending_.begin()->second;
      failing_ += now.failing;
      std::move(now.rows.begin(), now.rows.end(), std::back_inserter(held_));
      pending_.erase(pending_.begin());
      if (failing_ == 0) {
        for (auto& u : held_) {
          u.time = t;
          output.push_back(std::move(u));
        }
        held_.clear();
      }
    }
    if (!output.empty()) {
      const uint64_t least = output.front().time;  // released in time order
      out.Send({Antichain<uint64_t>{least}, std::move(output)});
    }
    // Pending times may still produce output, and held rows leave at the
    // first time that completes with every check passing: no earlier than
    // either input's frontier.
    Antichain<uint64_t> caps;
    if (!pending_.empty()) caps.Insert(pending_.begin()->first);
    if (!held_.empty()) {
      for (uint64_t t : f1) caps.Insert(t);
      for (uint64_t t : f2) caps.Insert(t);
    }
    out.SetCapabilities(caps);
  }

  InputPort<uint64_t, Updates> rows_in;
  InputPort<uint64_t, Signals> failing_in;
  OutputPort<uint64_t, Updates> out;

 private:
  struct Pending {
    Updates rows;
    int64_t failing = 0;
  };
  std::map<uint64_t, Pending> pending_;
  Updates held_;
  int64_t failing_ = 0;
};

}  // namespace

absl::StatusOr<Table> HoldWhileFailing(const Table& product,
                                       const Table& verdicts,
                                       std::vector<std::string> blocking) {
  Graph* graph = product.rows().graph();
  if (graph == nullptr || verdicts.rows().graph() == nullptr) {
    return absl::InvalidArgumentError("HoldWhileFailing: an empty Table");
  }
  if (verdicts.rows().graph() != graph) {
    return absl::FailedPreconditionError(
        "HoldWhileFailing: the product and its verdicts are of different "
        "dataflows");
  }
  if (graph->sealed()) {
    return absl::FailedPreconditionError(
        "HoldWhileFailing: the dataflow has already run; build on "
        "Mesh::Use(id)");
  }
  const Schema& schema = verdicts.schema();
  std::optional<int> severity = schema.FieldIndex("severity");
  std::optional<int> passed = schema.FieldIndex("passed");
  if (!severity || schema.fields()[*severity].type != ValueType::kString ||
      !passed || schema.fields()[*passed].type != ValueType::kBool) {
    return absl::InvalidArgumentError(
        "HoldWhileFailing: the verdicts need a string column 'severity' and "
        "a bool column 'passed' (VerdictSchema())");
  }
  // Each failing blocking verdict, once per worker.
  const uint64_t peers = static_cast<uint64_t>(graph->peers());
  Collection<uint64_t> failing = FlatMap(
      verdicts.rows(), [s = *severity, p = *passed,
                        blocking = std::move(blocking), peers](const Row& v) {
        std::vector<uint64_t> to;
        const Datum sev = v[s];
        const Datum ok = v[p];
        const bool blocks =
            !sev.is_null() && !ok.is_null() && !ok.as_bool() &&
            std::find(blocking.begin(), blocking.end(),
                      std::string(sev.as_string())) != blocking.end();
        if (blocks) {
          for (uint64_t w = 0; w < peers; ++w) to.push_back(w);
        }
        return to;
      });
  if (peers > 1) {
    failing = Exchange(failing, [](uint64_t worker) { return worker; });
  }
  auto* op = graph->AddOperator<HoldOperator>("hold_while_failing",
                                              product.rows(), failing);
  return product.WithRows(RowCollection{{graph, &op->out}});
}

}  // namespace diffmesh
