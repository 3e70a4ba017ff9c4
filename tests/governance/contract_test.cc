#include "governance/contract.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace diffmesh {
namespace {

using ::testing::HasSubstr;

// In the shape of the standard's own examples: fundamentals, a table with
// properties and property- and schema-level rules, SLA, roles and parts
// that are kept but not enforced.
constexpr char kOrders[] = R"(apiVersion: v3.1.0
kind: DataContract
id: 53581432-6c55-4ba2-a65f-72344a91553a
name: orders
version: 1.1.0
status: active
domain: sales
description:
  purpose: Orders as the shop exports them.
team:
  name: sales-data
  members:
    - username: ada
      role: owner
schema:
  - name: orders
    physicalName: orders_v1
    logicalType: object
    properties:
      - name: order_id
        logicalType: integer
        primaryKey: true
        primaryKeyPosition: 1
      - name: email
        logicalType: string
        classification: restricted
        tags: [pii]
        quality:
          - metric: missingValues
            arguments:
              missingValues: [null, '', 'N/A']
            mustBeLessThan: 5
            unit: percent
      - name: unit
        logicalType: string
        quality:
          - type: library
            metric: invalidValues
            arguments:
              validValues: ['pounds', 'kg']
            mustBeLessThan: 5
            severity: warning
            dimension: conformity
          - metric: invalidValues
            id: unit_code
            arguments:
              pattern: '^[a-z]+$'
            mustBe: 0
      - name: amount
        logicalType: number
        required: true
        quality:
          - type: text
            description: Amounts are in the unit of the line.
    quality:
      - metric: rowCount
        mustBeBetween: [100, 120]
      - metric: duplicateValues
        mustBe: 0
        arguments:
          properties: [order_id, email]
slaProperties:
  - property: latency
    value: 4
    unit: d
    element: orders.order_id
  - property: retention
    value: 3
    unit: y
roles:
  - role: analyst
    access: read
)";

