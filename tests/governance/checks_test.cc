#include "governance/checks.h"

#include <map>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "catalog/csv_writer.h"
#include "engine/graph.h"
#include "engine/input.h"
#include "engine/probe.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "operators/inspect.h"
#include "operators/map.h"
#include "re2/re2.h"
#include "tests/operators/oracle.h"

namespace diffmesh {

// For the oracle's messages (found by argument-dependent lookup).
std::string Show(const Row& row) { return RowDebugString(row); }

namespace {

using ::testing::HasSubstr;
using testing::Multiset;

const Schema& ProductSchema() {
  static const Schema* schema = new Schema({{"k", ValueType::kInt64},
                                            {"s", ValueType::kString},
                                            {"x", ValueType::kDouble}});
  return *schema;
}

constexpr char kContract[] = R"(apiVersion: v3.1.0
kind: DataContract
id: checks-test
version: 1.0.0
status: active
schema:
  - name: p
    properties:
      - name: k
        logicalType: integer
        required: true
        quality:
          - metric: duplicateValues
            mustBeLessThan: 2
      - name: s
        logicalType: string
        quality:
          - metric: missingValues
            arguments:
              missingValues: [null, '', 'N/A']
            mustBeLessThan: 40
            unit: percent
          - metric: invalidValues
            arguments:
              validValues: [a, b, 'N/A']
            mustBe: 0
            severity: warning
          - metric: invalidValues
            id: starts_low
            arguments:
              pattern: '^[a-c]'
            mustBeLessOrEqualTo: 1
      - name: x
        logicalType: number
        quality:
          - metric: missingValues
            arguments:
              missingValues: [0, -1.5]
            mustNotBeBetween: [1, 2]
          - type: text
            description: documentation only
    quality:
      - metric: rowCount
        mustBeBetween: [2, 6]
      - metric: duplicateValues
        arguments:
          properties: [k, s]
        mustBe: 0
)";

AttachedContract TestContract() {
  absl::StatusOr<DataContract> c = ParseContract(kContract, "test.yaml");
  DM_CHECK_MSG(c.ok(), c.status().ToString().c_str());
  absl::StatusOr<AttachedContract> a = Attach(*c, ProductSchema());
  DM_CHECK_MSG(a.ok(), a.status().ToString().c_str());
  return *a;
}

Row GenRow(std::mt19937_64& rng) {
  Row row;
  if (rng() % 6 == 0) {
    row.AppendNull();
  } else {
    row.AppendInt64(static_cast<int64_t>(rng() % 5));
  }
  const char* strings[] = {"a", "b", "c", "N/A", "", "zz"};
  if (rng() % 6 == 0) {
    row.AppendNull();
  } else {
    row.AppendString(strings[rng() % 6]);
  }
  const double xs[] = {0, -1.5, 2.5, 7};
  row.AppendDouble(xs[rng() % 4]);
  return row;
}

// The verdicts computed directly from the rows.
Multiset<Row> FromScratch(const Multiset<Row>& rows,
                          const AttachedContract& contract) {
  int64_t total = 0;
  for (const auto& [row, n] : rows) total += n;
  Multiset<Row> out;
  const auto& rules = contract.contract.rules;
  for (size_t i = 0; i < rules.size(); ++i) {
    const QualityRule& r = rules[i];
    if (!r.enforced) continue;
    int64_t count = 0;
    if (r.metric == RuleMetric::kRowCount) {
      count = total;
    } else if (r.metric == RuleMetric::kDuplicateValues) {
      std::map<Row, int64_t> keys;
      for (const auto& [row, n] : rows) {
        Row key;
        bool null = false;
        for (int c : contract.key_columns[i]) {
          null = null || row[c].is_null();
          key.push_back(row[c]);
        }
        if (!null) keys[key] += n;
      }
      for (const auto& [key, n] : keys) count += n - 1;
    } else {
      const int c = contract.column[i];
      for (const auto& [row, n] : rows) {
        const Datum d = row[c];
        bool counts = false;
        if (r.metric == RuleMetric::kNullValues) {
          counts = d.is_null();
        } else if (r.metric == RuleMetric::kMissingValues) {
          for (const ContractValue& v : r.missing_values) {
            if (v.is_null ? d.is_null()
                          : (!d.is_null() &&
                             (ValueText(d) == v.text ||
                              (d.type() == ValueType::kDouble &&
                               d.as_double() == std::stod(v.text))))) {
              counts = true;
            }
          }
        } else if (!d.is_null()) {  // invalid
          bool valid = r.valid_values.empty();
          for (const ContractValue& v : r.valid_values) {
            valid = valid || (!v.is_null && ValueText(d) == v.text);
          }
          if (r.pattern && !RE2::PartialMatch(ValueText(d), *r.pattern)) {
            valid = false;
          }
          counts = !valid;
        }
        if (counts) count += n;
      }
    }
    double observed = static_cast<double>(count);
    if (r.percent) observed = total == 0 ? 0 : 100.0 * count / total;
    Row v;
    v.AppendString(r.id);
    if (r.property.empty()) {
      v.AppendNull();
    } else {
      v.AppendString(r.property);
    }
    v.AppendString(RuleMetricName(r.metric));
    v.AppendString(r.severity);
    v.AppendBool(r.Passes(observed));
    v.AppendDouble(observed);
    v.AppendString(r.Expected());
    out[v] += 1;
  }
  return out;
}

TEST(ChecksOracle, VerdictsAtEveryTimeMatchAFromScratchEvaluation) {
  const AttachedContract contract = TestContract();
  testing::OracleOptions options;
  options.rounds = 14;
  options.max_updates_per_round = 5;
  testing::CheckAgainstOracle<uint64_t, Row, Row, Row>(
      "checks",
      [&](const RowCollection& rows, const RowCollection&) {
        Table table = *Table::FromProduct("test.p", rows, ProductSchema());
        absl::StatusOr<Table> verdicts = Checks(table, contract);
        EXPECT_TRUE(verdicts.ok()) << verdicts.status();
        // `since` depends on history: ChecksTest.SinceIsWhenTheOutcomeBegan
        // checks it.
        return Map(verdicts->rows(), [](const Row& v) {
          Row out;
          for (int c = 0; c < 7; ++c) out.push_back(v[c]);
          return out;
        });
      },
      [&](const Multiset<Row>& rows, const Multiset<Row>&) {
        return FromScratch(rows, contract);
      },
      GenRow, GenRow, options);
}

TEST(ChecksTest, SinceIsWhenTheOutcomeBegan) {
  absl::StatusOr<DataContract> c = ParseContract(R"(apiVersion: v3.1.0
kind: DataContract
id: since
version: 1.0.0
status: active
schema:
  - name: p
    quality:
      - metric: rowCount
        mustBeLessThan: 3
)",
                                                 "since.yaml");
  ASSERT_TRUE(c.ok()) << c.status();
  AttachedContract contract = *Attach(*c, ProductSchema());
  Worker worker;
  Graph& graph = worker.NewDataflow("since");
  auto [input, rows] = NewInput<Row>(graph);
  Table table = *Table::FromProduct("test.p", rows, ProductSchema());
  std::map<Row, int64_t> verdicts;
  auto out =
      Inspect(Checks(table, contract)->rows(),
              [&](const Row& v, uint64_t, int64_t r) { verdicts[v] += r; });
  auto probe = ProbeFrontier(out.stream);
  // (passed, observed, since) of the one verdict after each time.
  auto step = [&](uint64_t t, int64_t add) {
    std::mt19937_64 rng(t);
    for (int64_t i = 0; i < add; ++i) input.UpdateAt(GenRow(rng), t, 1);
    input.AdvanceTo(t + 1);
    worker.StepWhile([&] { return probe.LessThan(t + 1); });
    std::vector<Row> live;
    for (const auto& [v, n] : verdicts) {
      if (n != 0) live.push_back(v);
    }
    EXPECT_EQ(live.size(), 1u);
    return std::tuple(live[0][4].as_bool(), live[0][5].as_double(),
                      live[0][7].as_int64());
  };
  EXPECT_EQ(step(0, 1), std::tuple(true, 1.0, int64_t{0}));
  EXPECT_EQ(step(1, 1), std::tuple(true, 2.0, int64_t{0}));   // still passes
  EXPECT_EQ(step(2, 1), std::tuple(false, 3.0, int64_t{2}));  // fails from 2
  EXPECT_EQ(step(3, 2), std::tuple(false, 5.0, int64_t{2}));  // still failing
  EXPECT_EQ(step(4, 0), std::tuple(false, 5.0, int64_t{2}));
}

TEST(ChecksTest, AttachRefusesWhatTheProductCannotHold) {
  absl::StatusOr<DataContract> c = ParseContract(kContract, "test.yaml");
  ASSERT_TRUE(c.ok());
  const Schema missing({{"k", ValueType::kInt64}, {"s", ValueType::kString}});
  absl::Status s = Attach(*c, missing).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("property 'x' is not a column of the product"));
  const Schema wrong({{"k", ValueType::kString},
                      {"s", ValueType::kString},
                      {"x", ValueType::kDouble}});
  s = Attach(*c, wrong).status();
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("property 'k' is integer but the column is string"));
  EXPECT_EQ(Attach(*c, ProductSchema(), "other").status().code(),
            absl::StatusCode::kNotFound);
  // The text rule is kept, not enforced: no verdict for it.
  const AttachedContract a = TestContract();
  int enforced = 0;
  for (const QualityRule& r : a.contract.rules) enforced += r.enforced;
  EXPECT_EQ(enforced, static_cast<int>(a.contract.rules.size()) - 1);
}

}  // namespace
}  // namespace diffmesh
