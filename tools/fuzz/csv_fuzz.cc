// Fuzzes the CSV reader (catalog/csv.h) with any bytes. Besides not
// crashing, it asserts on every input:
// - a text ParseCsv refuses is an InvalidArgument naming the file;
// - every record is either a row or a quarantine entry (none lost), and
//   with the schema inferred from the same text none is refused for its
//   values;
// - reading record by record (SplitCsv + CsvRecordToRow, as a watched file
//   is read) gives exactly the rows and reasons of the whole-file read.
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "catalog/csv.h"
#include "tools/fuzz/fuzz_check.h"

namespace diffmesh {
namespace {

void FuzzCsv(absl::string_view text) {
  absl::StatusOr<CsvTable> table = ParseCsv(text, "fuzz.csv");
  if (!table.ok()) {
    FUZZ_CHECK(table.status().code() == absl::StatusCode::kInvalidArgument,
               "ParseCsv refused with a code other than InvalidArgument");
    FUZZ_CHECK(absl::StrContains(table.status().message(), "fuzz.csv"),
               "ParseCsv's error does not name the file");
    return;
  }
  Schema schema = InferSchema(*table);
  CsvRows rows = ToRows(*table, schema);
  FUZZ_CHECK(rows.quarantine.size() == table->quarantine.size(),
             "a record was refused by the schema inferred from it");
  FUZZ_CHECK(rows.rows.size() == table->records.size(),
             "records and converted rows differ in number");

  // Record by record: the header first, then each record in order.
  std::vector<CsvSpan> spans = SplitCsv(text);
  FUZZ_CHECK(!spans.empty(), "a parsed table has no header span");
  size_t next_row = 0, next_bad = 0;
  for (size_t i = 1; i < spans.size(); ++i) {
    Row row;
    std::string reason =
        CsvRecordToRow(spans[i].text, spans[i].line, schema, &row);
    if (reason.empty()) {
      FUZZ_CHECK(next_row < rows.rows.size(), "an extra record-wise row");
      FUZZ_CHECK(rows.rows[next_row].first == spans[i].line,
                 "a record-wise row starts on another line");
      FUZZ_CHECK(rows.rows[next_row].second == row,
                 "a record-wise row differs from the whole-file row");
      ++next_row;
    } else {
      FUZZ_CHECK(next_bad < rows.quarantine.size(),
                 "an extra record-wise quarantine entry");
      FUZZ_CHECK(rows.quarantine[next_bad].line == spans[i].line,
                 "a record-wise refusal is on another line");
      FUZZ_CHECK(rows.quarantine[next_bad].reason == reason,
                 "a record-wise refusal gives another reason");
      ++next_bad;
    }
  }
  FUZZ_CHECK(next_row == rows.rows.size(), "record-wise rows are missing");
  FUZZ_CHECK(next_bad == rows.quarantine.size(),
             "record-wise quarantine entries are missing");
}

}  // namespace
}  // namespace diffmesh

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  diffmesh::FuzzCsv(
      absl::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
