#include "governance/profile.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "catalog/csv_writer.h"
#include "engine/arrangement.h"
#include "engine/graph.h"
#include "engine/port.h"
#include "engine/stable_hash.h"
#include "engine/status_macros.h"
#include "governance/double_double.h"
#include "governance/log_histogram.h"
#include "governance/row_changes.h"
#include "governance/value_order.h"
#include "operators/arrange.h"
#include "operators/concat.h"
#include "operators/internal/unary.h"

namespace diffmesh {
namespace {

using KeyArrangement = Arranged<Row, Unit, uint64_t, int64_t>;
using MetricUpdates = std::vector<Update<Row, uint64_t, int64_t>>;

bool Numeric(ValueType type) {
  return type == ValueType::kInt64 || type == ValueType::kDouble;
}

double AsNumber(Datum d) {
  return d.type() == ValueType::kInt64 ? static_cast<double>(d.as_int64())
                                       : d.as_double();
}

// Reads a column's state and writes its metric rows; one per column this
// worker owns, in one of the two directions.
struct ColumnState {
  int64_t rows = 0;
  int64_t nulls = 0;
  int64_t distinct = 0;
  int64_t numbers = 0;  // non-null values of a numeric column
  // Finite values only: a NaN or an infinity is counted instead, so its
  // retraction leaves the sums as they were.
  DoubleDouble sum;
  DoubleDouble squares;
  int64_t nans = 0;
  int64_t positive_infinities = 0;
  int64_t negative_infinities = 0;
  LogHistogram histogram;        // every non-NaN number, for the quantiles
  int64_t rows_change = 0;       // at the last time the rows' count moved
  std::optional<Value> extreme;  // min (ascending) or max (reversed)
};

// The metrics of the keys of one arrangement: ascending, everything but
// the maximum; reversed, only the maximum.
class ProfileOperator : public OperatorBase {
 public:
  using PIn = BatchMessage<Row, Unit, uint64_t, int64_t>;

  ProfileOperator(std::string name, const KeyArrangement& input, Schema schema,
                  bool reversed)
      : OperatorBase(std::move(name)),
        in(input.graph(), input.graph()->NextOperatorIndex()),
        out(input.graph(), input.graph()->NextOperatorIndex()),
        reader_(input.trace),
        schema_(std::move(schema)),
        reversed_(reversed) {
    input.stream.port->Connect(&in);
    out.AddGuard(in.target());
  }

  void Run() override {
    Message<uint64_t, PIn> message;
    while (in.Pull(&message)) {
      const auto& batch = *message.payload.batch;
      // Counts as of the batches before this one.
      auto before = reader_.Cursor();
      reader_.Acknowledge(message.payload.seq);
      MetricUpdates output;
      size_t k = 0;
      while (k < batch.keys.size()) {
        const int64_t column = batch.keys[k][0].as_int64();
        size_t end = k + 1;
        while (end < batch.keys.size() &&
               batch.keys[end][0].as_int64() == column) {
          ++end;
        }
        Column(batch, k, end, static_cast<int>(column), &before, &output);
        k = end;
      }
      if (!output.empty()) {
        out.Send({std::move(message.time), std::move(output)});
      }
    }
    const Antichain<uint64_t>& frontier = in.frontier();
    if (frontier.empty()) {
      reader_.Release();
    } else {
      reader_.SetSince(frontier);
    }
  }

  size_t HeldBytes() const override {
    return columns_.size() * sizeof(ColumnState);
  }

  InputPort<uint64_t, PIn> in;
  OutputPort<uint64_t, MetricUpdates> out;

