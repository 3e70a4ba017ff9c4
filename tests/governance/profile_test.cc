#include "governance/profile.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "catalog/mesh.h"
#include "engine/probe.h"
#include "governance/double_double.h"
#include "governance/log_histogram.h"
#include "governance/value_order.h"
#include "gtest/gtest.h"
#include "operators/filter.h"
#include "operators/inspect.h"
#include "operators/map.h"
#include "tests/operators/oracle.h"
#include "tests/temp_dir.h"

namespace diffmesh {

// For the oracle's messages (found by argument-dependent lookup).
std::string Show(const Row& row) { return RowDebugString(row); }

namespace {

using testing::Multiset;

TEST(DoubleDoubleTest, RetractingALargeValueLeavesTheSmallOnesExactly) {
  DoubleDouble sum;
  sum.AddProduct(1, 3.25);
  sum.AddProduct(1, 1e17);
  sum.AddProduct(1, 0.125);
  sum.AddProduct(-1, 1e17);
  EXPECT_EQ(sum.value(), 3.375);
  // Plain doubles lose the small values under the large one.
  double plain = 3.25;
  plain += 1e17;
  plain += 0.125;
  plain -= 1e17;
  EXPECT_NE(plain, 3.375);
}

TEST(DoubleDoubleTest, VarianceOfLargeValuesWithASmallSpreadKeepsItsDigits) {
  // Values around 1e9 with a spread of about 1: the textbook one-pass
  // formula in doubles cancels every digit; the double-double one agrees
  // with a careful two-pass computation.
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> spread(0, 1);
  std::vector<double> xs;
  DoubleDouble sum, squares;
  double naive_sum = 0, naive_squares = 0;
  for (int i = 0; i < 10000; ++i) {
    const double x = 1e9 + spread(rng);
    xs.push_back(x);
    sum.AddProduct(1, x);
    squares += DoubleDouble::Product(x, x);
    naive_sum += x;
    naive_squares += x * x;
  }
  // Retract a few, and put them back: the state must not drift.
  for (int i = 0; i < 100; ++i) {
    sum.AddProduct(-1, xs[i]);
    squares += -DoubleDouble::Product(xs[i], xs[i]);
  }
  for (int i = 0; i < 100; ++i) {
    sum.AddProduct(1, xs[i]);
    squares += DoubleDouble::Product(xs[i], xs[i]);
  }
  const double n = static_cast<double>(xs.size());
  long double mean = 0;
  for (double x : xs) mean += x;
  mean /= xs.size();
  long double m2 = 0;
  for (double x : xs) m2 += (x - mean) * (x - mean);
  const double two_pass = static_cast<double>(m2 / (xs.size() - 1));
  const DoubleDouble dd_mean = sum / n;
  const double dd = ((squares - sum * dd_mean) / (n - 1)).value();
  EXPECT_NEAR(dd, two_pass, 1e-9 * two_pass);
  EXPECT_NEAR(dd_mean.value(), static_cast<double>(mean), 1e-6);
  const double naive = (naive_squares - naive_sum * naive_sum / n) / (n - 1);
  EXPECT_GT(std::abs(naive - two_pass), 0.1 * two_pass);
}

TEST(LogHistogramTest, QuantilesAreWithinTheBoundOfTheExactRankValue) {
  // Values over twelve decades, both signs, with retractions.
  std::mt19937_64 rng(5);
  std::multiset<double> exact;
  LogHistogram h;
  std::vector<double> added;
  for (int i = 0; i < 20000; ++i) {
    double x =
        std::pow(10.0, std::uniform_real_distribution<double>(-6, 6)(rng));
    if (rng() % 5 == 0) x = -x;
    if (rng() % 50 == 0) x = 0;
    exact.insert(x);
    h.Add(x, +1);
    added.push_back(x);
  }
  for (int i = 0; i < 5000; ++i) {
    const double x = added[rng() % added.size()];
    if (auto it = exact.find(x); it != exact.end()) {
      exact.erase(it);
      h.Add(x, -1);
    }
  }
  ASSERT_EQ(h.count(), static_cast<int64_t>(exact.size()));
  const std::vector<double> sorted(exact.begin(), exact.end());
  for (double q : {0.0, 0.01, 0.25, 0.5, 0.9, 0.99, 1.0}) {
    const double want = sorted[static_cast<size_t>(
        std::floor(q * static_cast<double>(sorted.size() - 1)))];
    const double got = *h.Quantile(q);
    EXPECT_LE(std::abs(got - want),
              LogHistogram::kRelativeError * std::abs(want))
        << "q=" << q << " want " << want << " got " << got;
  }
  // A bucket stands for the mean of its values: exact for one value,
  // within the bound for several.
  LogHistogram few;
  few.Add(1.0, 2);
  few.Add(3.0, 1);
  EXPECT_EQ(*few.Quantile(0.5), 1.0);
  EXPECT_EQ(*few.Quantile(1.0), 3.0);
  few.Add(1.01, 2);  // the bucket of 1.0: [1, 1 + 1/64)
  EXPECT_DOUBLE_EQ(*few.Quantile(0.5), 1.005);
  few.Add(1.01, -2);
  EXPECT_EQ(*few.Quantile(0.5), 1.0);
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(LogHistogram::BoundsOf(LogHistogram::BucketOf(inf)),
            std::make_pair(inf, inf));
  few.Add(inf, 5);
  EXPECT_EQ(*few.Quantile(1.0), inf);
  EXPECT_FALSE(LogHistogram().Quantile(0.5).has_value());
}

TEST(ValueOrderTest, ReversedValuesSortInReverseAndComeBack) {
  std::mt19937_64 rng(11);
  const std::vector<ValueType> types = {
      ValueType::kBool, ValueType::kInt64, ValueType::kDouble,
      ValueType::kTimestamp, ValueType::kString};
  auto random_value = [&](ValueType type) -> Value {
    switch (type) {
      case ValueType::kBool:
        return Value(rng() % 2 == 0);
      case ValueType::kInt64: {
        const int64_t edges[] = {std::numeric_limits<int64_t>::min(),
                                 std::numeric_limits<int64_t>::max(), 0, -1, 1};
        if (rng() % 4 == 0) return Value(edges[rng() % 5]);
        return Value(static_cast<int64_t>(rng() % 2001) - 1000);
      }
      case ValueType::kDouble: {
        const double edges[] = {std::numeric_limits<double>::quiet_NaN(),
                                std::numeric_limits<double>::infinity(),
                                -std::numeric_limits<double>::infinity(),
                                0.0,
                                -0.0,
                                5e-324,
                                -5e-324};
        if (rng() % 4 == 0) return Value(edges[rng() % 7]);
        return Value((static_cast<double>(rng() % 20001) - 10000) / 8);
      }
      case ValueType::kTimestamp:
        return Value(
            TimestampMicros{static_cast<int64_t>(rng() % 5000) - 2500});
      default: {
        // Short strings over a tiny alphabet with NULs and 0xFF bytes, so
        // prefixes and equal bytes come up often.
        std::string s;
        const char alphabet[] = {'\0', 'a', 'b', '\xFF', '\xFE'};
        for (size_t i = rng() % 4; i > 0; --i) s += alphabet[rng() % 5];
        return Value(std::move(s));
      }
    }
  };
  for (ValueType type : types) {
    for (int i = 0; i < 3000; ++i) {
      const Value a = random_value(type), b = random_value(type);
      Row ra{a}, rb{b};
      Row reversed_a, reversed_b;
      AppendReversed(ra[0], &reversed_a);
      AppendReversed(rb[0], &reversed_b);
      ASSERT_EQ(ra <=> rb, reversed_b <=> reversed_a)
          << a.DebugString() << " vs " << b.DebugString();
      ASSERT_EQ(FromReversed(reversed_a[0], type), a) << a.DebugString();
    }
  }
  Row null_row{Value::Null()}, reversed;
  AppendReversed(null_row[0], &reversed);
  EXPECT_TRUE(reversed[0].is_null());
}

// ---- Oracle: the metrics at every time against a from-scratch profile.

const Schema& TestSchema() {
  static const Schema* schema = new Schema({{"k", ValueType::kInt64},
                                            {"x", ValueType::kDouble},
                                            {"s", ValueType::kString},
                                            {"t", ValueType::kTimestamp}});
  return *schema;
}

Row GenRow(std::mt19937_64& rng) {
  Row row;
  if (rng() % 5 == 0) {
    row.AppendNull();
  } else {
    row.AppendInt64(static_cast<int64_t>(rng() % 7) - 3);
  }
  switch (rng() % 8) {
    case 0:
      row.AppendNull();
      break;
    case 1:
      row.AppendDouble(1e9 + static_cast<double>(rng() % 4) / 4);
      break;
    case 2:
      // Rare non-finite values: sums must come back after they leave.
      row.AppendDouble(rng() % 3 == 0 ? std::numeric_limits<double>::infinity()
                                      : std::nan(""));
      break;
    default:
      row.AppendDouble(static_cast<double>(static_cast<int>(rng() % 17) - 8) /
                       4);
  }
  if (rng() % 4 == 0) {
    row.AppendNull();
  } else {
    row.AppendString(std::string(1 + rng() % 3, "abc"[rng() % 3]));
  }
  row.AppendTimestamp(TimestampMicros{static_cast<int64_t>(rng() % 5)});
  return row;
}

// Floating metrics compared to 9 significant digits (the seeds are fixed,
// so a value near a rounding boundary would fail every run, not some).
double Rounded(double v) {
  if (!std::isfinite(v) || v == 0) return v;
  char text[64];
  std::snprintf(text, sizeof text, "%.9g", v);
  return std::strtod(text, nullptr);
}

Row RoundMetric(const Row& metric) {
  const std::string name(metric[1].as_string());
  if (name != "sum" && name != "mean" && name != "stddev" && name != "p50" &&
      name != "p90" && name != "p99") {
    return metric;
  }
  return MetricRow(metric[0].as_string(), name, Rounded(metric[2].as_double()));
}

// The profile of `rows`, computed directly and in two passes.
Multiset<Row> FromScratch(const Multiset<Row>& rows) {
  Multiset<Row> out;
  int64_t total = 0;
  for (const auto& [row, n] : rows) total += n;
  if (total == 0) return out;
  out[MetricRow("", "rows", static_cast<double>(total))] += 1;
  const Schema& schema = TestSchema();
  for (size_t c = 0; c < schema.size(); ++c) {
    const std::string& name = schema.fields()[c].name;
    int64_t nulls = 0;
    std::map<Value, int64_t> values;
    for (const auto& [row, n] : rows) {
      if (row[c].is_null()) {
        nulls += n;
      } else {
        values[row[c].ToValue()] += n;
      }
    }
    out[MetricRow(name, "nulls", static_cast<double>(nulls))] += 1;
    out[MetricRow(name, "distinct", static_cast<double>(values.size()))] += 1;
    if (values.empty()) continue;
    out[ValueMetricRow(name, "min", values.begin()->first)] += 1;
    out[ValueMetricRow(name, "max", values.rbegin()->first)] += 1;
    const ValueType type = schema.fields()[c].type;
    if (type != ValueType::kInt64 && type != ValueType::kDouble) continue;
    long double sum = 0;
    int64_t n = 0;
    for (const auto& [v, count] : values) {
      const double x = type == ValueType::kInt64
                           ? static_cast<double>(v.as_int64())
                           : v.as_double();
      sum += static_cast<long double>(x) * count;
      n += count;
    }
    // Quantiles: the bucket value of the element at rank floor(q (n - 1))
    // of the non-NaN numbers.
    std::vector<double> sorted;
    for (const auto& [v, count] : values) {
      const double x = type == ValueType::kInt64
                           ? static_cast<double>(v.as_int64())
                           : v.as_double();
      if (std::isnan(x)) continue;
      for (int64_t i = 0; i < count; ++i) sorted.push_back(x);
    }
    std::sort(sorted.begin(), sorted.end());
    if (!sorted.empty()) {
      for (auto [q, metric] : {std::pair<double, const char*>{0.5, "p50"},
                               {0.9, "p90"},
                               {0.99, "p99"}}) {
        const double at = sorted[static_cast<size_t>(
            std::floor(q * static_cast<double>(sorted.size() - 1)))];
        // The mean of the values in its bucket.
        const int32_t bucket = LogHistogram::BucketOf(at);
        long double in_bucket = 0;
        int64_t n_bucket = 0;
        for (double x : sorted) {
          if (LogHistogram::BucketOf(x) != bucket) continue;
          in_bucket += x;
          ++n_bucket;
        }
        const double estimate =
            std::isinf(at) ? at : static_cast<double>(in_bucket / n_bucket);
        out[RoundMetric(MetricRow(name, metric, estimate))] += 1;
      }
    }
    const long double mean = sum / n;
    out[RoundMetric(MetricRow(name, "sum", static_cast<double>(sum)))] += 1;
    out[RoundMetric(MetricRow(name, "mean", static_cast<double>(mean)))] += 1;
    if (n > 1) {
      long double m2 = 0;
      for (const auto& [v, count] : values) {
        const double x = type == ValueType::kInt64
                             ? static_cast<double>(v.as_int64())
                             : v.as_double();
        m2 += (x - mean) * (x - mean) * count;
      }
      const double stddev = std::sqrt(static_cast<double>(m2 / (n - 1)));
      out[RoundMetric(MetricRow(name, "stddev", stddev))] += 1;
    }
  }
  return out;
}

TEST(ProfileOracle, MetricsAtEveryTimeMatchAFromScratchProfile) {
  testing::OracleOptions options;
  options.rounds = 14;
  options.max_updates_per_round = 8;
  testing::CheckAgainstOracle<uint64_t, Row, Row, Row>(
      "profile",
      [](const RowCollection& rows, const RowCollection&) {
        Table table = *Table::FromProduct("test.p", rows, TestSchema());
        absl::StatusOr<Table> metrics = Profile(table);
        EXPECT_TRUE(metrics.ok()) << metrics.status();
        // rows_change depends on history: RowsChangeIsTheLastMove checks it.
        auto current = Filter(metrics->rows(), [](const Row& r) {
          return r[1].as_string() != "rows_change";
        });
        return Map(current, [](const Row& r) { return RoundMetric(r); });
      },
      [](const Multiset<Row>& rows, const Multiset<Row>&) {
        return FromScratch(rows);
      },
      GenRow, GenRow, options);
}

TEST(ProfileTest, RowsChangeIsTheLastMove) {
  Worker worker;
  Graph& graph = worker.NewDataflow("profile");
  auto [input, rows] = NewInput<Row>(graph);
  Table table = *Table::FromProduct("test.p", rows, TestSchema());
  std::map<Row, int64_t> held;
  auto out = Inspect(Profile(table)->rows(),
                     [&](const Row& r, uint64_t, int64_t n) { held[r] += n; });
  auto probe = ProbeFrontier(out.stream);
  std::mt19937_64 rng(3);
  std::vector<Row> added;
  auto step = [&](uint64_t t, int add, int remove) {
    for (int i = 0; i < add; ++i) {
      added.push_back(GenRow(rng));
      input.UpdateAt(added.back(), t, 1);
    }
    for (int i = 0; i < remove; ++i) {
      input.UpdateAt(added.back(), t, -1);
      added.pop_back();
    }
    input.AdvanceTo(t + 1);
    worker.StepWhile([&] { return probe.LessThan(t + 1); });
    double change = 0;
    int found = 0;
    for (const auto& [r, n] : held) {
      if (n != 0 && r[1].as_string() == "rows_change") {
        change = r[2].as_double();
        ++found;
      }
    }
    EXPECT_EQ(found, 1);
    return change;
  };
  EXPECT_EQ(step(0, 5, 0), 5);
  EXPECT_EQ(step(1, 3, 0), 3);
  EXPECT_EQ(step(2, 0, 2), -2);
  EXPECT_EQ(step(3, 0, 0), -2);  // no change: the last move stays
}

TEST(ProfileTest, TheMetricsTableIsAnAggregateOfEveryColumn) {
  Worker worker;
  Graph& graph = worker.NewDataflow("profile");
  auto [input, rows] = NewInput<Row>(graph);
  Table table = *Table::FromProduct("test.p", rows, TestSchema());
  absl::StatusOr<Table> metrics = Profile(table);
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  EXPECT_EQ(metrics->schema(), MetricsSchema());
  EXPECT_EQ(metrics->UpstreamProducts(), std::vector<std::string>{"test.p"});
  for (const auto& sources : metrics->column_sources()) {
    ASSERT_EQ(sources.size(), TestSchema().size());
    for (const ColumnSource& s : sources) {
      EXPECT_EQ(s.kind, TransformKind::kAggregate);
    }
  }
  input.Close();
  worker.Step();
  // Once the dataflow has run, a profile is refused.
  EXPECT_EQ(Profile(table).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

// The metric rows of one column and metric, from a mesh read.
std::vector<Row> Pick(const std::vector<Row>& metrics,
                      const std::string& column, const std::string& metric) {
  std::vector<Row> out;
  for (const Row& r : metrics) {
    if (r[0].as_string() == column && r[1].as_string() == metric)
      out.push_back(r);
  }
  return out;
}

TEST(ProfileTest, MetricsArePublishedAddedWhileRunningAndFollowTheFile) {
  testing::TempDir dir;
  const std::string file = dir.Write("orders.csv",
                                     "id,region,amount\n"
                                     "1,north,10\n"
                                     "2,south,250\n"
                                     "3,north,300\n");
  Worker worker;
  std::unique_ptr<Mesh> mesh = *Mesh::Open(worker, {});
  ProductDescriptor orders;
  orders.id = "sales.orders";
  orders.owner = "sales";
  ASSERT_TRUE(mesh->Source(orders, {.path = file}).ok());
  ASSERT_TRUE(mesh->Advance().ok());
  // Added to the running mesh, on the product's current rows.
  Table used = *mesh->Use("sales.orders");
  absl::StatusOr<Table> metrics = Profile(used);
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  ProductDescriptor quality;
  quality.id = "sales.orders_quality";
  quality.owner = "quality";
  ASSERT_TRUE(mesh->Publish(*metrics, quality).ok());
  ASSERT_TRUE(mesh->Advance().ok());
  std::vector<Row> read = *mesh->Read("sales.orders_quality");
  EXPECT_EQ(Pick(read, "", "rows"), std::vector<Row>{MetricRow("", "rows", 3)});
  EXPECT_EQ(
      Pick(read, "amount", "max"),
      std::vector<Row>{ValueMetricRow("amount", "max", Value(int64_t{300}))});
  EXPECT_EQ(Pick(read, "region", "distinct"),
            std::vector<Row>{MetricRow("region", "distinct", 2)});
  EXPECT_EQ(Pick(read, "amount", "mean"),
            std::vector<Row>{MetricRow("amount", "mean", 560.0 / 3)});
  // The lineage: the metrics are an aggregate of the orders.
  EXPECT_EQ(mesh->Descriptor("sales.orders_quality")->upstream,
            std::vector<std::string>{"sales.orders"});

  // The largest order leaves: the maximum moves back to the next one.
  dir.Write("orders.csv",
            "id,region,amount\n"
            "1,north,10\n"
            "2,south,250\n");
  ASSERT_TRUE(mesh->Refresh().ok());
  read = *mesh->Read("sales.orders_quality");
  EXPECT_EQ(
      Pick(read, "amount", "max"),
      std::vector<Row>{ValueMetricRow("amount", "max", Value(int64_t{250}))});
  EXPECT_EQ(Pick(read, "", "rows"), std::vector<Row>{MetricRow("", "rows", 2)});
  EXPECT_EQ(Pick(read, "amount", "stddev"),
            std::vector<Row>{
                MetricRow("amount", "stddev", std::sqrt(2.0 * 120.0 * 120.0))});
}

}  // namespace
}  // namespace diffmesh
