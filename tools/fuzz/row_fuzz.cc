// Fuzzes the readers of stored row bytes: Row::FromBytes (catalog/row.h),
// the FlatBuffers row record (catalog/row_codec.h) and the store's source
// batch record (storage/mesh_records.h). Besides not
// crashing, it asserts on every input:
// - refused bytes are DataLoss naming their origin;
// - accepted packed bytes are canonical: the row rebuilt from its values
//   has exactly those bytes, and it reads back from its own record.
#include <cstdint>
#include <string>

#include "absl/strings/match.h"
#include "catalog/row.h"
#include "catalog/row_codec.h"
#include "storage/mesh_records.h"
#include "tools/fuzz/fuzz_check.h"

namespace diffmesh {
namespace {

void CheckRefusal(const absl::Status& status) {
  FUZZ_CHECK(status.code() == absl::StatusCode::kDataLoss,
             "row bytes refused with a code other than DataLoss");
  FUZZ_CHECK(absl::StrContains(status.message(), "fuzz/key"),
             "the refusal does not name the bytes' origin");
}

void FuzzRow(absl::string_view bytes) {
  absl::StatusOr<Row> row = Row::FromBytes(bytes, "fuzz/key");
  if (!row.ok()) {
    CheckRefusal(row.status());
  } else {
    FUZZ_CHECK(row->bytes() == bytes, "FromBytes changed the bytes");
    FUZZ_CHECK(Row(row->ToValues()).bytes() == bytes,
               "accepted bytes are not the canonical encoding");
    absl::StatusOr<Row> back = DecodeRow(EncodeRow(*row), "fuzz/key");
    FUZZ_CHECK(back.ok() && *back == *row, "a row record does not read back");
  }
  absl::StatusOr<SourceBatch> batch = DecodeSourceBatch(bytes, "fuzz/key");
  if (!batch.ok()) {
    CheckRefusal(batch.status());
  } else {
    absl::StatusOr<SourceBatch> again =
        DecodeSourceBatch(EncodeSourceBatch(*batch), "fuzz/key");
    FUZZ_CHECK(again.ok() && again->time == batch->time &&
                   again->updates == batch->updates,
               "a source batch does not read back");
  }
  absl::StatusOr<Row> record = DecodeRow(bytes, "fuzz/key");
  if (!record.ok()) {
    CheckRefusal(record.status());
  } else {
    absl::StatusOr<Row> again = Row::FromBytes(record->bytes(), "fuzz/key");
    FUZZ_CHECK(again.ok() && *again == *record,
               "a decoded record is not a valid packed row");
  }
}

}  // namespace
}  // namespace diffmesh

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  diffmesh::FuzzRow(
      absl::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
