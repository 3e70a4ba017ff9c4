// Checks: a data contract's rules over a product, as a collection of
// verdicts the engine keeps from the product's changes.
//
//   DM_ASSIGN_OR_RETURN(DataContract contract, ParseContract(yaml, path));
//   DM_ASSIGN_OR_RETURN(AttachedContract attached,
//                       Attach(contract, orders.schema()));
//   DM_ASSIGN_OR_RETURN(Table verdicts, Checks(orders, attached));
//   mesh->Publish(verdicts, {.id = "sales.orders_checks", ...});
//
// A verdict is a row of VerdictSchema(): (check, property, metric,
// severity, passed, observed, expected, since), one per enforced rule, at
// every time -- also while the product is empty (rowCount
// mustBeGreaterThan 0 fails then). A failing verdict is a live violation:
// it is retracted when the data is fixed. `observed` is in the rule's unit
// (rows, or percent of the rows; percent of no rows is 0); `since` is the
// engine time the rule began to pass or fail as it does now (a violation's
// start), which a change of `observed` alone does not move.
//
// What each metric counts (a row counted as often as it is present):
//   nullValues       rows whose property is null
//   missingValues    rows whose property is one of the missing values (null
//                    among them when the list holds null; others compared
//                    as text, and as numbers for numeric properties)
//   invalidValues    rows whose non-null property is not among the valid
//                    values, or does not match the pattern (RE2, anywhere
//                    in the value's text unless anchored)
//   duplicateValues  rows whose key (the property, or the schema-level
//                    properties) equals another row's: the sum over keys
//                    of (count - 1); a key with a null is not counted
//   rowCount         rows
// Costs: the counts are sums over rows (each change costs its rows; the
// duplicates a seek per changed key); the verdicts are recomputed from the
// counts (a few per rule) at the times they change.
// Thread-safety: like Table (the dataflow's worker thread).
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "catalog/schema.h"
#include "catalog/table.h"
#include "governance/contract.h"

namespace diffmesh {

// A contract's object matched to a product's columns.
struct AttachedContract {
  DataContract contract;
  std::string object;  // the schema object checked
  // For each of contract.rules: its property's column (-1 at schema level),
  // and the key columns of a duplicateValues rule.
  std::vector<int> column;
  std::vector<std::vector<int>> key_columns;
};

// Matches the contract's object `object` (empty: its only object) to
// `schema`: every property must be a column, and a property's logicalType
// must agree with the column's type (string: string; integer: int64;
// number: int64 or double; boolean: bool; date, timestamp: timestamp);
// time, object and array columns are not supported. FailedPrecondition
// naming the property and both types otherwise; NotFound for no such
// object.
absl::StatusOr<AttachedContract> Attach(const DataContract& contract,
                                        const Schema& schema,
                                        const std::string& object = "");

// (check string, property string nullable, metric string, severity string,
// passed bool, observed double, expected string, since int64).
const Schema& VerdictSchema();

// The verdicts of `contract`'s enforced rules over `product`, kept live.
// FailedPrecondition if the dataflow has run (as Profile).
absl::StatusOr<Table> Checks(const Table& product,
                             const AttachedContract& contract);

}  // namespace diffmesh
