// JSON Lines out of rows: the inverse of the reader in catalog/json.h, so
// that what is written reads back as the same rows.
//
//   std::string text = WriteJsonLines(schema, rows);
//   // {"id":1,"name":"ada"}\n{"id":2,"name":null}\n
//
// One object per row, fields in the schema's order. null, true/false,
// integers in decimal, doubles in FormatDouble's form (catalog/value.h),
// strings escaped (quote, backslash and control characters; other UTF-8
// as it is), timestamps as strings in FormatTimestamp's form.
// What JSON cannot say does not read back: an infinite or NaN double is
// written as null. Every row of a file the reader took is neither.
// Thread-safety: functions of their arguments only; call them from any thread.
#pragma once

#include <string>
#include <vector>

#include "catalog/row.h"
#include "catalog/schema.h"

namespace diffmesh {

// REQUIRES: every row has one value per field of `schema`.
std::string WriteJsonLines(const Schema& schema, const std::vector<Row>& rows);

}  // namespace diffmesh
