// Fuzzes the JSON and JSON Lines reader (catalog/json.h) with any bytes;
// the first byte picks the format. Besides not crashing, it asserts on
// every input:
// - a text ParseJson refuses is an InvalidArgument naming the file;
// - every record is either a row or a quarantine entry, none lost, with the
//   schema inferred from the same text and with a schema of one unrelated
//   column (every record that names other fields is then refused);
// - the quick path (simdjson: JsonObjectToRow per line, JsonArrayToRows
//   for an array) gives a row only where the general path gives the same
//   row, and the same rows for a whole array.
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "catalog/json.h"
#include "tools/fuzz/fuzz_check.h"

namespace diffmesh {
namespace {

void CheckConversion(const JsonTable& table, const Schema& schema) {
  JsonRows rows = ToRows(table, schema);
  FUZZ_CHECK(rows.quarantine.size() >= table.quarantine.size(),
             "conversion dropped the parser's quarantine");
  FUZZ_CHECK(
      rows.rows.size() + (rows.quarantine.size() - table.quarantine.size()) ==
          table.records.size(),
      "a record is neither a row nor quarantined");
  for (const auto& [line, row] : rows.rows) {
    FUZZ_CHECK(schema.Validate(row).ok(), "a converted row does not fit");
  }
}

// Where the quick path takes a text, the general path must take it too,
// into the same rows.
void CheckQuickPath(absl::string_view text, JsonFormat format,
                    const Schema& schema) {
  if (format == JsonFormat::kArray) {
    std::vector<Row> quick;
    if (!JsonArrayToRows(text, schema, &quick)) return;
    absl::StatusOr<JsonTable> table = ParseJson(text, "fuzz.json", format);
    FUZZ_CHECK(table.ok(), "the quick path took an array ParseJson refuses");
    JsonRows rows = ToRows(*table, schema);
    FUZZ_CHECK(rows.quarantine.empty(),
               "the quick path took an array with a quarantined record");
    FUZZ_CHECK(rows.rows.size() == quick.size(),
               "the quick path read another number of records");
    for (size_t i = 0; i < quick.size(); ++i) {
      FUZZ_CHECK(rows.rows[i].second == quick[i],
                 "the quick path read a record differently");
    }
    return;
  }
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == absl::string_view::npos) end = text.size();
    const absl::string_view line = text.substr(start, end - start);
    start = end + 1;
    Row quick;
    if (!JsonObjectToRow(line, schema, &quick)) continue;
    absl::StatusOr<JsonTable> table = ParseJson(line, "fuzz.json", format);
    FUZZ_CHECK(table.ok(), "JSON Lines text refused as a whole");
    JsonRows rows = ToRows(*table, schema);
    FUZZ_CHECK(rows.rows.size() == 1 && rows.quarantine.empty(),
               "the quick path took a line the general path refuses");
    FUZZ_CHECK(rows.rows[0].second == quick,
               "the quick path read a line differently");
  }
}

void FuzzJson(absl::string_view input) {
  if (input.empty()) return;
  const JsonFormat format =
      input[0] % 2 == 0 ? JsonFormat::kArray : JsonFormat::kLines;
  input.remove_prefix(1);
  absl::StatusOr<JsonTable> table = ParseJson(input, "fuzz.json", format);
  // Schemas of every type for the quick path: inferred when the text
  // parses, and one column of each type under the names records use most.
  std::vector<Schema> schemas;
  for (ValueType type :
       {ValueType::kInt64, ValueType::kDouble, ValueType::kBool,
        ValueType::kString, ValueType::kTimestamp}) {
    for (bool nullable : {true, false}) {
      schemas.push_back(Schema({{"a", type, nullable, "", {}},
                                {"b", ValueType::kString, true, "", {}}}));
    }
  }
  if (table.ok()) schemas.push_back(InferSchema(*table));
  for (const Schema& schema : schemas) CheckQuickPath(input, format, schema);
  if (!table.ok()) {
    FUZZ_CHECK(table.status().code() == absl::StatusCode::kInvalidArgument,
               "ParseJson refused with a code other than InvalidArgument");
    FUZZ_CHECK(absl::StrContains(table.status().message(), "fuzz.json"),
               "ParseJson's error does not name the file");
    return;
  }
  CheckConversion(*table, InferSchema(*table));
  CheckConversion(*table,
                  Schema({{"unrelated", ValueType::kString, true, "", {}}}));
}

}  // namespace
}  // namespace diffmesh

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  diffmesh::FuzzJson(
      absl::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
