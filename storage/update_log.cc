#include "storage/update_log.h"

#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "schemas/update_log_generated.h"
#include "storage/internal/rocks_status.h"

namespace diffmesh {
namespace {

// Keys are "b" + 16 hex digits, so lexicographic order is append order.
std::string KeyFor(uint64_t seq) {
  char buf[18];
  std::snprintf(buf, sizeof(buf), "b%016llx",
                static_cast<unsigned long long>(seq));
  return std::string(buf, 17);
}

using internal::FromRocks;

}  // namespace

std::string EncodeUpdateBatch(const std::vector<LogUpdate>& batch) {
  flatbuffers::FlatBufferBuilder builder(64 + batch.size() * 32);
  std::vector<flatbuffers::Offset<fbs::UpdateRecord>> records;
  records.reserve(batch.size());
  for (const LogUpdate& u : batch) {
    auto fields = builder.CreateVector(u.fields);
    records.push_back(fbs::CreateUpdateRecord(builder, u.time, u.diff, fields));
  }
  auto root = fbs::CreateUpdateBatch(builder, builder.CreateVector(records));
  fbs::FinishUpdateBatchBuffer(builder, root);
  return std::string(reinterpret_cast<const char*>(builder.GetBufferPointer()),
                     builder.GetSize());
}

absl::StatusOr<std::vector<LogUpdate>> DecodeUpdateBatch(
    absl::string_view bytes, absl::string_view where) {
  // FlatBuffers reads scalars in place: give it 8-byte aligned storage
  // (RocksDB values and strings carry no alignment promise).
  std::vector<uint64_t> aligned((bytes.size() + 7) / 8);
  if (!bytes.empty()) std::memcpy(aligned.data(), bytes.data(), bytes.size());
  bytes = absl::string_view(reinterpret_cast<const char*>(aligned.data()),
                            bytes.size());
  flatbuffers::Verifier verifier(reinterpret_cast<const uint8_t*>(bytes.data()),
                                 bytes.size());
  if (!fbs::VerifyUpdateBatchBuffer(verifier)) {
    return absl::DataLossError(absl::StrCat(
        where, ": not a valid update batch (", bytes.size(), " bytes)"));
  }
  const fbs::UpdateBatch* root = fbs::GetUpdateBatch(bytes.data());
  std::vector<LogUpdate> out;
  if (root->updates() == nullptr) return out;
  out.reserve(root->updates()->size());
  for (const fbs::UpdateRecord* r : *root->updates()) {
    LogUpdate u;
    u.time = r->time();
    u.diff = r->diff();
    if (r->fields() != nullptr)
      u.fields.assign(r->fields()->begin(), r->fields()->end());
    out.push_back(std::move(u));
  }
  return out;
}

UpdateLog::UpdateLog(std::unique_ptr<rocksdb::DB> db, uint64_t next_seq)
    : db_(std::move(db)), next_seq_(next_seq) {}

UpdateLog::~UpdateLog() = default;

absl::StatusOr<std::unique_ptr<UpdateLog>> UpdateLog::Open(
    const std::string& path) {
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  absl::Status s = FromRocks(rocksdb::DB::Open(options, path, &raw),
                             absl::StrCat("opening update log at ", path));
  if (!s.ok()) return s;
  std::unique_ptr<rocksdb::DB> db(raw);
  uint64_t next = 1;
  std::unique_ptr<rocksdb::Iterator> it(
      db->NewIterator(rocksdb::ReadOptions()));
  it->SeekToLast();
  if (it->Valid()) {
    std::string key = it->key().ToString();
    unsigned long long last = 0;
    if (key.size() != 17 || key[0] != 'b' ||
        std::sscanf(key.c_str() + 1, "%llx", &last) != 1) {
      return absl::DataLossError(
          absl::StrCat(path, ": foreign key '", key, "' in update log"));
    }
    next = last + 1;
  }
  return std::unique_ptr<UpdateLog>(new UpdateLog(std::move(db), next));
}

absl::StatusOr<uint64_t> UpdateLog::Append(
    const std::vector<LogUpdate>& batch) {
  uint64_t seq = next_seq_;
  absl::Status s = PutRaw(seq, EncodeUpdateBatch(batch));
  if (!s.ok()) return s;
  return seq;
}

absl::Status UpdateLog::PutRaw(uint64_t seq, absl::string_view bytes) {
  rocksdb::WriteOptions options;
  options.sync = true;
  std::string key = KeyFor(seq);
  absl::Status s = FromRocks(
      db_->Put(options, key, rocksdb::Slice(bytes.data(), bytes.size())),
      absl::StrCat("writing ", key));
  if (s.ok() && seq >= next_seq_) next_seq_ = seq + 1;
  return s;
}

absl::StatusOr<std::vector<std::vector<LogUpdate>>> UpdateLog::ReadAll() const {
  std::vector<std::vector<LogUpdate>> batches;
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    std::string key = it->key().ToString();
    auto batch = DecodeUpdateBatch(
        absl::string_view(it->value().data(), it->value().size()),
        absl::StrCat("record ", key));
    if (!batch.ok()) return batch.status();
    batches.push_back(*std::move(batch));
  }
  absl::Status s = FromRocks(it->status(), "reading update log");
  if (!s.ok()) return s;
  return batches;
}

}  // namespace diffmesh
