// Rows to bytes and back (FlatBuffers, schemas/row.fbs), verified on read.
//
//   std::string bytes = EncodeRow(row);
//   absl::StatusOr<Row> back = DecodeRow(bytes, "catalog/key 42");
//   // DataLoss "catalog/key 42: ..." if the bytes are not a valid row
// Thread-safety: functions of their arguments only; call them from any thread.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "catalog/row.h"
#include "schemas/row_generated.h"

namespace diffmesh {

std::string EncodeRow(const Row& row);

// `where` names the bytes' origin (a file and record, a store key) in the
// error. DataLoss for bytes that are not a verified row or hold an unknown
// value kind.
absl::StatusOr<Row> DecodeRow(absl::string_view bytes, absl::string_view where);

// For records that hold rows (schemas that include row.fbs): a row built
// into an existing builder, and one read back from a verified RowRecord.
flatbuffers::Offset<fbs::RowRecord> BuildRowRecord(
    flatbuffers::FlatBufferBuilder& builder, const Row& row);
// DataLoss naming `where` and the value for an unknown kind or a string
// without its text.
absl::StatusOr<Row> RowFromRecord(const fbs::RowRecord& record,
                                  absl::string_view where);

}  // namespace diffmesh
