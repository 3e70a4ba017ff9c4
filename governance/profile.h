// Profile: a product's quality metrics, per column, as a collection the
// engine maintains from the product's changes.
//
//   DM_ASSIGN_OR_RETURN(Table orders, mesh->Use("sales.orders"));
//   DM_ASSIGN_OR_RETURN(Table metrics, Profile(orders));
//   DM_RETURN_IF_ERROR(mesh->Publish(metrics, {.id = "sales.orders_quality",
//                                              ...}).status());
//   // after an Advance: mesh->Read("sales.orders_quality"), Subscribe(...)
//
// The metrics are rows of MetricsSchema(): (column, metric, value, text).
//   column ""   "rows"      the product's rows (each row counted as often
//                            as it is present)
//               "rows_change"  how the rows' count moved at the last time
//                            it moved (the volume change between the
//                            data versions on either side of it)
//   column c    "nulls"     rows whose c is null
//               "distinct"  distinct non-null values of c
//               "min"/"max" the least / greatest non-null value of c, in the
//                            order of values (catalog/value.h; NaN last);
//                            value: the number (a timestamp's microseconds,
//                            a boolean's 0 or 1; null for strings), text:
//                            the value's text form (as the CSV writer
//                            writes it)
//               "sum", "mean", "stddev"  of the non-null values of an
//                            int64 or double column; stddev is the sample
//                            standard deviation (divides by n - 1, as
//                            DuckDB's SUMMARIZE and stddev_samp do), only
//                            with two or more values
//               "p50", "p90", "p99"  approximate quantiles of the
//                            non-NaN numbers of an int64 or double column:
//                            the value at rank floor(q * (n - 1)), within
//                            1.6%, and exact where the values near it are
//                            one value (governance/log_histogram.h)
// A product with no rows has no metric rows; a metric that does not apply
// (min of a column with only nulls, stddev of one value) has no row.
//
// How it is maintained. Every row is split into (column, value) keys, kept
// in two arrangements routed by column (one worker holds all the values of
// a column): one sorted ascending, one with the values reversed
// (governance/value_order.h). For each batch of changes, a column's
// counts, null count and distinct count move by the changed keys alone (a
// key's count before the batch is one seek), sum and sum of squares are
// double-double sums (governance/double_double.h) that retractions undo,
// and the minimum and maximum are the first key with a positive count
// from the column's start in each arrangement: so they move back exactly
// when the extreme value is retracted. A change of k rows costs O(k log n)
// plus the keys a seek steps over that were retracted since the last
// merge, never a pass over the column.
// Thread-safety: like Table (the dataflow's worker thread).
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "catalog/row.h"
#include "catalog/schema.h"
#include "catalog/table.h"
#include "catalog/value.h"

namespace diffmesh {

// (column string, metric string, value double nullable, text string
// nullable).
const Schema& MetricsSchema();

// A metric row: a count or a number (text null).
Row MetricRow(absl::string_view column, absl::string_view metric, double value);
// A metric row of a column's value (min, max): its number, if it has one,
// and its text form.
Row ValueMetricRow(absl::string_view column, absl::string_view metric,
                   const Value& value);

// The metric rows of `product`, maintained incrementally; the table's
// lineage: every metric column is an aggregate of every product column.
// FailedPrecondition if `product`'s dataflow has already run (build on
// Mesh::Use after it).
absl::StatusOr<Table> Profile(const Table& product);

}  // namespace diffmesh
