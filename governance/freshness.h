// Freshness: a contract's latency (or freshness) SLA as a live check --
// how old the newest value of a timestamp column is, against a clock --
// and its retention SLA: how old the oldest value is.
//
//   DM_ASSIGN_OR_RETURN(std::vector<FreshnessRule> rules,
//                       FreshnessRules(contract, product.schema()));
//   DM_ASSIGN_OR_RETURN(Table verdicts, FreshnessChecks(product, rules, now));
//
// An slaProperties entry with property latency (the standard's name) or
// freshness (datacontract-cli's), a positive number value, a unit (s, sec,
// second(s), m, min, minute(s), h, hr, hour(s), d, day(s), w, week(s),
// mo, month(s) = 30 days, y, yr, year(s) = 365 days) and an element naming
// a timestamp column (property, or object.property of the attached object)
// becomes a rule: age = now - the column's newest value must be at most
// value x unit. An entry with property retention and an element is the
// same rule about the column's oldest value: rows older than the retention
// period should be gone. Without an element (or with the object's name
// alone), retention describes the data set: how long its data versions are
// kept (DataSetRetention; MeshGovernance hands it to Mesh::SetRetention).
// Entries for other objects are not this
// product's; other properties (frequency, ...) are not checked here.
//
// Verdicts are rows of VerdictSchema() (checks.h): check =
// "<object>.<column>.freshness" (or .retention), metric "freshness" (or
// "retention"), severity error, observed = the age in the SLA's unit,
// rounded to hundredths so that a verdict changes about every hundredth
// of the unit rather than at every Advance (pass or fail is decided on the
// exact age; +inf while the column has no value, failing; a retention
// rule passes then, observed 0), expected "<= value unit", since =
// when the outcome began. They change when the newest (oldest) value or
// the clock moves: those are a Profile's maximum and minimum (O(k log n)
// per change of k rows; the minimum moves back exactly when the oldest row
// leaves), the clock one value.
// Thread-safety: like Table (the dataflow's worker thread).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "catalog/schema.h"
#include "catalog/table.h"
#include "engine/collection.h"
#include "governance/checks.h"

namespace diffmesh {

struct FreshnessRule {
  std::string id;
  std::string column;
  bool oldest = false;  // retention: about the column's oldest value
  int64_t max_age_micros = 0;
  double unit_micros = 1e6;  // observed ages are given in this unit
  std::string expected;      // "<= 4 d"
};

// How long the attached object's data versions are kept: its shortest
// data-set retention entry, none without one. InvalidArgument naming the
// entry's YAML path for a value that is not a positive number or an
// unknown unit.
absl::StatusOr<std::optional<absl::Duration>> DataSetRetention(
    const AttachedContract& attached);

// The attached object's freshness rules. InvalidArgument naming the
// entry's YAML path for a value that is not a positive number, an unknown
// unit or a missing element; FailedPrecondition for an element that is not
// a timestamp column of `schema`.
absl::StatusOr<std::vector<FreshnessRule>> FreshnessRules(
    const AttachedContract& contract, const Schema& schema);

// Verdicts of `rules` over `product` against `now` (microseconds since
// the epoch; the collection holds one value at every time). Present from
// time 0. FailedPrecondition if the dataflow has run.
absl::StatusOr<Table> FreshnessChecks(const Table& product,
                                      const std::vector<FreshnessRule>& rules,
                                      const Collection<int64_t>& now);

}  // namespace diffmesh
