#include "governance/checks.h"

#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "catalog/csv_writer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
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
        return verdicts->rows();
      },
      [&](const Multiset<Row>& rows, const Multiset<Row>&) {
        return FromScratch(rows, contract);
      },
      GenRow, GenRow, options);
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
