// CSV (RFC 4180) into rows: parsing, schema inference and conversion, with
// every bad record kept and explained instead of stopping or vanishing.
//
//   absl::StatusOr<CsvTable> table = ParseCsv(text, "orders.csv");
//   Schema schema = InferSchema(*table);           // or a declared schema
//   CsvRows rows = ToRows(*table, schema);
//   // rows.rows: (line, row) for every record that fits
//   // rows.quarantine: "orders.csv:7: field 'qty' expects int64, got 'x'"
//
// Format: the first record is the header; fields are separated by commas;
// a field in double quotes may hold commas, line breaks and doubled quotes
// (""); records end with LF or CRLF; a final line break is optional; empty
// lines are skipped. A record is numbered by the line it starts on.
//
// Inference rules (InferSchema), per column over its non-empty fields:
// int64 if every one parses as a decimal 64-bit integer; else double if
// every one parses as a decimal number (exponent and inf allowed, nan not);
// else bool if
// every one is true/false (any case); else timestamp if every one is
// YYYY-MM-DDTHH:MM:SS[.ffffff]Z, YYYY-MM-DD HH:MM:SS[.ffffff],
// YYYY/MM/DD HH:MM[:SS] or a date YYYY-MM-DD (midnight), without a zone
// meaning UTC; else string. A column with an empty
// field, or with no non-empty field at all, is nullable (all-empty columns
// are strings). Conversion (ToRows) uses the same parsers; an empty field
// is null.
// Thread-safety: functions of their arguments only, from any thread; the
// structs are value types.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "catalog/quarantine.h"
#include "catalog/row.h"
#include "catalog/schema.h"

namespace diffmesh {

struct CsvRecord {
  int line = 0;  // where the record starts, 1-based
  std::vector<std::string> fields;
};

struct CsvTable {
  std::string file;
  std::vector<std::string> header;
  std::vector<CsvRecord> records;
  // Records the parser could not take (a quote left open, a stray quote
  // inside an unquoted field, the wrong number of fields).
  std::vector<Quarantined> quarantine;
};

// InvalidArgument naming `file` for a missing or duplicate-named header;
// everything after the header is taken or quarantined.
absl::StatusOr<CsvTable> ParseCsv(absl::string_view text,
                                  absl::string_view file);

Schema InferSchema(const CsvTable& table);

// The header's column names alone (the first record), with ParseCsv's
// errors for a missing, unreadable or duplicate-named header; the rest of
// the text is not read.
absl::StatusOr<std::vector<std::string>> ParseCsvHeader(absl::string_view text,
                                                        absl::string_view file);

struct CsvRows {
  std::vector<std::pair<int, Row>> rows;  // (line, row)
  std::vector<Quarantined> quarantine;    // the parser's, then conversion's
};

// REQUIRES: schema has one field per header column, in order.
CsvRows ToRows(const CsvTable& table, const Schema& schema);

// The pieces ParseCsv and ToRows are made of, for readers that look at one
// record at a time (a watched file whose records mostly stay the same).
//
// A record's place in the text: the line it starts on and its raw text
// without the line end.
struct CsvSpan {
  int line = 0;
  absl::string_view text;
};
// The records of `text` as ParseCsv delimits them (empty lines skipped),
// without reading their fields; the header is the first.
std::vector<CsvSpan> SplitCsv(absl::string_view text);
// The fields of one record's text starting on `line`: "" or why the record
// cannot be read.
std::string ReadCsvRecord(absl::string_view record, int line,
                          std::vector<std::string>* fields);
// The line where a quote opened that the last record of `text` never
// closes (so that record runs to the end of the text), or 0.
int CsvRunawayQuoteLine(absl::string_view text);
// A record's fields as a row of `schema`: "" or why ToRows quarantines it.
std::string CsvFieldsToRow(const std::vector<std::string>& fields,
                           const Schema& schema, Row* row);
// Both, for a data record: "" and the row, or the reason ParseCsv and
// ToRows would quarantine the record with.
std::string CsvRecordToRow(absl::string_view record, int line,
                           const Schema& schema, Row* row);

// Why a record with `fields` fields does not fit a header of `header`.
std::string FieldCountError(size_t fields, size_t header);

// One field as a value of `type` ("" is null); InvalidArgument if it does
// not parse.
absl::StatusOr<Value> ParseField(absl::string_view text, ValueType type);

}  // namespace diffmesh
