// RocksMeshStore: the mesh's durable state (catalog/mesh_store.h) in one
// embedded RocksDB, every record a verified FlatBuffer
// (storage/mesh_records.h).
//
//   DM_ASSIGN_OR_RETURN(auto store, RocksMeshStore::Open("./diffmesh-data"));
//   DM_RETURN_IF_ERROR(store->AppendSourceBatch("sales.orders_raw", batch));
//   DM_ASSIGN_OR_RETURN(std::vector<StoredProduct> all, store->ReadProducts());
//
// Layout, one column family per kind of state, so each can be scanned (and
// later compacted or truncated) on its own:
//   "catalog"     key "id@MAJOR.MINOR"        value StoredProductRecord
//   "source_log"  key source, 0x00, 8-byte    value SourceBatchRecord
//                 big-endian sequence number (from 1;
//                 big-endian, so a prefix scan is append order)
//   "product_log" key product, 0x00, 8-byte   value SourceBatchRecord
//                 sequence number (as source_log; the
//                 changes of products' data versions kept out of memory)
//   "meta"        key "next_time"             value 8-byte big-endian time
//                 key "format"                value kMeshStoreFormat, decimal
// Records are compressed on disk (LZ4, ZSTD at the bottom level) and in the
// write-ahead log (ZSTD). A source batch is stored as records of at most
// kRecordRows rows (consecutive sequence numbers, the batch's time; read
// back as that many batches; RocksMeshStoreOptions::record_rows). The records
// of one call (every batch of an AppendSourceBatches, every product of a
// PutProducts) are written at once, all or none, also across a crash: in one
// WriteBatch, or, from kIngestBytes of rows on (ingest_bytes; e.g. a first
// load), as one table file (made in the store's "ingest" directory, one record
// at a time) ingested into the database, atomic and synced like any write. So a
// large load holds one record's bytes at a time, and none in the write-ahead
// log or the memtable. Other column families in the same database (e.g. another
// component's) are opened and left alone.
//
// Beside the database, the file ACKNOWLEDGED holds the sequence number of
// the last acknowledged write (written after each, not synced: it survives
// the process dying). Open compares it with what RocksDB recovered: its
// point-in-time recovery stops at the first damaged record of the
// write-ahead log and silently drops every write after it, so fewer writes
// than were acknowledged is DataLoss. A torn last record (the process died
// inside a write, which was never acknowledged) recovers as it should.
// Every write is synced before it returns OK. A write that fails (a full
// disk, an I/O error) returns the error naming its record and is not
// acknowledged: the next write first resumes the database (opening it
// again when RocksDB cannot resume in place) and takes back whatever of the
// failed source-log write reached the log, so a retry stores it once. Every
// value read back is verified; a record that fails is DataLoss naming the
// column family and the key (non-printable bytes escaped), and a batch missing
// between two stored batches of a source is DataLoss too, as an acknowledged
// append was lost.
//
// Thread compatibility: one caller at a time, except ReadProductChanges,
// which any thread may call at any time (RocksDB's LOCK file keeps a
// second store, in this or another process, off the same directory).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "catalog/mesh_store.h"

namespace rocksdb {
class ColumnFamilyHandle;
class DB;
class Env;
class Status;
}  // namespace rocksdb

namespace diffmesh {

// Where a mesh keeps its state unless told otherwise.
inline constexpr char kDefaultMeshDataDir[] = "./diffmesh-data";

// The layout of the records this build writes and reads. 1: rows as tables
// of values (no "format" key was written); 2: rows packed (catalog/row.h),
// source batches columnar. A store in another format is refused, never
// misread: rebuild it from its sources (README, "Storage").
inline constexpr int kMeshStoreFormat = 2;

// Rows per source-log record, and the size of a batch's rows from which its
// records are ingested as a table file (defaults of RocksMeshStoreOptions).
inline constexpr size_t kRecordRows = size_t{1} << 16;
inline constexpr size_t kIngestBytes = size_t{4} << 20;

struct RocksMeshStoreOptions {
  // The environment RocksDB reads and writes files through (null: the
  // default). Tests pass one that injects faults; it must outlive the
  // store.
  rocksdb::Env* env = nullptr;
  // Rows per source-log record (>= 1) and the size of an append's rows from
  // which its records are ingested as a table file. Smaller values let
  // tests reach both paths with small batches; any values read any store.
  size_t record_rows = kRecordRows;
  size_t ingest_bytes = kIngestBytes;
};

class RocksMeshStore : public MeshStore {
 public:
  // Opens the store at `path`, creating the directory (and its parents), the
  // database and any missing column family. Errors name the path:
  // FailedPrecondition if it is not a directory, Unavailable if RocksDB
  // cannot open it (e.g. another store holds its lock), DataLoss if a
  // source_log key is malformed, FailedPrecondition naming both formats
  // for a store written in another format than kMeshStoreFormat.
  static absl::StatusOr<std::unique_ptr<RocksMeshStore>> Open(
      const std::string& path, RocksMeshStoreOptions options = {});
  ~RocksMeshStore() override;

  RocksMeshStore(const RocksMeshStore&) = delete;
  RocksMeshStore& operator=(const RocksMeshStore&) = delete;

