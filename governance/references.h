// MissingReferences: the rows of one product whose foreign key matches no
// row of another -- a referential check, kept live from both sides.
//
//   DM_ASSIGN_OR_RETURN(Table missing, MissingReferences(
//       orders, {"customer_id"}, customers, {"id"}));
//   // one row of MetricsSchema(): ("customer_id", "missing_references", N)
//
// A row counts when every column of its key is non-null and no row of
// `parent` holds the same values in `key` (a key with a null refers to
// nothing, as in SQL). The count is an antijoin: a change on either side
// costs its rows (a seek each), never a pass over a product. The row
// exists from the start, with 0 while nothing is missing. Lineage: every
// column of `child` (aggregate), and `parent`'s key columns (join key).
// Thread-safety: like Table (the dataflow's worker thread).
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "catalog/table.h"

namespace diffmesh {

// InvalidArgument for unknown columns, keys of different lengths or types;
// FailedPrecondition when the tables are not of one dataflow that has not
// run yet.
absl::StatusOr<Table> MissingReferences(
    const Table& child, const std::vector<std::string>& key,
    const Table& parent, const std::vector<std::string>& parent_key);

}  // namespace diffmesh
