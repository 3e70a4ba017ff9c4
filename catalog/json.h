// JSON (RFC 8259) and JSON Lines into rows: parsing, schema inference and
// conversion, with every bad record kept and explained instead of stopping
// or vanishing. A sibling of catalog/csv.h with the same shape.
//
//   auto table = ParseJson(text, "orders.jsonl", JsonFormat::kLines);
//   Schema schema = InferSchema(*table);     // or a declared schema
//   JsonRows rows = ToRows(*table, schema);  // (line, row)s + quarantine
//
// Formats. kArray: the whole text is one JSON array whose elements are the
// records; a record is numbered by its position (1-based) and located by the
// line its first character is on. kLines (JSON Lines): one object per
// non-blank line; a record is numbered and located by its line. Either may
// start with a UTF-8 byte order mark, which is skipped.
//
// A record is an object of scalars (null, true/false, numbers, strings).
// Strings take every JSON escape, \uXXXX with surrogate pairs included, and
// become UTF-8; input must be valid UTF-8. Error columns count characters
// (UTF-8 code points), 1-based.
//
// Errors. kArray: a syntax error anywhere (bad escape, lone surrogate, raw
// control character, a missing ',' ...) leaves no trustworthy way to find the
// next record, so it is an InvalidArgument "file:line:column: cause"; empty
// or whitespace-only text is one too ("expected a JSON array"). A well-formed
// element that is not an object, or an object with a nested object/array
// value, a duplicate field name or an empty one, is quarantined as
// "record N: ..." on its line (several records may share a line) and the
// rest is kept. kLines: every line stands alone, so a line with bad JSON
// ("column C: cause") or one of the problems above is quarantined and the
// other lines are kept; empty text is zero records.
//
// Inference rules (InferSchema), per column over its non-null values: int64
// if every one is a number written without fraction or exponent that fits
// 64 bits (1.0 says the producer meant a double); else double if every one
// is a number within double range; else bool if every one is true/false;
// else timestamp if every one is a string in one of the timestamp forms of
// catalog/csv.h (YYYY-MM-DDTHH:MM:SS[.ffffff]Z, YYYY-MM-DD HH:MM:SS[.ffffff],
// YYYY/MM/DD HH:MM[:SS], YYYY-MM-DD); else string (mixed kinds included:
// numbers and bools as written). A column is nullable if some record has null
// for it or lacks it, or if it has no non-null value (such columns are
// strings). Columns are the union of the kept records' field names, in
// first-seen order.
//
// Conversion (ToRows): kinds must match the field's type, since "12" and 12
// are different data: int64 takes integer numbers as above; double takes any
// number within range; bool takes true/false; timestamp takes strings in the
// format above; string takes strings and, to round-trip inferred mixed
// columns, numbers and bools as written. A missing field or null is null. A
// record with an unknown field, a value that does not fit, or a null in a
// non-nullable field is quarantined naming the field, e.g.
// "orders.jsonl:5: field 'qty' expects int64, got \"x\"". Every returned row
// passes schema.Validate.
//
// Speed. FileSource reads well-formed records through simdjson's On-Demand
// API (JsonObjectToRow, JsonArrayToRows below) and only what that quick
// path declines through ParseJson and ToRows, which give the same rows
// and every message above; json_fuzz checks that the two agree.
// Thread-safety: functions of their arguments only, from any thread; the
// structs are value types.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "catalog/quarantine.h"
#include "catalog/row.h"
#include "catalog/schema.h"

namespace diffmesh {

enum class JsonFormat {
  kArray,  // one JSON array of objects
  kLines,  // one JSON object per line (JSON Lines)
};

struct JsonScalar {
  enum Kind { kNull, kBool, kNumber, kString };
  Kind kind = kNull;
  // kNumber: the literal as written; kString: decoded to UTF-8; kBool:
  // "true" or "false"; kNull: "".
  std::string text;

  friend bool operator==(const JsonScalar&, const JsonScalar&) = default;
};

struct JsonRecord {
  int record = 0;  // 1-based; kLines: equals `line`
  int line = 0;    // where the record starts, 1-based
  // In the order written; names are unique within a record.
  std::vector<std::pair<std::string, JsonScalar>> fields;
};

struct JsonTable {
  std::string file;
  JsonFormat format = JsonFormat::kLines;
  // The union of the records' field names, in first-seen order.
  std::vector<std::string> columns;
  std::vector<JsonRecord> records;
  // Records the parser could not take (see the banner).
  std::vector<Quarantined> quarantine;
};

// InvalidArgument "file:line:column: cause" for a kArray text that is not
// one well-formed JSON array; every other problem is quarantined.
absl::StatusOr<JsonTable> ParseJson(absl::string_view text,
                                    absl::string_view file, JsonFormat format);

Schema InferSchema(const JsonTable& table);

struct JsonRows {
  std::vector<std::pair<int, Row>> rows;  // (line, row), in record order
  std::vector<Quarantined> quarantine;    // the parser's, then conversion's
};

// Fields are matched to the schema by name; any schema works.
JsonRows ToRows(const JsonTable& table, const Schema& schema);

// The quick path ToRows takes for well-formed input (simdjson On-Demand,
// catalog/json_simd.cc). JsonObjectToRow: one record's text, an object of
// scalars alone on its line; JsonArrayToRows: a whole array text, every
// record. Each returns true with the rows when every record is plainly
// good, the same rows ParseJson and ToRows give; false when anything is
// unusual or wrong (the general path then reads and explains the text).
bool JsonObjectToRow(absl::string_view text, const Schema& schema, Row* row);
bool JsonArrayToRows(absl::string_view text, const Schema& schema,
                     std::vector<Row>* rows);
// For inferring a schema from a sample of a large array: the length of the
// longest prefix of `text` that ends just after a record ending within
// `limit` bytes (the prefix plus "]" is an array of those records); 0 when
// there is none or the text does not start as an array of objects.
size_t JsonArraySamplePrefix(absl::string_view text, size_t limit);

}  // namespace diffmesh