  // InvalidArgument (nothing written) for an empty source id or one
  // holding a 0 byte (the 0 byte ends the id in keys, so such ids could not
  // be told apart).
  absl::Status AppendSourceBatches(
      const std::vector<SourceAppend>& appends) override;
  // An unknown source has no batches (an empty result, not an error).
  // Reads the batches at times up to `upto`, consolidates them and writes
  // the checkpoint under the last of their sequence numbers in the same
  // synced write that deletes them.
  absl::Status CheckpointSource(const std::string& source,
                                uint64_t upto) override;
  absl::StatusOr<std::vector<SourceBatch>> ReadSourceBatches(
      const std::string& source) override;

  // Products' change logs, kept as the sources' logs are (the same ids
  // are refused, the same records written and checked).
  absl::Status AppendProductChanges(
      const std::vector<ProductAppend>& appends) override;
  absl::StatusOr<std::vector<SourceBatch>> ReadProductChanges(
      const std::string& product, uint64_t upto) override;
  absl::Status CheckpointProductChanges(const std::string& product,
                                        uint64_t upto) override;
  absl::Status DropProductChanges() override;

  // InvalidArgument (nothing written) unless CheckStorable(product) for
  // every product.
  absl::Status PutProducts(const std::vector<StoredProduct>& products) override;
  absl::StatusOr<std::vector<StoredProduct>> ReadProducts() override;

  absl::Status PutNextTime(uint64_t time) override;
  absl::StatusOr<uint64_t> ReadNextTime() override;

  const std::string& path() const { return path_; }

  // Writes what is in memory to table files and drops the write-ahead log
  // they cover (for measuring the store's size; durability does not need
  // it).
  absl::Status Flush();

 private:
  RocksMeshStore(std::string path, RocksMeshStoreOptions options,
                 std::unique_ptr<rocksdb::DB> db,
                 std::vector<rocksdb::ColumnFamilyHandle*> handles);

  // One log family: the sources' input logs or the products' changes.
  struct Log {
    const char* family;  // the column family's name
    const char* noun;    // what its ids name, for errors
    rocksdb::ColumnFamilyHandle* handle = nullptr;
    // The sequence number the next batch of each id gets; an id absent
    // here has none stored and starts at 1.
    std::map<std::string, uint64_t> next_sequence;
  };
  struct LogAppend {
    const std::string* id;
    const SourceBatch* batch;
  };
  absl::Status AppendLog(Log* log, const std::vector<LogAppend>& appends);
  absl::Status CheckpointLog(Log* log, const std::string& id, uint64_t upto);

  // Opens the record of the last acknowledged write; DataLoss if the
  // database recovered fewer writes than it names.
  absl::Status CheckAcknowledged();
  // After an acknowledged write: records the database's sequence number.
  void RecordAcknowledged();
  // Fills log->next_sequence from the last key of each id.
  absl::Status RecoverSequences(Log* log);
  // Writes the format of a new store, or checks an existing one's.
  absl::Status CheckFormat(bool existed);
  absl::Status SyncedPut(rocksdb::ColumnFamilyHandle* family,
                         absl::string_view key, absl::string_view value,
                         absl::string_view what);
  // Writes `n` records, the i-th's key and value from record(i, ...), keys
  // in order, all or none, synced: in one WriteBatch, or as a table file
  // ingested.
  using RecordFn =
      std::function<void(size_t i, std::string* key, std::string* value)>;
  absl::Status WriteRecords(rocksdb::ColumnFamilyHandle* family, size_t n,
                            const RecordFn& record, absl::string_view what);
  absl::Status IngestRecords(rocksdb::ColumnFamilyHandle* family, size_t n,
                             const RecordFn& record, absl::string_view what);
  void FindFamilies();
  void Close();  // releases the handles and closes the database
  // First in every public call: resumes the database if the last write
  // failed (opening it again if it must) and takes back the failed write's
  // records. Until it succeeds, every call returns its error.
  absl::Status ResumeAfterFailure();
  // Calls visit(key, sequence, batch) for the id's log records in order
  // until it returns false: DataLoss for a malformed or undecodable record
  // or a gap in the sequence numbers (a lost batch).
  absl::Status VisitLog(
      const Log& log, const std::string& id,
      const std::function<bool(absl::string_view key, uint64_t sequence,
                               SourceBatch batch)>& visit) const;
  // After a write: its status, remembering a failure.
  absl::Status Wrote(const rocksdb::Status& s, absl::string_view what);

  std::string path_;
  RocksMeshStoreOptions options_;
  // Held shared by ReadProductChanges (any thread), exclusive while db_
  // is closed or opened again (the owner's thread).
  mutable std::shared_mutex db_mu_;
  std::unique_ptr<rocksdb::DB> db_;
  // Every open family; RocksDB requires them released before the database
  // closes, which the destructor does.
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  rocksdb::ColumnFamilyHandle* catalog_ = nullptr;
  rocksdb::ColumnFamilyHandle* meta_ = nullptr;
  Log source_log_;
  Log product_log_;
  uint64_t ingested_ = 0;  // names the next ingest file
  bool failed_ = false;    // the last write failed: resume before the next
  int ack_fd_ = -1;        // the ACKNOWLEDGED file
  uint64_t acknowledged_ = 0;
  // Keys of log records whose write failed (and may have reached the log
  // all the same).
  std::vector<std::pair<Log*, std::string>> unacknowledged_;
};

}  // namespace diffmesh
