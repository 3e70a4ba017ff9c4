// Fuzzes the readers of the store's other records: a catalog record (a
// stored product version with its lineage edges, storage/mesh_records.h)
// and an update-log batch (storage/update_log.h), as RocksDB hands them
// back. Besides not crashing, it asserts on every input:
// - refused bytes are DataLoss naming their origin;
// - an accepted product could have been stored (CheckStorable) and reads
//   back equal from its own encoding;
// - an accepted update batch reads back equal from its own encoding.
#include <cstdint>
#include <string>

#include "absl/strings/match.h"
#include "storage/mesh_records.h"
#include "storage/update_log.h"
#include "tools/fuzz/fuzz_check.h"

namespace diffmesh {
namespace {

void CheckRefusal(const absl::Status& status) {
  FUZZ_CHECK(status.code() == absl::StatusCode::kDataLoss,
             "record bytes refused with a code other than DataLoss");
  FUZZ_CHECK(absl::StrContains(status.message(), "fuzz/key"),
             "the refusal does not name the bytes' origin");
}

void FuzzRecords(absl::string_view bytes) {
  absl::StatusOr<StoredProduct> product =
      DecodeStoredProduct(bytes, "fuzz/key");
  if (!product.ok()) {
    CheckRefusal(product.status());
  } else {
    FUZZ_CHECK(CheckStorable(*product).ok(),
               "an accepted product could not have been stored");
    absl::StatusOr<StoredProduct> again =
        DecodeStoredProduct(EncodeStoredProduct(*product), "fuzz/key");
    FUZZ_CHECK(again.ok() && *again == *product,
               "a stored product does not read back");
  }
  absl::StatusOr<std::vector<LogUpdate>> batch =
      DecodeUpdateBatch(bytes, "fuzz/key");
  if (!batch.ok()) {
    CheckRefusal(batch.status());
  } else {
    absl::StatusOr<std::vector<LogUpdate>> again =
        DecodeUpdateBatch(EncodeUpdateBatch(*batch), "fuzz/key");
    FUZZ_CHECK(again.ok() && *again == *batch,
               "an update batch does not read back");
  }
}

}  // namespace
}  // namespace diffmesh

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  diffmesh::FuzzRecords(
      absl::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
