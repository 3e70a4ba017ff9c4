// Values in reverse order: an arrangement sorts its keys ascending, so the
// largest value of a column is the first key of an arrangement of its
// reversed values. (A cursor walks forward only.)
//
//   Row key;  key.AppendInt64(column);  AppendReversed(value, &key);
//   ... the first non-null key of the column in that arrangement ...
//   Value max = FromReversed(key[1], ValueType::kDouble);
//
// Among the values of one type (a column's values), a < b exactly when
// reversed(a) > reversed(b): integers and timestamps as ~x (no overflow),
// booleans as 1 - b, doubles through their order-preserving integer
// (NaN sorts last as a value, so first reversed), strings byte by byte as
// 255 - byte with 0 written as FF 00 and the end as FF FF (so a prefix
// sorts after what extends it). A null stays null and sorts first.
// Thread-safety: pure functions.
#pragma once

#include "catalog/row.h"
#include "catalog/value.h"

namespace diffmesh {

void AppendReversed(Datum value, Row* row);
// The value `reversed` (written by AppendReversed) stands for, of `type`.
Value FromReversed(Datum reversed, ValueType type);

}  // namespace diffmesh
