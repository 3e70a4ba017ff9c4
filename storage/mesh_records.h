// The mesh store's records as bytes (FlatBuffers, schemas/mesh.fbs), verified
// on read: structurally (flatbuffers::Verifier and the record's identifier)
// and semantically (enums in range, a schema Schema::Make accepts).
//
//   std::string bytes = EncodeSourceBatch(batch);
//   absl::StatusOr<SourceBatch> back = DecodeSourceBatch(bytes, "log key 7");
//   // DataLoss "log key 7: not a source batch (12 bytes)" for foreign bytes
//
// Decoding never trusts the bytes: anything it cannot turn back into exactly
// what an encoder could have written is DataLoss naming `where`.
// Thread-safety: functions of their arguments only; call them from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "catalog/mesh_store.h"

namespace diffmesh {

// InvalidArgument unless `product` can be stored and read back: its
// descriptor passes ValidateDescriptor, its version parts are non-negative,
// and every enum (tier, field type, edge kind) is one the reader knows.
absl::Status CheckStorable(const StoredProduct& product);

// REQUIRES: CheckStorable(product) is OK, or the bytes will not decode.
std::string EncodeStoredProduct(const StoredProduct& product);
// `where` names the bytes' origin (a column family and key) in errors.
absl::StatusOr<StoredProduct> DecodeStoredProduct(absl::string_view bytes,
                                                  absl::string_view where);

// Any batch can be encoded. REQUIRES: the encoding stays under 2 GiB (the
// FlatBuffers limit).
std::string EncodeSourceBatch(const SourceBatch& batch);
// The same for `updates` at `time` (a part of a batch).
std::string EncodeSourceBatch(
    uint64_t time, absl::Span<const std::pair<Row, int64_t>> updates);
absl::StatusOr<SourceBatch> DecodeSourceBatch(absl::string_view bytes,
                                              absl::string_view where);

}  // namespace diffmesh
