// CSV out of rows: the inverse of the reader in catalog/csv.h, so that what
// is written reads back as the same rows (an export of a product, and the
// round-trip property the reader is tested with).
//
//   std::string text = WriteCsv(schema, rows);
//   // "id,name\n1,ada\n2,\"b, c\"\n"
//
// The header names the schema's fields. Fields: null is empty; booleans
// true/false; integers in decimal; doubles in the shortest form that reads
// back to the same double, with ".0" when it would read as an integer (so
// a double column is inferred as double again), inf and -inf; timestamps
// YYYY-MM-DDTHH:MM:SS[.ffffff]Z (UTC); strings as they are, in double
// quotes (quotes doubled) when they hold a comma, a quote, CR or LF. Lines
// end with LF.
// What CSV cannot say does not read back: an empty string reads as null,
// NaN does not read, and timestamps outside years 0000-9999 do not either.
// Every row of a file the reader took is none of these.
// Thread-safety: functions of their arguments only; call them from any thread.
#pragma once

#include <string>
#include <vector>

#include "catalog/row.h"
#include "catalog/schema.h"

namespace diffmesh {

// REQUIRES: every row has one value per field of `schema`.
std::string WriteCsv(const Schema& schema, const std::vector<Row>& rows);

// A value's text as a field holds it, before any quoting ("" for null):
// also what contracts compare values by and metrics show them as.
std::string ValueText(Datum d);
// The same, appended to `out`.
void AppendValueText(Datum d, std::string* out);

}  // namespace diffmesh
