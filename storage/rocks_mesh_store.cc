#include "storage/rocks_mesh_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <system_error>
#include <tuple>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "catalog/source.h"
#include "engine/status_macros.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/sst_file_writer.h"
#include "rocksdb/write_batch.h"
#include "storage/internal/rocks_status.h"
#include "storage/mesh_records.h"

namespace diffmesh {
namespace {

constexpr char kCatalogFamily[] = "catalog";
constexpr char kSourceLogFamily[] = "source_log";
constexpr char kProductLogFamily[] = "product_log";
constexpr char kMetaFamily[] = "meta";
constexpr char kNextTimeKey[] = "next_time";
constexpr char kFormatKey[] = "format";
constexpr size_t kSequenceBytes = 8;
// The last sequence number a write was acknowledged at (see
// CheckAcknowledged), beside the database: magic, then 8 bytes big-endian.
constexpr char kAcknowledgedFile[] = "ACKNOWLEDGED";
constexpr char kAcknowledgedMagic[] = "dmack v1";
constexpr size_t kAcknowledgedBytes = 16;
// Where a large record is written as a table file before it is ingested.
constexpr char kIngestDirName[] = "ingest";

std::string IngestDir(const std::string& path) {
  return (std::filesystem::path(path) / kIngestDirName).string();
}

rocksdb::Options StoreOptions(const RocksMeshStoreOptions& store) {
  rocksdb::Options options;
  if (store.env != nullptr) options.env = store.env;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  // Rows compress well (repeated values, small integers): a store is
  // smaller than the files its sources read.
  options.compression = rocksdb::kLZ4Compression;
  options.bottommost_compression = rocksdb::kZSTD;
  options.wal_compression = rocksdb::kZSTD;
  options.compression_opts.parallel_threads = 2;
  return options;
}

absl::string_view View(const rocksdb::Slice& s) {
  return absl::string_view(s.data(), s.size());
}

rocksdb::Slice ToSlice(absl::string_view s) {
  return rocksdb::Slice(s.data(), s.size());
}

using internal::FromRocks;

// Big-endian, so byte order (RocksDB's key order) is numeric order.
std::string BigEndian(uint64_t n) {
  std::string out(kSequenceBytes, '\0');
  for (int i = kSequenceBytes - 1; i >= 0; --i) {
    out[i] = static_cast<char>(n & 0xff);
    n >>= 8;
  }
  return out;
}

uint64_t FromBigEndian(absl::string_view bytes) {
  uint64_t n = 0;
  for (char c : bytes) n = (n << 8) | static_cast<uint8_t>(c);
  return n;
}

std::string LogPrefix(absl::string_view id) {
  return absl::StrCat(id, absl::string_view("\0", 1));
}

std::string LogKey(absl::string_view id, uint64_t sequence) {
  return absl::StrCat(LogPrefix(id), BigEndian(sequence));
}

absl::Status CheckLogId(absl::string_view noun, const std::string& id) {
  if (id.empty() || id.find('\0') != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        noun, " id '", absl::CHexEscape(id),
        "' is empty or holds a 0 byte (it ends the id in log keys)"));
  }
  return absl::OkStatus();
}

// "FAMILY record 'KEY'" with the key's non-printable bytes escaped.
std::string RecordName(absl::string_view family, absl::string_view key) {
  return absl::StrCat(family, " record '", absl::CHexEscape(key), "'");
}

// A log key split into its id and sequence number.
struct LogKeyParts {
  absl::string_view id;
  uint64_t sequence = 0;
};

absl::StatusOr<LogKeyParts> ParseLogKey(absl::string_view family,
                                        absl::string_view noun,
                                        absl::string_view key) {
  size_t end = key.find('\0');
  if (end == 0 || end == absl::string_view::npos ||
      key.size() != end + 1 + kSequenceBytes) {
    return absl::DataLossError(
        absl::StrCat(RecordName(family, key), ": malformed key (expected a ",
                     noun, " id, a 0 byte and an 8-byte sequence number)"));
  }
  return LogKeyParts{key.substr(0, end), FromBigEndian(key.substr(end + 1))};
}

