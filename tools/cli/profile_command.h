// `diffmesh profile`: a file's quality metrics, and how they move as later
// versions of the file arrive.
//
//   diffmesh profile flights.csv --then flights-v2.csv --then flights-v3.csv
//
// The file is read as a data product (catalog/source.h: CSV, JSON, JSON
// Lines by extension, types inferred, bad records quarantined) and its
// metrics are governance's Profile (governance/profile.h), kept by the
// engine. Each --then file is the next version of the same file: the
// profile's copy of the file becomes it (by appending the new bytes when
// it extends the previous version, so an append is read as one), the
// source finds the exact difference, and only the metrics it changed are
// printed.
//
// Output (--format json, the default): one JSON document per line and
// version,
//   {"version": 0, "file": F, "rows": N, "quarantined": Q, ["duplicates": D,]
//    "rows_change": C,
//    "columns": {NAME: {"type": T, "nulls": N, "distinct": D, "min": X,
//                       "max": X, "sum": X, "mean": X, "stddev": X,
//                       "p50": X, "p90": X, "p99": X}},
//    "checks": [{"id": S, "passed": B, "observed": X, "expected": S,
//                "severity": S, "since_version": V}]}
// with numeric fields only where they apply (ProfileColumns' rules); min
// and max are numbers for numeric columns, text otherwise (timestamps as
// ISO 8601); NaN and infinities, which JSON lacks, are the strings "NaN",
// "Infinity" and "-Infinity". A later version holds "version", "file" and
// only what changed: a field that no longer applies is null, and only the
// checks whose verdict or observation changed. With a contract, checks
// hold one entry per enforced rule (sorted by id) and, at version 0, the
// rules kept but not enforced as {"id", "kind", "enforced": false}; without
// one, checks is empty. since_version: the version from which the check
// has passed (or failed) without a break. --format
// table prints the same for a person. Progress (what is read, rows per
// second) goes to `progress`, never to `out`.
// Thread compatibility: one call at a time per stream.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace diffmesh {

struct ProfileArgs {
  std::string file;
  std::vector<std::string> then;  // later versions, in order
  std::string format = "json";    // or "table"
  // Key columns: "duplicates" counts the rows whose key another row also
  // holds, beyond the first (keys with a null are not counted).
  std::vector<std::string> keys;
  // An ODCS data contract (governance/contract.h) whose rules are checked
  // at every version; `object` names its schema object when it has
  // several.
  std::string contract;
  std::string object;
  bool allow_unenforced = false;  // list sql/custom rules, not refuse
};

struct ProfileOutcome {
  // Checks of severity "error" that fail at the last version.
  int failing_error_checks = 0;
};

// NotFound for a file that is missing, InvalidArgument for a bad format, a
// contract the reader refuses (its path and line) or
// a later version of another file type; the source's errors (naming the
// file and line) as they come.
absl::StatusOr<ProfileOutcome> RunProfile(const ProfileArgs& args,
                                          std::ostream& out,
                                          std::ostream& progress);

}  // namespace diffmesh
