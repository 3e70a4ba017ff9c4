// A durable log of update batches in an embedded RocksDB store; every record
// is a FlatBuffers `UpdateBatch` (schemas/update_log.fbs), verified on read.
//
//   DM_ASSIGN_OR_RETURN(auto log, UpdateLog::Open("./diffmesh-data/log"));
//   DM_RETURN_IF_ERROR(log->Append({{/*time=*/0, /*diff=*/+1, {1, 2}}}));
//   DM_ASSIGN_OR_RETURN(auto batches, log->ReadAll());
//
// Append returns only once the batch is durable (synced write-ahead log), so
// an acknowledged batch survives a crash. A record that fails verification is
// reported as DataLoss naming its key; nothing is skipped silently.
//
// Thread compatibility: one writer at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "storage/log_update.h"

namespace rocksdb {
class DB;
}

namespace diffmesh {

// Serializes a batch to FlatBuffers bytes.
std::string EncodeUpdateBatch(const std::vector<LogUpdate>& batch);
// Verifies and decodes bytes; `where` names the record in errors.
absl::StatusOr<std::vector<LogUpdate>> DecodeUpdateBatch(
    absl::string_view bytes, absl::string_view where);

class UpdateLog {
 public:
  static absl::StatusOr<std::unique_ptr<UpdateLog>> Open(
      const std::string& path);
  ~UpdateLog();

  // Appends a batch durably; returns its sequence number (from 1).
  absl::StatusOr<uint64_t> Append(const std::vector<LogUpdate>& batch);
  // All batches in append order.
  absl::StatusOr<std::vector<std::vector<LogUpdate>>> ReadAll() const;
  // Writes raw bytes under a sequence number (for corruption tests and
  // tools that copy logs).
  absl::Status PutRaw(uint64_t seq, absl::string_view bytes);

 private:
  UpdateLog(std::unique_ptr<rocksdb::DB> db, uint64_t next_seq);
  std::unique_ptr<rocksdb::DB> db_;
  uint64_t next_seq_;
};

}  // namespace diffmesh