// A record name that also says which batch the raw key stands for.
std::string LogRecordName(absl::string_view family, absl::string_view key,
                          const LogKeyParts& parts) {
  return absl::StrCat(RecordName(family, key), " (batch #", parts.sequence,
                      " of ", absl::CHexEscape(parts.id), ")");
}

absl::Status Annotate(const absl::Status& s, absl::string_view what) {
  if (s.ok()) return s;
  return absl::Status(s.code(), absl::StrCat(what, ": ", s.message()));
}

// Opens the database at `path` with every family it holds and ours;
// `existing` gets the families it held before.
absl::Status OpenDatabase(const std::string& path,
                          const RocksMeshStoreOptions& store_options,
                          std::vector<std::string>* existing,
                          std::unique_ptr<rocksdb::DB>* db,
                          std::vector<rocksdb::ColumnFamilyHandle*>* handles) {
  const rocksdb::Options options = StoreOptions(store_options);
  // Ingest files a crash left behind were never acknowledged.
  std::error_code error;
  std::filesystem::remove_all(IngestDir(path), error);
  // RocksDB refuses to open a database without naming every family it
  // holds, and other components may keep theirs in the same database. A
  // failure here means there is no database yet (or Open reports why).
  if (!rocksdb::DB::ListColumnFamilies(options, path, existing).ok()) {
    existing->clear();
  }
  std::set<std::string> names(existing->begin(), existing->end());
  names.insert({rocksdb::kDefaultColumnFamilyName, kCatalogFamily,
                kSourceLogFamily, kProductLogFamily, kMetaFamily});
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (const std::string& name : names) {
    families.emplace_back(name, rocksdb::ColumnFamilyOptions(options));
  }
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, path, families, handles, &raw);
  if (!s.ok()) {
    std::string what = absl::StrCat("opening mesh store at '", path, "'");
    if (s.IsIOError() && absl::StrContains(s.ToString(), "lock")) {
      absl::StrAppend(&what, " (is another store or process using it?)");
    }
    return FromRocks(s, what);
  }
  db->reset(raw);
  return absl::OkStatus();
}

}  // namespace

RocksMeshStore::RocksMeshStore(
    std::string path, RocksMeshStoreOptions options,
    std::unique_ptr<rocksdb::DB> db,
    std::vector<rocksdb::ColumnFamilyHandle*> handles)
    : path_(std::move(path)),
      options_(options),
      db_(std::move(db)),
      handles_(std::move(handles)),
      source_log_{kSourceLogFamily, "source"},
      product_log_{kProductLogFamily, "product"} {
  FindFamilies();
}

void RocksMeshStore::FindFamilies() {
  for (rocksdb::ColumnFamilyHandle* h : handles_) {
    if (h->GetName() == kCatalogFamily) catalog_ = h;
    if (h->GetName() == kSourceLogFamily) source_log_.handle = h;
    if (h->GetName() == kProductLogFamily) product_log_.handle = h;
    if (h->GetName() == kMetaFamily) meta_ = h;
  }
}

void RocksMeshStore::Close() {
  std::unique_lock<std::shared_mutex> lock(db_mu_);
  for (rocksdb::ColumnFamilyHandle* h : handles_) {
    // Cannot fail for a handle DB::Open returned; a destructor could not
    // report it anyway.
    db_->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  }
  handles_.clear();
  catalog_ = meta_ = nullptr;
  source_log_.handle = product_log_.handle = nullptr;
  db_.reset();
}

RocksMeshStore::~RocksMeshStore() {
  if (db_ != nullptr) Close();
  if (ack_fd_ >= 0) ::close(ack_fd_);
}