 private:
  // Keys [k, end) of `batch` are column `c`'s: applies them time by time
  // and emits the column's metric rows that changed at each time.
  template <class Batch, class Cursor>
  void Column(const Batch& batch, size_t k, size_t end, int c, Cursor* before,
              MetricUpdates* output) {
    struct Event {
      uint64_t time;
      size_t key;
      int64_t diff;
    };
    std::vector<Event> events;
    std::vector<int64_t> counts(end - k, 0);
    for (size_t i = k; i < end; ++i) {
      const Row& key = batch.keys[i];
      if (!reversed_) {
        before->SeekKey(key);
        if (before->KeyValid() && before->Key() == key) {
          before->MapKeyUpdates([&](const Unit&, const uint64_t&,
                                    const int64_t& r) { counts[i - k] += r; });
        }
      }
      auto [lo, hi] = batch.Updates(batch.ValBegin(i));
      for (size_t u = lo; u < hi; ++u) {
        events.push_back({batch.TimeAt(u), i, batch.DiffAt(u)});
      }
    }
    std::stable_sort(
        events.begin(), events.end(),
        [](const Event& a, const Event& b) { return a.time < b.time; });
    ColumnState& state = columns_[c];
    const ValueType type = schema_.fields()[c].type;
    for (size_t e = 0; e < events.size();) {
      const uint64_t time = events[e].time;
      const std::vector<Row> was = Metrics(c, state);
      const int64_t rows_before = state.rows;
      for (; e < events.size() && events[e].time == time; ++e) {
        const Event& ev = events[e];
        if (reversed_) continue;  // only the maximum moves here
        const Datum value = batch.keys[ev.key][1];
        int64_t& count = counts[ev.key - k];
        const int64_t old = count;
        count += ev.diff;
        state.rows += ev.diff;
        if (value.is_null()) {
          state.nulls += ev.diff;
          continue;
        }
        state.distinct += (count > 0 ? 1 : 0) - (old > 0 ? 1 : 0);
        if (Numeric(type)) {
          const double x = AsNumber(value);
          state.numbers += ev.diff;
          state.histogram.Add(x, ev.diff);
          if (std::isnan(x)) {
            state.nans += ev.diff;
          } else if (std::isinf(x)) {
            (x > 0 ? state.positive_infinities : state.negative_infinities) +=
                ev.diff;
          } else {
            state.sum.AddProduct(ev.diff, x);
            state.squares += DoubleDouble::Product(x, x) *
                             DoubleDouble(static_cast<double>(ev.diff));
          }
        }
      }
      state.extreme = Extreme(c, type, time);
      if (state.rows != rows_before)
        state.rows_change = state.rows - rows_before;
      if (!reversed_ && state.rows == 0) {
        // Nothing of the column is left: start afresh (the sums' residue
        // of retracted values is dropped with them).
        state = ColumnState{};
      }
      AppendRowChanges(was, Metrics(c, state), time, output);
    }
  }

  // The column's least (greatest, reversed) non-null value with a positive
  // count as of `time`, from the trace through the batch just received.
  std::optional<Value> Extreme(int c, ValueType type, uint64_t time) {
    auto cursor = reader_.Cursor();
    Row start;
    start.AppendInt64(c);
    for (cursor.SeekKey(start);
         cursor.KeyValid() && cursor.Key()[0].as_int64() == c;
         cursor.StepKey()) {
      const Row& key = cursor.Key();
      if (key[1].is_null()) continue;
      int64_t count = 0;
      cursor.MapKeyUpdates(
          [&](const Unit&, const uint64_t& t, const int64_t& r) {
            if (t <= time) count += r;
          });
      if (count > 0) {
        // MapKeyUpdates stepped past the value: read the key again.
        Row again = cursor.Key();
        return reversed_ ? FromReversed(again[1], type) : Value(again[1]);
      }
    }
    return std::nullopt;
  }

  // The metric rows of column c in this direction.
  std::vector<Row> Metrics(int c, const ColumnState& s) const {
    std::vector<Row> rows;
    const std::string& name = schema_.fields()[c].name;
    if (reversed_) {
      if (s.extreme) rows.push_back(ValueMetricRow(name, "max", *s.extreme));
      return rows;
    }
    if (s.rows == 0) return rows;
    if (c == 0) {
      rows.push_back(MetricRow("", "rows", s.rows));
      rows.push_back(MetricRow("", "rows_change", s.rows_change));
    }
    rows.push_back(MetricRow(name, "nulls", s.nulls));
    rows.push_back(MetricRow(name, "distinct", s.distinct));
    if (s.extreme) rows.push_back(ValueMetricRow(name, "min", *s.extreme));
    if (s.numbers > 0 && (s.nans > 0 || s.positive_infinities > 0 ||
                          s.negative_infinities > 0)) {
      // As IEEE arithmetic has it: NaN with a NaN or with both infinities,
      // otherwise the infinity; the deviation is NaN.
      const double inf = std::numeric_limits<double>::infinity();
      const double total =
          s.nans > 0 || (s.positive_infinities > 0 && s.negative_infinities > 0)
              ? std::numeric_limits<double>::quiet_NaN()
              : (s.positive_infinities > 0 ? inf : -inf);
      rows.push_back(MetricRow(name, "sum", total));
      rows.push_back(MetricRow(name, "mean", total));
      if (s.numbers > 1) {
        rows.push_back(MetricRow(name, "stddev",
                                 std::numeric_limits<double>::quiet_NaN()));
      }
    } else if (s.numbers > 0) {
      const double n = static_cast<double>(s.numbers);
      rows.push_back(MetricRow(name, "sum", s.sum.value()));
      const DoubleDouble mean = s.sum / n;
      rows.push_back(MetricRow(name, "mean", mean.value()));
      if (s.numbers > 1) {
        // (sum of squares - sum * mean) / (n - 1), in double-double.
        const double variance = ((s.squares - s.sum * mean) / (n - 1)).value();
        rows.push_back(
            MetricRow(name, "stddev", std::sqrt(std::max(0.0, variance))));
      }
    }
    for (const auto& [q, metric] : kQuantiles) {
      if (std::optional<double> v = s.histogram.Quantile(q)) {
        rows.push_back(MetricRow(name, metric, *v));
      }
    }
    return rows;
  }

