// Fuzzes the JSON and JSON Lines reader (catalog/json.h) with any bytes;
// the first byte picks the format. Besides not crashing, it asserts on
// every input:
// - a text ParseJson refuses is an InvalidArgument naming the file;
// - every record is either a row or a quarantine entry, none lost, with the
//   schema inferred from the same text and with a schema of one unrelated
//   column (every record that names other fields is then refused).
#include <cstdint>
#include <string>

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

void FuzzJson(absl::string_view input) {
  if (input.empty()) return;
  const JsonFormat format =
      input[0] % 2 == 0 ? JsonFormat::kArray : JsonFormat::kLines;
  input.remove_prefix(1);
  absl::StatusOr<JsonTable> table = ParseJson(input, "fuzz.json", format);
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