absl::StatusOr<std::unique_ptr<RocksMeshStore>> RocksMeshStore::Open(
    const std::string& path, RocksMeshStoreOptions store_options) {
  if (path.empty()) {
    return absl::InvalidArgumentError("mesh store path is empty");
  }
  // RocksDB creates only the last directory of a path; a mesh's data
  // directory is often nested in one that does not exist yet.
  std::error_code error;
  std::filesystem::create_directories(path, error);
  if (!error && !std::filesystem::is_directory(path, error) && !error) {
    error = std::make_error_code(std::errc::not_a_directory);
  }
  if (error) {
    std::string message = absl::StrCat(
        "cannot use '", path, "' as a mesh store directory: ", error.message());
    if (error == std::errc::permission_denied ||
        error == std::errc::operation_not_permitted) {
      return absl::PermissionDeniedError(message);
    }
    return absl::FailedPreconditionError(message);
  }

  std::vector<std::string> existing;
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  DM_RETURN_IF_ERROR(
      OpenDatabase(path, store_options, &existing, &db, &handles));
  std::unique_ptr<RocksMeshStore> store(new RocksMeshStore(
      path, store_options, std::move(db), std::move(handles)));
  DM_RETURN_IF_ERROR(store->CheckAcknowledged());
  DM_RETURN_IF_ERROR(
      store->CheckFormat(std::find(existing.begin(), existing.end(),
                                   kMetaFamily) != existing.end()));
  DM_RETURN_IF_ERROR(store->RecoverSequences(&store->source_log_));
  DM_RETURN_IF_ERROR(store->RecoverSequences(&store->product_log_));
  return store;
}

absl::Status RocksMeshStore::CheckAcknowledged() {
  const std::string file =
      (std::filesystem::path(path_) / kAcknowledgedFile).string();
  ack_fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (ack_fd_ < 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot open '", file, "': ", std::strerror(errno)));
  }
  char bytes[kAcknowledgedBytes];
  const ssize_t n = ::pread(ack_fd_, bytes, sizeof bytes, 0);
  if (n == 0) return absl::OkStatus();  // a new store
  if (n != static_cast<ssize_t>(kAcknowledgedBytes) ||
      std::memcmp(bytes, kAcknowledgedMagic, 8) != 0) {
    return absl::DataLossError(
        absl::StrCat("'", file, "' is damaged (", n < 0 ? 0 : n,
                     " bytes, not a record of the last acknowledged write)"));
  }
  acknowledged_ = FromBigEndian(absl::string_view(bytes + 8, 8));
  const uint64_t recovered = db_->GetLatestSequenceNumber();
  if (recovered < acknowledged_) {
    return absl::DataLossError(absl::StrCat(
        "mesh store at '", path_,
        "' lost acknowledged writes: RocksDB "
        "recovered its writes up to sequence number ",
        recovered, ", but writes up to ", acknowledged_,
        " were acknowledged (a damaged record inside the write-ahead log "
        "cuts off every write after it)"));
  }
  return absl::OkStatus();
}

void RocksMeshStore::RecordAcknowledged() {
  acknowledged_ = db_->GetLatestSequenceNumber();
  std::string bytes =
      absl::StrCat(kAcknowledgedMagic, BigEndian(acknowledged_));
  // Not synced: it survives the process dying (the kernel has it); after a
  // power loss it may be older than the log, which only weakens the check.
  // One pwrite of 16 bytes is never torn by the process dying.
  if (::pwrite(ack_fd_, bytes.data(), bytes.size(), 0) !=
      static_cast<ssize_t>(bytes.size())) {
    // The check is a safeguard; a store that cannot record it still works.
    acknowledged_ = 0;
  }
}

absl::Status RocksMeshStore::CheckFormat(bool existed) {
  const std::string want = absl::StrCat(kMeshStoreFormat);
  std::string value;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), meta_, kFormatKey, &value);
  const std::string where = RecordName(kMetaFamily, kFormatKey);
  if (s.IsNotFound()) {
    // Written before formats were recorded, if it holds anything; a store
    // whose creation was cut short (the process died before the format
    // was written) holds nothing and is new.
    bool empty = true;
    for (rocksdb::ColumnFamilyHandle* family :
         {catalog_, source_log_.handle, product_log_.handle, meta_}) {
      std::unique_ptr<rocksdb::Iterator> it(
          db_->NewIterator(rocksdb::ReadOptions(), family));
      it->SeekToFirst();
      DM_RETURN_IF_ERROR(
          FromRocks(it->status(),
                    absl::StrCat("reading the mesh store at '", path_, "'")));
      empty = empty && !it->Valid();
    }
    if (existed && !empty) value = "1";
  } else {
    DM_RETURN_IF_ERROR(FromRocks(s, absl::StrCat("reading ", where)));
  }
  if (value.empty()) {
    return SyncedPut(meta_, kFormatKey, want, absl::StrCat("writing ", where));
  }
  if (value != want) {
    return absl::FailedPreconditionError(
        absl::StrCat("mesh store at '", path_, "' is in format ",
                     absl::CHexEscape(value), "; this build reads format ",
                     want, ": move it away and rebuild it from its sources"));
  }
  return absl::OkStatus();
}

