// Blocking checks: a product's rows held back at the times one of its
// blocking checks fails, so that readers of the product, and products built
// on it, see only versions that passed.
//
//   DM_ASSIGN_OR_RETURN(Table verdicts, Checks(orders_raw, attached));
//   DM_ASSIGN_OR_RETURN(Table orders, HoldWhileFailing(orders_raw, verdicts));
//   mesh->Publish(orders, {.id = "sales.orders", ...});
//   mesh->Publish(verdicts, {.id = "sales.orders_checks", ...});
//
// At every time t the result holds the product's rows as of the latest
// time t' <= t at which no blocking verdict failed (none before the first
// such time). While a check fails, the product's changes wait; at the time
// every blocking check passes again they come out at once, as one change
// from the last version that passed to the current one. Verdicts are rows
// of VerdictSchema() (governance/checks.h); a verdict blocks when its
// severity is one of `blocking` (error, by default) and it did not pass.
//
// A product built on the held table never sees a version that failed; one
// built on the table before the hold sees every version (the choice is the
// builder's). The verdicts themselves are computed on the rows before the
// hold, so a fix shows up in them and opens the hold at the same time.
//
// Costs: a change that passes goes straight through; held changes are
// kept (one copy) until they are released. Every worker learns every
// blocking verdict (there are few), and holds its own share of the rows.
// Thread-safety: like Table (the dataflow's worker thread).
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "catalog/table.h"

namespace diffmesh {

// `product`'s rows, held while a blocking verdict of `verdicts` fails;
// same schema and lineage as `product`. InvalidArgument if `verdicts` has
// no string `severity` and bool `passed` column, FailedPrecondition if the
// two are of different dataflows or the dataflow has run.
absl::StatusOr<Table> HoldWhileFailing(const Table& product,
                                       const Table& verdicts,
                                       std::vector<std::string> blocking = {
                                           "error"});

}  // namespace diffmesh
