// The checks' oracle: a contract's verdicts computed directly from a
// product's rows, and rows to check, for checks_test and
// mesh_governance_test.
#pragma once

#include <map>
#include <random>
#include <string>

#include "catalog/csv_writer.h"
#include "catalog/row.h"
#include "governance/checks.h"
#include "re2/re2.h"
#include "tests/operators/oracle.h"

namespace diffmesh {
namespace testing {

// The product the oracle's rows are of, and a contract with a rule of
// every metric.
inline const Schema& ProductSchema() {
  static const Schema* schema = new Schema({{"k", ValueType::kInt64},
                                            {"s", ValueType::kString},
                                            {"x", ValueType::kDouble}});
  return *schema;
}

inline constexpr char kContract[] = R"(apiVersion: v3.1.0
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

// A row of (k int64, s string, x double), nulls and awkward values
// included.
inline Row GenRow(std::mt19937_64& rng) {
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

// The verdicts computed directly from the rows, without `since`.
inline Multiset<Row> FromScratch(const Multiset<Row>& rows,
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

}  // namespace testing
}  // namespace diffmesh