absl::Status RocksMeshStore::Flush() {
  DM_RETURN_IF_ERROR(ResumeAfterFailure());
  rocksdb::FlushOptions options;
  options.wait = true;
  std::vector<rocksdb::ColumnFamilyHandle*> families = {
      catalog_, source_log_.handle, product_log_.handle, meta_};
  return FromRocks(db_->Flush(options, families),
                   absl::StrCat("flushing the mesh store at '", path_, "'"));
}

absl::Status RocksMeshStore::RecoverSequences(Log* log) {
  log->next_sequence.clear();
  // Visits two keys per id rather than every batch: the first key of an
  // id names it, the last key before the next id gives its next sequence
  // number.
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), log->handle));
  it->SeekToFirst();
  while (it->Valid()) {
    std::string first(View(it->key()));
    DM_ASSIGN_OR_RETURN(LogKeyParts parts,
                        ParseLogKey(log->family, log->noun, first));
    std::string id(parts.id);
    it->SeekForPrev(LogKey(id, ~uint64_t{0}));
    if (!it->Valid()) break;  // The status check below says why.
    std::string last(View(it->key()));
    DM_ASSIGN_OR_RETURN(LogKeyParts last_parts,
                        ParseLogKey(log->family, log->noun, last));
    if (last_parts.sequence == ~uint64_t{0}) {
      return absl::DataLossError(
          absl::StrCat(LogRecordName(log->family, last, last_parts),
                       ": sequence number out of range"));
    }
    log->next_sequence[id] = last_parts.sequence + 1;
    // Every key of `id` sorts before id + 0x01.
    it->Seek(absl::StrCat(id, absl::string_view("\x01", 1)));
  }
  return FromRocks(it->status(), absl::StrCat("scanning the ", log->family,
                                              " of '", path_, "'"));
}

absl::Status RocksMeshStore::SyncedPut(rocksdb::ColumnFamilyHandle* family,
                                       absl::string_view key,
                                       absl::string_view value,
                                       absl::string_view what) {
  return WriteRecords(
      family, 1,
      [&](size_t, std::string* k, std::string* v) {
        k->assign(key.data(), key.size());
        v->assign(value.data(), value.size());
      },
      what);
}
absl::Status RocksMeshStore::WriteRecords(rocksdb::ColumnFamilyHandle* family,
                                          size_t n, const RecordFn& record,
                                          absl::string_view what) {
  rocksdb::WriteBatch batch;
  std::string key, value;
  for (size_t i = 0; i < n; ++i) {
    record(i, &key, &value);
    rocksdb::Status s = batch.Put(family, ToSlice(key), ToSlice(value));
    if (!s.ok()) return FromRocks(s, what);
  }
  rocksdb::WriteOptions options;
  // OK must mean durable: the write-ahead log is synced before Write returns.
  options.sync = true;
  return Wrote(db_->Write(options, &batch), what);
}

