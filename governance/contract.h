// Data contracts: the Bitol Open Data Contract Standard (ODCS) v3.0.x-v3.1.0
// read from YAML, strictly, into checks the engine can keep.
//
//   DM_ASSIGN_OR_RETURN(DataContract contract,
//                       ParseContract(yaml_text, "orders.odcs.yaml"));
//   for (const QualityRule& r : contract.rules) ... r.id, r.metric, r.op ...
//
// What is read and enforced:
//   apiVersion (v3.0.0 to v3.1.0), kind (DataContract), id, version,
//   status, domain, name; schema[] objects (name, properties[], quality[]);
//   a property's name, logicalType (string, date, timestamp, time, number,
//   integer, object, array, boolean), required, unique, primaryKey,
//   primaryKeyPosition, classification, tags, criticalDataElement and
//   quality[]; slaProperties[] (property latency or freshness with value,
//   unit and element; retention); roles[] (role, access).
//   Library rules (type library, or any rule with a metric): nullValues,
//   missingValues (arguments.missingValues), invalidValues
//   (arguments.validValues and/or arguments.pattern, RE2 syntax, matched
//   anywhere in the value unless anchored), duplicateValues (at schema
//   level over arguments.properties), rowCount (schema level). Exactly one
//   operator per rule: mustBe, mustNotBe, mustBeGreaterThan,
//   mustBeGreaterOrEqualTo, mustBeLessThan, mustBeLessOrEqualTo,
//   mustBeBetween, mustNotBeBetween; between is inclusive of both bounds
//   (as datacontract-cli has it; the standard's text does not say).
//   unit: rows (the default) or percent (of the rows). A property's
//   required: true is the rule nullValues mustBe 0, unique: true
//   duplicateValues mustBe 0, primaryKey: true both.
//   severity: any text; "error" (the default) is the one that blocks.
// What is read and kept but not enforced: description, tags, servers,
//   support, price, team, customProperties, authoritativeDefinitions and
//   the like (any content); text rules (listed, as documentation).
// Refused, with the YAML path and line (`schema[0].properties[2].quality[0]
//   (line 14): unknown key 'mustbe' (did you mean 'mustBe'?)`): an unknown
//   key where the standard lists the keys, a value of the wrong type, a
//   rule with no operator or two, an unknown metric or unit, a bad pattern,
//   a schema-level metric on a property and the reverse, an sql or custom
//   rule (unless ContractOptions::allow_unenforced: then it is listed as
//   not enforced, never dropped silently), YAML that does not parse.
// Thread-safety: pure functions; the types are values.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace diffmesh {

enum class RuleMetric {
  kNullValues,
  kMissingValues,
  kInvalidValues,
  kDuplicateValues,
  kRowCount,
};
const char* RuleMetricName(RuleMetric metric);  // "nullValues", ...

enum class RuleOperator {
  kMustBe,
  kMustNotBe,
  kMustBeGreaterThan,
  kMustBeGreaterOrEqualTo,
  kMustBeLessThan,
  kMustBeLessOrEqualTo,
  kMustBeBetween,
  kMustNotBeBetween,
};
const char* RuleOperatorName(RuleOperator op);  // "mustBe", ...

// A contract's value: a YAML scalar as written (missingValues may hold
// null).
struct ContractValue {
  bool is_null = false;
  std::string text;
  friend bool operator==(const ContractValue&, const ContractValue&) = default;
};

struct QualityRule {
  // `id` as written, or <object>[.<property>].<metric> (with #n after it
  // when that is taken).
  std::string id;
  std::string name;
  std::string description;
  std::string object;    // the schema object's name
  std::string property;  // empty at schema level
  // "library", "required", "unique", "primaryKey" (enforced), or "text",
  // "sql", "custom" (not enforced).
  std::string kind = "library";
  bool enforced = true;
  RuleMetric metric = RuleMetric::kRowCount;
  RuleOperator op = RuleOperator::kMustBe;
  double bound = 0;        // the operator's value (the lower for between)
  double upper_bound = 0;  // between's upper
  bool percent = false;    // unit: percent of the rows
  std::vector<ContractValue> missing_values;
  std::vector<ContractValue> valid_values;
  std::optional<std::string> pattern;
  std::vector<std::string> properties;  // duplicateValues at schema level
  std::string severity = "error";
  std::string dimension;
  std::string where;  // its YAML path and line

  // Whether `observed` (in the rule's unit) passes.
  bool Passes(double observed) const;
  // The expectation as text: "= 0", "< 5 %", "between 100 and 120".
  std::string Expected() const;
};

struct ContractProperty {
  std::string name;
  std::string logical_type;  // empty when not given
  bool required = false;
  bool unique = false;
  bool primary_key = false;
  int primary_key_position = -1;
  std::string classification;
  std::vector<std::string> tags;
  bool critical_data_element = false;
  std::string where;
};

struct ContractObject {
  std::string name;
  std::vector<ContractProperty> properties;
  std::string where;
};

struct SlaProperty {
  std::string property;  // "latency" (or "freshness"), "retention", ...
  std::string value;
  std::string unit;
  std::string element;  // object.property it applies to, when given
  std::string where;
};

struct ContractRole {
  std::string role;
  std::string access;
};

struct DataContract {
  std::string api_version;
  std::string id;
  std::string version;
  std::string status;
  std::string domain;
  std::string name;
  std::vector<ContractObject> objects;
  std::vector<QualityRule> rules;  // every rule, enforced or not, in order
  std::vector<SlaProperty> sla;
  std::vector<ContractRole> roles;
};

struct ContractOptions {
  // Lists sql and custom rules as not enforced instead of refusing them.
  bool allow_unenforced = false;
};

// InvalidArgument naming `source`, the YAML path and line for anything
// the banner refuses.
absl::StatusOr<DataContract> ParseContract(absl::string_view yaml,
                                           absl::string_view source,
                                           ContractOptions options = {});

}  // namespace diffmesh