TEST(ContractTest, ReadsTheStandardsShape) {
  absl::StatusOr<DataContract> c = ParseContract(kOrders, "orders.yaml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->api_version, "v3.1.0");
  EXPECT_EQ(c->version, "1.1.0");
  EXPECT_EQ(c->domain, "sales");
  ASSERT_EQ(c->objects.size(), 1u);
  ASSERT_EQ(c->objects[0].properties.size(), 4u);
  const ContractProperty& email = c->objects[0].properties[1];
  EXPECT_EQ(email.classification, "restricted");
  EXPECT_EQ(email.tags, std::vector<std::string>{"pii"});
  EXPECT_TRUE(c->objects[0].properties[0].primary_key);
  ASSERT_EQ(c->sla.size(), 2u);
  EXPECT_EQ(c->sla[0].element, "orders.order_id");
  ASSERT_EQ(c->roles.size(), 1u);
  EXPECT_EQ(c->roles[0].access, "read");

  // Every rule, in order, with generated ids where none was given.
  std::vector<std::string> ids;
  for (const QualityRule& r : c->rules) ids.push_back(r.id);
  EXPECT_EQ(ids,
            (std::vector<std::string>{
                "orders.order_id.required", "orders.order_id.unique",
                "orders.email.missingValues", "orders.unit.invalidValues",
                "unit_code", "orders.amount.required", "orders.amount.text",
                "orders.rowCount", "orders.duplicateValues"}));
  const QualityRule& missing = c->rules[2];
  EXPECT_EQ(missing.metric, RuleMetric::kMissingValues);
  EXPECT_TRUE(missing.percent);
  ASSERT_EQ(missing.missing_values.size(), 3u);
  EXPECT_TRUE(missing.missing_values[0].is_null);
  EXPECT_EQ(missing.missing_values[2].text, "N/A");
  EXPECT_EQ(c->rules[3].severity, "warning");
  EXPECT_EQ(c->rules[3].dimension, "conformity");
  EXPECT_EQ(*c->rules[4].pattern, "^[a-z]+$");
  EXPECT_FALSE(c->rules[6].enforced);
  EXPECT_EQ(c->rules[6].kind, "text");
  EXPECT_EQ(c->rules[7].op, RuleOperator::kMustBeBetween);
  EXPECT_EQ(c->rules[8].properties,
            (std::vector<std::string>{"order_id", "email"}));
  EXPECT_THAT(c->rules[4].where, HasSubstr("line 44"));
}

TEST(ContractTest, OperatorsPassAndFailAsWritten) {
  QualityRule r;
  auto check = [&](RuleOperator op, double bound, double observed) {
    r.op = op;
    r.bound = bound;
    r.upper_bound = 10;
    return r.Passes(observed);
  };
  EXPECT_TRUE(check(RuleOperator::kMustBe, 0, 0));
  EXPECT_FALSE(check(RuleOperator::kMustBe, 0, 1));
  EXPECT_TRUE(check(RuleOperator::kMustNotBe, 0, 1));
  EXPECT_FALSE(check(RuleOperator::kMustBeGreaterThan, 5, 5));
  EXPECT_TRUE(check(RuleOperator::kMustBeGreaterOrEqualTo, 5, 5));
  EXPECT_FALSE(check(RuleOperator::kMustBeLessThan, 5, 5));
  EXPECT_TRUE(check(RuleOperator::kMustBeLessOrEqualTo, 5, 5));
  // Between is inclusive at both ends.
  EXPECT_TRUE(check(RuleOperator::kMustBeBetween, 5, 5));
  EXPECT_TRUE(check(RuleOperator::kMustBeBetween, 5, 10));
  EXPECT_FALSE(check(RuleOperator::kMustBeBetween, 5, 10.5));
  EXPECT_FALSE(check(RuleOperator::kMustNotBeBetween, 5, 10));
  EXPECT_TRUE(check(RuleOperator::kMustNotBeBetween, 5, 4));
  r.op = RuleOperator::kMustBeBetween;
  r.bound = 100;
  r.upper_bound = 120;
  r.percent = true;
  EXPECT_EQ(r.Expected(), "between 100 and 120 %");
}

// A contract with `rule` spliced into the first property's quality list.
std::string WithRule(const std::string& rule) {
  return std::string(R"(apiVersion: v3.0.2
kind: DataContract
id: c1
version: 1.0.0
status: draft
schema:
  - name: t
    properties:
      - name: a
        quality:
)") + rule;
}

absl::Status Parse(const std::string& yaml, ContractOptions options = {}) {
  return ParseContract(yaml, "c.yaml", options).status();
}

TEST(ContractTest, EveryErrorNamesThePathAndTheLine) {
  struct Case {
    std::string yaml;
    std::string message;
  };
  const std::vector<Case> cases = {
      {WithRule("          - metric: nullValues\n            mustbe: 0\n"),
       "c.yaml: schema[0].properties[0].quality[0] (line 12): unknown key "
       "'mustbe' (did you mean 'mustBe'?)"},
      {WithRule("          - metric: nullValue\n            mustBe: 0\n"),
       "schema[0].properties[0].quality[0].metric (line 11): unknown metric "
       "'nullValue' (did you mean 'nullValues'?)"},
      {WithRule("          - metric: nullValues\n"),
       "a rule needs one operator"},
      {WithRule("          - metric: nullValues\n            mustBe: 0\n"
                "            mustBeLessThan: 3\n"),
       "exactly one operator"},
      {WithRule("          - metric: nullValues\n            mustBe: zero\n"),
       "quality[0].mustBe (line 12): expects a number"},
      {WithRule("          - metric: nullValues\n            mustBeBetween: "
                "[3]\n"),
       "expects two numbers"},
      {WithRule("          - metric: rowCount\n            mustBe: 1\n"),
       "rowCount is a schema-level metric"},
      {WithRule("          - metric: invalidValues\n            mustBe: 0\n"),
       "needs arguments.validValues or arguments.pattern"},
      {WithRule("          - metric: invalidValues\n            arguments:\n"
                "              pattern: '(['\n            mustBe: 0\n"),
       "arguments.pattern (line 13): bad pattern"},
      {WithRule("          - metric: nullValues\n            mustBe: 0\n"
                "            unit: rowz\n"),
       "unknown unit 'rowz'"},
      {WithRule("          - type: sql\n            query: SELECT 1\n"
                "            mustBe: 1\n"),
       "a sql rule cannot be enforced"},
      {WithRule("          - metric: nullValues\n            mustBe: 0\n"
                "            arguments:\n              patern: x\n"),
       "unknown key 'patern' (did you mean 'pattern'?)"},
      {"apiVersion: v2.2.0\nkind: DataContract\nid: x\nversion: 1\nstatus: "
       "a\n",
       "apiVersion (line 1): 'v2.2.0' is not supported"},
      {"apiVersion: v3.1.0\nkind: Contract\nid: x\nversion: 1\nstatus: a\n",
       "kind (line 2): must be DataContract"},
      {"apiVersion: v3.1.0\nkind: DataContract\nversion: 1\nstatus: a\n",
       "id (line 1): is required"},
      {"apiVersion: v3.1.0\nkind: DataContract\nid: x\nversion: 1\nstatus: "
       "a\nschemas: []\n",
       "unknown key 'schemas' (did you mean 'schema'?)"},
      {"apiVersion: v3.1.0\nkind: DataContract\nid: x\nversion: 1\nstatus: "
       "a\nschema:\n  - name: t\n    properties:\n      - name: a\n"
       "        logicalType: integr\n",
       "unknown logical type 'integr' (did you mean 'integer'?)"},
      {"apiVersion: v3.1.0\nkind: DataContract\nid: x\nversion: 1\nstatus: "
       "a\nschema:\n  - name: t\n    quality:\n      - metric: "
       "duplicateValues\n        mustBe: 0\n        arguments:\n"
       "          properties: [nope]\n",
       "'nope' is not a property of t"},
      {"apiVersion: [v3.1.0\n", "not YAML (line"},
      {"- just\n- a list\n", "the contract (line 1): expects a mapping"},
  };
  for (const Case& c : cases) {
    absl::Status s = Parse(c.yaml);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.yaml;
    EXPECT_THAT(std::string(s.message()), HasSubstr(c.message)) << c.yaml;
  }
}

TEST(ContractTest, UnenforcedRulesAreListedWhenAllowedNeverDropped) {
  const std::string yaml = WithRule(
      "          - type: custom\n            engine: soda\n"
      "            implementation: 'type: row_count'\n");
  EXPECT_EQ(Parse(yaml).code(), absl::StatusCode::kInvalidArgument);
  absl::StatusOr<DataContract> c =
      ParseContract(yaml, "c.yaml", {.allow_unenforced = true});
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->rules.size(), 1u);
  EXPECT_FALSE(c->rules[0].enforced);
  EXPECT_EQ(c->rules[0].kind, "custom");
}

}  // namespace
}  // namespace diffmesh