absl::Status RocksMeshStore::ResumeAfterFailure() {
  if (!failed_) return absl::OkStatus();
  const std::string what = absl::StrCat("mesh store at '", path_, "'");
  // After a failed write RocksDB refuses every write until it resumes,
  // which it does only for errors it can recover from in place (a full
  // disk that has room again); after others (a failed write-ahead log
  // write or sync) the database is opened again, recovering from its log.
  if (db_ == nullptr || !db_->Resume().ok()) {
    if (db_ != nullptr) Close();
    std::unique_lock<std::shared_mutex> lock(db_mu_);
    std::vector<std::string> existing;
    std::unique_ptr<rocksdb::DB> db;
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    DM_RETURN_IF_ERROR(
        Annotate(OpenDatabase(path_, options_, &existing, &db, &handles),
                 absl::StrCat(what,
                              ": the store stopped after a failed write and "
                              "cannot open again")));
    db_ = std::move(db);
    handles_ = std::move(handles);
    FindFamilies();
  }
  // The failed write was not acknowledged, but it may have reached the
  // log before it failed (e.g. a failed sync): take it back, so that the
  // caller's retry does not store it twice.
  if (!unacknowledged_.empty()) {
    rocksdb::WriteBatch batch;
    for (const auto& [log, key] : unacknowledged_) {
      rocksdb::Status s = batch.Delete(log->handle, ToSlice(key));
      if (!s.ok()) return FromRocks(s, what);
    }
    rocksdb::WriteOptions options;
    options.sync = true;
    DM_RETURN_IF_ERROR(FromRocks(
        db_->Write(options, &batch),
        absl::StrCat(what, ": taking back the write that failed before")));
    unacknowledged_.clear();
  }
  DM_RETURN_IF_ERROR(RecoverSequences(&source_log_));
  DM_RETURN_IF_ERROR(RecoverSequences(&product_log_));
  failed_ = false;
  return absl::OkStatus();
}

absl::Status RocksMeshStore::Wrote(const rocksdb::Status& s,
                                   absl::string_view what) {
  if (!s.ok()) failed_ = true;
  if (s.ok()) RecordAcknowledged();
  return FromRocks(s, what);
}

absl::Status RocksMeshStore::IngestRecords(rocksdb::ColumnFamilyHandle* family,
                                           size_t n, const RecordFn& record,
                                           absl::string_view what) {
  const std::string dir = IngestDir(path_);
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) {
    return absl::UnavailableError(
        absl::StrCat(what, ": cannot create '", dir, "': ", error.message()));
  }
  const std::string file =
      (std::filesystem::path(dir) / absl::StrCat(++ingested_, ".sst")).string();
  rocksdb::SstFileWriter writer(rocksdb::EnvOptions(), StoreOptions(options_),
                                family);
  rocksdb::Status s = writer.Open(file);
  std::string key, value;
  // REQUIRES of the writer: keys in order, as `record` gives them.
  for (size_t i = 0; s.ok() && i < n; ++i) {
    record(i, &key, &value);
    s = writer.Put(ToSlice(key), ToSlice(value));
  }
  // Finish syncs the file; ingesting it syncs the database's manifest.
  if (s.ok()) s = writer.Finish();
  if (s.ok()) {
    rocksdb::IngestExternalFileOptions ingest;
    ingest.move_files = true;
    s = db_->IngestExternalFile(family, {file}, ingest);
  }
  std::filesystem::remove(file, error);  // a link left by the move, or junk
  return Wrote(s, what);
}