  static constexpr std::pair<double, const char*> kQuantiles[] = {
      {0.5, "p50"}, {0.9, "p90"}, {0.99, "p99"}};

  TraceReader<Row, Unit, uint64_t, int64_t> reader_;
  Schema schema_;
  bool reversed_;
  std::map<int, ColumnState> columns_;
};

// Every row as its (column, value) keys, counted per time within each
// message: a column holds far fewer distinct values than rows, so the
// arrangements sort the distinct keys, not every cell.
RowCollection Keys(const RowCollection& rows) {
  return internal::Unary<Row, int64_t>(
      rows, "profile.keys",
      [](std::vector<Update<Row, uint64_t, int64_t>>&& in,
         std::vector<Update<Row, uint64_t, int64_t>>* out) {
        absl::flat_hash_map<std::pair<uint64_t, Row>, int64_t> counts;
        for (const auto& u : in) {
          int64_t c = 0;
          for (Datum d : u.data) {
            Row key;
            key.AppendInt64(c++);
            key.push_back(d);
            counts[{u.time, std::move(key)}] += u.diff;
          }
        }
        out->reserve(counts.size());
        for (auto& [at, diff] : counts) {
          if (diff != 0) out->push_back({std::move(at.second), at.first, diff});
        }
      });
}

// The same keys with their values reversed (governance/value_order.h).
RowCollection Reversed(const RowCollection& keys) {
  return internal::Unary<Row, int64_t>(
      keys, "profile.reversed_keys",
      [](std::vector<Update<Row, uint64_t, int64_t>>&& in,
         std::vector<Update<Row, uint64_t, int64_t>>* out) {
        out->reserve(in.size());
        for (const auto& u : in) {
          Row key;
          key.push_back(u.data[0]);
          AppendReversed(u.data[1], &key);
          out->push_back({std::move(key), u.time, u.diff});
        }
      });
}

RowCollection Metrics(const RowCollection& keys, const Schema& schema,
                      bool reversed) {
  // Every value of a column on one worker: the key's first value routes.
  KeyArrangement arranged = ArrangeBySelfRouted(
      keys, reversed ? "profile.reversed" : "profile.values",
      [](const Row& key) { return StableHash(key[0].as_int64()); });
  Graph* graph = keys.graph();
  auto* op = graph->AddOperator<ProfileOperator>(
      reversed ? "profile.max" : "profile.metrics", arranged, schema, reversed);
  return RowCollection{{graph, &op->out}};
}

}  // namespace

const Schema& MetricsSchema() {
  static const Schema* schema = new Schema({
      {"column", ValueType::kString, /*nullable=*/false},
      {"metric", ValueType::kString, /*nullable=*/false},
      {"value", ValueType::kDouble},
      {"text", ValueType::kString},
  });
  return *schema;
}

Row MetricRow(absl::string_view column, absl::string_view metric,
              double value) {
  Row row;
  row.AppendString(column);
  row.AppendString(metric);
  row.AppendDouble(value);
  row.AppendNull();
  return row;
}

Row ValueMetricRow(absl::string_view column, absl::string_view metric,
                   const Value& value) {
  Row row;
  row.AppendString(column);
  row.AppendString(metric);
  const Row held{value};
  const Datum d = held[0];
  switch (d.type()) {
    case ValueType::kInt64:
      row.AppendDouble(static_cast<double>(d.as_int64()));
      break;
    case ValueType::kDouble:
      row.AppendDouble(d.as_double());
      break;
    case ValueType::kBool:
      row.AppendDouble(d.as_bool() ? 1 : 0);
      break;
    case ValueType::kTimestamp:
      row.AppendDouble(static_cast<double>(d.as_timestamp().micros));
      break;
    default:
      row.AppendNull();
  }
  if (d.is_null()) {
    row.AppendNull();
  } else {
    row.AppendString(ValueText(d));
  }
  return row;
}

absl::StatusOr<Table> Profile(const Table& product) {
  if (product.rows().graph() == nullptr) {
    return absl::InvalidArgumentError("Profile: an empty Table");
  }
  if (product.rows().graph()->sealed()) {
    return absl::FailedPreconditionError(
        "Profile: the dataflow has already run; profile a product before "
        "the mesh's first Advance, or Mesh::Use(id) after it");
  }
  const RowCollection keys = Keys(product.rows());
  RowCollection metrics =
      Concat(Metrics(keys, product.schema(), false),
             Metrics(Reversed(keys), product.schema(), true));
  return Table::Computed(product, metrics, MetricsSchema(),
                         TransformKind::kAggregate);
}

}  // namespace diffmesh
