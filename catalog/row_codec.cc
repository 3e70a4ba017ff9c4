#include "catalog/row_codec.h"

#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"

namespace diffmesh {

flatbuffers::Offset<fbs::RowRecord> BuildRowRecord(
    flatbuffers::FlatBufferBuilder& builder, const Row& row) {
  std::vector<flatbuffers::Offset<fbs::ValueRecord>> values;

  for (Datum v : row) {
    // Strings are built before the table that points at them.
    flatbuffers::Offset<flatbuffers::String> s;
    if (v.type() == ValueType::kString) {
      absl::string_view text = v.as_string();
      s = builder.CreateString(text.data(), text.size());
    }
    fbs::ValueRecordBuilder record(builder);
    record.add_kind(static_cast<uint8_t>(v.type()));
    switch (v.type()) {
      case ValueType::kNull:
        break;
      case ValueType::kBool:
        record.add_b(v.as_bool());
        break;
      case ValueType::kInt64:
        record.add_i(v.as_int64());
        break;
      case ValueType::kDouble:
        record.add_d(v.as_double());
        break;
      case ValueType::kString:
        record.add_s(s);
        break;
      case ValueType::kTimestamp:
        record.add_i(v.as_timestamp().micros);
        break;
    }
    values.push_back(record.Finish());
  }
  return fbs::CreateRowRecord(builder, builder.CreateVector(values));
}

absl::StatusOr<Row> RowFromRecord(const fbs::RowRecord& record,
                                  absl::string_view where) {
  Row row;
  if (record.values() == nullptr) return row;
  for (flatbuffers::uoffset_t i = 0; i < record.values()->size(); ++i) {
    const fbs::ValueRecord* v = record.values()->Get(i);
    switch (static_cast<ValueType>(v->kind())) {
      case ValueType::kNull:
        row.AppendNull();
        break;
      case ValueType::kBool:
        row.AppendBool(v->b());
        break;
      case ValueType::kInt64:
        row.AppendInt64(v->i());
        break;
      case ValueType::kDouble:
        row.AppendDouble(v->d());
        break;
      case ValueType::kString:
        if (v->s() == nullptr) {
          return absl::DataLossError(
              absl::StrCat(where, ": value ", i, " is a string without text"));
        }
        row.AppendString(absl::string_view(v->s()->c_str(), v->s()->size()));
        break;
      case ValueType::kTimestamp:
        row.AppendTimestamp(TimestampMicros{v->i()});
        break;
      default:
        return absl::DataLossError(absl::StrCat(
            where, ": value ", i, " has unknown kind ", int{v->kind()}));
    }
  }
  return row;
}

std::string EncodeRow(const Row& row) {
  flatbuffers::FlatBufferBuilder builder(64 + row.bytes().size() * 4);
  fbs::FinishRowRecordBuffer(builder, BuildRowRecord(builder, row));
  return std::string(reinterpret_cast<const char*>(builder.GetBufferPointer()),
                     builder.GetSize());
}

absl::StatusOr<Row> DecodeRow(absl::string_view bytes,
                              absl::string_view where) {
  // FlatBuffers reads scalars in place: copy to 8-byte aligned storage.
  std::vector<uint64_t> aligned((bytes.size() + 7) / 8);
  if (!bytes.empty()) std::memcpy(aligned.data(), bytes.data(), bytes.size());
  const auto* data = reinterpret_cast<const uint8_t*>(aligned.data());
  flatbuffers::Verifier verifier(data, bytes.size());
  if (!fbs::VerifyRowRecordBuffer(verifier)) {
    return absl::DataLossError(
        absl::StrCat(where, ": not a valid row (", bytes.size(), " bytes)"));
  }
  return RowFromRecord(*fbs::GetRowRecord(data), where);
}

}  // namespace diffmesh