absl::Status RocksMeshStore::AppendLog(Log* log,
                                       const std::vector<LogAppend>& appends) {
  DM_RETURN_IF_ERROR(ResumeAfterFailure());
  // Sorted by id (append order kept within one), so the keys come in
  // order, as a table file needs them.
  std::vector<const LogAppend*> order;
  for (const LogAppend& a : appends) {
    DM_RETURN_IF_ERROR(CheckLogId(log->noun, *a.id));
    order.push_back(&a);
  }
  std::stable_sort(
      order.begin(), order.end(),
      [](const LogAppend* a, const LogAppend* b) { return *a->id < *b->id; });
  // Each batch is stored as records of at most record_rows rows, under
  // consecutive sequence numbers; all records are written together
  // (encoded one at a time).
  struct Record {
    const LogAppend* append;
    uint64_t sequence;
    size_t part;  // the record's rows start at part * record_rows
  };
  const size_t record_rows = std::max<size_t>(1, options_.record_rows);
  std::vector<Record> records;
  std::map<std::string, uint64_t> next;
  size_t bytes = 0;
  for (const LogAppend* a : order) {
    auto [it, fresh] = next.try_emplace(*a->id, 1);
    if (fresh) {
      auto stored = log->next_sequence.find(*a->id);
      if (stored != log->next_sequence.end()) it->second = stored->second;
    }
    const size_t n = a->batch->updates.size();
    const size_t parts =
        std::max<size_t>(1, (n + record_rows - 1) / record_rows);
    for (size_t part = 0; part < parts; ++part) {
      records.push_back({a, it->second++, part});
    }
    for (const auto& update : a->batch->updates) {
      bytes += update.first.bytes().size() + sizeof(uint32_t);
    }
  }
  if (records.empty()) return absl::OkStatus();
  const std::string first_key =
      LogKey(*records[0].append->id, records[0].sequence);
  std::string what =
      absl::StrCat("writing ", RecordName(log->family, first_key));
  if (records.size() > 1) {
    absl::StrAppend(&what, " and the ", records.size() - 1,
                    " records after it");
  }
  auto record = [&](size_t i, std::string* key, std::string* value) {
    const Record& r = records[i];
    const absl::Span<const std::pair<Row, int64_t>> updates(
        r.append->batch->updates);
    *key = LogKey(*r.append->id, r.sequence);
    *value =
        EncodeSourceBatch(r.append->batch->time,
                          updates.subspan(r.part * record_rows, record_rows));
  };
  absl::Status written =
      bytes >= options_.ingest_bytes
          ? IngestRecords(log->handle, records.size(), record, what)
          : WriteRecords(log->handle, records.size(), record, what);
  if (!written.ok()) {
    if (failed_) {
      for (const Record& r : records) {
        unacknowledged_.emplace_back(log, LogKey(*r.append->id, r.sequence));
      }
    }
    return written;
  }
  // Advanced only after the write succeeded, so a failed append leaves no
  // gap (which a reader would report as a lost batch).
  for (const auto& [id, sequence] : next) log->next_sequence[id] = sequence;
  return absl::OkStatus();
}

absl::Status RocksMeshStore::AppendSourceBatches(
    const std::vector<SourceAppend>& appends) {
  std::vector<LogAppend> log;
  log.reserve(appends.size());
  for (const SourceAppend& a : appends) log.push_back({&a.source, a.batch});
  return AppendLog(&source_log_, log);
}

absl::Status RocksMeshStore::AppendProductChanges(
    const std::vector<ProductAppend>& appends) {
  std::vector<LogAppend> log;
  log.reserve(appends.size());
  for (const ProductAppend& a : appends) log.push_back({&a.product, a.batch});
  return AppendLog(&product_log_, log);
}

absl::Status RocksMeshStore::CheckpointLog(Log* log, const std::string& id,
                                           uint64_t upto) {
  DM_RETURN_IF_ERROR(ResumeAfterFailure());
  DM_RETURN_IF_ERROR(CheckLogId(log->noun, id));
  // The records at times up to `upto` are a prefix of the id's log
  // (times never decrease in append order).
  std::vector<std::string> folded;
  uint64_t last_sequence = 0;
  uint64_t last_time = 0;
  bool several_times = false;
  RowDiffs rows;
  DM_RETURN_IF_ERROR(VisitLog(
      *log, id,
      [&](absl::string_view key, uint64_t sequence, SourceBatch batch) {
        if (batch.time > upto) return false;
        if (!folded.empty() && batch.time != last_time) several_times = true;
        folded.emplace_back(key);
        last_sequence = sequence;
        last_time = batch.time;
        for (auto& update : batch.updates) rows.push_back(std::move(update));
        return true;
      }));
  // One time's batches are a checkpoint already.
  if (!several_times) return absl::OkStatus();
  ConsolidateRowDiffs(&rows);
  const size_t record_rows = std::max<size_t>(1, options_.record_rows);
  const size_t parts =
      std::max<size_t>(1, (rows.size() + record_rows - 1) / record_rows);
  // The checkpoint's records take the last sequence numbers of the records
  // it replaces, so the log stays without gaps. It never needs more: each
  // replaced batch had at least one record per record_rows of its rows.
  if (parts > folded.size()) return absl::OkStatus();
  rocksdb::WriteBatch batch;
  const std::string what = absl::StrCat(
      "checkpointing the ", log->family, " of ", absl::CHexEscape(id),
      " at time ", last_time, " in '", path_, "'");
  for (const std::string& key : folded) {
    rocksdb::Status s = batch.Delete(log->handle, ToSlice(key));
    if (!s.ok()) return FromRocks(s, what);
  }
  const absl::Span<const std::pair<Row, int64_t>> all(rows);
  for (size_t part = 0; part < parts; ++part) {
    const std::string key = LogKey(id, last_sequence - (parts - 1) + part);
    const std::string value = EncodeSourceBatch(
        last_time, all.subspan(part * record_rows, record_rows));
    rocksdb::Status s = batch.Put(log->handle, ToSlice(key), ToSlice(value));
    if (!s.ok()) return FromRocks(s, what);
  }
  rocksdb::WriteOptions options;
  options.sync = true;
  return Wrote(db_->Write(options, &batch), what);
}

absl::Status RocksMeshStore::CheckpointSource(const std::string& source,
                                              uint64_t upto) {
  return CheckpointLog(&source_log_, source, upto);
}

absl::Status RocksMeshStore::CheckpointProductChanges(
    const std::string& product, uint64_t upto) {
  return CheckpointLog(&product_log_, product, upto);
}

absl::Status RocksMeshStore::VisitLog(
    const Log& log, const std::string& id,
    const std::function<bool(absl::string_view key, uint64_t sequence,
                             SourceBatch batch)>& visit) const {
  const std::string prefix = LogPrefix(id);
  bool first = true;
  uint64_t previous = 0;
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), log.handle));
  for (it->Seek(prefix);
       it->Valid() && absl::StartsWith(View(it->key()), prefix); it->Next()) {
    absl::string_view key = View(it->key());
    DM_ASSIGN_OR_RETURN(LogKeyParts parts,
                        ParseLogKey(log.family, log.noun, key));
    std::string where = LogRecordName(log.family, key, parts);
    if (!first && parts.sequence != previous + 1) {
      // Sequence numbers are assigned without gaps, so an acknowledged batch
      // was lost.
      std::string missing =
          parts.sequence == previous + 2
              ? absl::StrCat("batch #", previous + 1, " is missing")
              : absl::StrCat("batches #", previous + 1, " to #",
                             parts.sequence - 1, " are missing");
      return absl::DataLossError(absl::StrCat(where, ": ", missing));
    }
    DM_ASSIGN_OR_RETURN(SourceBatch batch,
                        DecodeSourceBatch(View(it->value()), where));
    first = false;
    previous = parts.sequence;
    if (!visit(key, parts.sequence, std::move(batch))) break;
  }
  return FromRocks(it->status(),
                   absl::StrCat("reading the ", log.family, " of ",
                                absl::CHexEscape(id), " in '", path_, "'"));
}

absl::StatusOr<std::vector<SourceBatch>> RocksMeshStore::ReadSourceBatches(
    const std::string& source) {
  DM_RETURN_IF_ERROR(ResumeAfterFailure());
  DM_RETURN_IF_ERROR(CheckLogId(source_log_.noun, source));
  std::vector<SourceBatch> batches;
  DM_RETURN_IF_ERROR(VisitLog(
      source_log_, source, [&](absl::string_view, uint64_t, SourceBatch batch) {
        batches.push_back(std::move(batch));
        return true;
      }));
  return batches;
}

absl::StatusOr<std::vector<SourceBatch>> RocksMeshStore::ReadProductChanges(
    const std::string& product, uint64_t upto) {
  DM_RETURN_IF_ERROR(CheckLogId(product_log_.noun, product));
  // Any thread: no resume here (the owner's next call does it), only a
  // hold on the database against its being opened again or closed.
  std::shared_lock<std::shared_mutex> lock(db_mu_);
  if (db_ == nullptr || product_log_.handle == nullptr) {
    return absl::UnavailableError(absl::StrCat(
        "mesh store at '", path_, "' is closed after a failed write"));
  }
  std::vector<SourceBatch> batches;
  DM_RETURN_IF_ERROR(
      VisitLog(product_log_, product,
               [&](absl::string_view, uint64_t, SourceBatch batch) {
                 if (batch.time > upto) return false;
                 batches.push_back(std::move(batch));
                 return true;
               }));
  return batches;
}

absl::Status RocksMeshStore::DropProductChanges() {
  DM_RETURN_IF_ERROR(ResumeAfterFailure());
  const std::string what =
      absl::StrCat("dropping the ", product_log_.family, " in '", path_, "'");
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), product_log_.handle));
  it->SeekToFirst();
  if (!it->Valid()) return FromRocks(it->status(), what);
  const std::string first(View(it->key()));
  it->SeekToLast();
  if (!it->Valid()) return FromRocks(it->status(), what);
  const std::string last(View(it->key()));
  it.reset();
  rocksdb::WriteBatch batch;
  rocksdb::Status s =
      batch.DeleteRange(product_log_.handle, ToSlice(first), ToSlice(last));
  if (s.ok()) s = batch.Delete(product_log_.handle, ToSlice(last));
  if (!s.ok()) return FromRocks(s, what);
  rocksdb::WriteOptions options;
  options.sync = true;
  DM_RETURN_IF_ERROR(Wrote(db_->Write(options, &batch), what));
  product_log_.next_sequence.clear();
  return absl::OkStatus();
}

absl::Status RocksMeshStore::PutProducts(
    const std::vector<StoredProduct>& products) {
  DM_RETURN_IF_ERROR(ResumeAfterFailure());
  for (const StoredProduct& p : products) DM_RETURN_IF_ERROR(CheckStorable(p));
  if (products.empty()) return absl::OkStatus();
  std::string what = absl::StrCat(
      "writing ",
      RecordName(kCatalogFamily, products[0].descriptor.VersionedId()));
  if (products.size() > 1) {
    absl::StrAppend(&what, " and ", products.size() - 1, " more");
  }
  return WriteRecords(
      catalog_, products.size(),
      [&](size_t i, std::string* key, std::string* value) {
        *key = products[i].descriptor.VersionedId();
        *value = EncodeStoredProduct(products[i]);
      },
      what);
}

absl::StatusOr<std::vector<StoredProduct>> RocksMeshStore::ReadProducts() {
  DM_RETURN_IF_ERROR(ResumeAfterFailure());
  std::vector<StoredProduct> products;
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), catalog_));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    absl::string_view key = View(it->key());
    std::string where = RecordName(kCatalogFamily, key);
    DM_ASSIGN_OR_RETURN(StoredProduct product,
                        DecodeStoredProduct(View(it->value()), where));
    // A record under another product's key would shadow or duplicate it.
    if (product.descriptor.VersionedId() != key) {
      return absl::DataLossError(absl::StrCat(
          where, ": holds product ", product.descriptor.VersionedId()));
    }
    products.push_back(std::move(product));
  }
  DM_RETURN_IF_ERROR(FromRocks(
      it->status(), absl::StrCat("reading the catalog in '", path_, "'")));
  // Key order is not (id, version) order: "a.b2@1.0" sorts before
  // "a.b@1.0" and "x@10.0" before "x@2.0".
  std::sort(products.begin(), products.end(),
            [](const StoredProduct& a, const StoredProduct& b) {
              return std::tie(a.descriptor.id, a.descriptor.version) <
                     std::tie(b.descriptor.id, b.descriptor.version);
            });
  return products;
}

absl::Status RocksMeshStore::PutNextTime(uint64_t time) {
  DM_RETURN_IF_ERROR(ResumeAfterFailure());
  return SyncedPut(
      meta_, kNextTimeKey, BigEndian(time),
      absl::StrCat("writing ", RecordName(kMetaFamily, kNextTimeKey)));
}

absl::StatusOr<uint64_t> RocksMeshStore::ReadNextTime() {
  DM_RETURN_IF_ERROR(ResumeAfterFailure());
  std::string value;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), meta_, kNextTimeKey, &value);
  if (s.IsNotFound()) return 0;
  std::string where = RecordName(kMetaFamily, kNextTimeKey);
  DM_RETURN_IF_ERROR(FromRocks(s, absl::StrCat("reading ", where)));
  if (value.size() != kSequenceBytes) {
    return absl::DataLossError(
        absl::StrCat(where, ": not an 8-byte time (", value.size(), " bytes)"));
  }
  return FromBigEndian(value);
}

}  // namespace diffmesh
