// FaultFileSystem: a RocksDB file system for tests that makes the n-th
// write, sync or read fail from a chosen moment on, until disarmed (a disk
// that fails, or fills up, and is then fixed).
//
//   auto fs = std::make_shared<FaultFileSystem>();
//   std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(fs);
//   auto store = RocksMeshStore::Open(dir, {.env = env.get()});
//   fs->Arm(FaultFileSystem::Op::kSync, 1, rocksdb::IOStatus::IOError("x"));
//   ... every sync fails ...
//   fs->Disarm();
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "rocksdb/env.h"
#include "rocksdb/file_system.h"

namespace diffmesh::testing {

class FaultFileSystem : public rocksdb::FileSystemWrapper {
 public:
  enum class Op { kWrite, kSync, kRead };

  FaultFileSystem() : FileSystemWrapper(rocksdb::FileSystem::Default()) {}
  const char* Name() const override { return "FaultFileSystem"; }

  // From the nth `op` after this call on, every `op` fails with `status`.
  // A failing write with `torn` writes the first half of its data first.
  void Arm(Op op, int64_t nth, rocksdb::IOStatus status, bool torn = false) {
    std::lock_guard<std::mutex> lock(mu_);
    op_ = op;
    left_ = nth;
    status_ = std::move(status);
    torn_ = torn;
    armed_ = true;
  }
  void Disarm() {
    std::lock_guard<std::mutex> lock(mu_);
    armed_ = false;
  }
  // How many operations failed since the last Arm.
  int64_t failed() const { return failed_; }

  // OK, or the injected failure for this call of `op`.
  rocksdb::IOStatus Check(Op op, bool* torn) {
    std::lock_guard<std::mutex> lock(mu_);
    *torn = false;
    if (!armed_ || op != op_) return rocksdb::IOStatus::OK();
    if (left_ > 1) {
      --left_;
      return rocksdb::IOStatus::OK();
    }
    ++failed_;
    *torn = torn_;
    return status_;
  }

  rocksdb::IOStatus NewWritableFile(
      const std::string& name, const rocksdb::FileOptions& options,
      std::unique_ptr<rocksdb::FSWritableFile>* result,
      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReopenWritableFile(
      const std::string& name, const rocksdb::FileOptions& options,
      std::unique_ptr<rocksdb::FSWritableFile>* result,
      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus NewRandomAccessFile(
      const std::string& name, const rocksdb::FileOptions& options,
      std::unique_ptr<rocksdb::FSRandomAccessFile>* result,
      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus NewSequentialFile(
      const std::string& name, const rocksdb::FileOptions& options,
      std::unique_ptr<rocksdb::FSSequentialFile>* result,
      rocksdb::IODebugContext* dbg) override;

 private:
  std::mutex mu_;
  bool armed_ = false;
  Op op_ = Op::kWrite;
  int64_t left_ = 0;
  rocksdb::IOStatus status_;
  bool torn_ = false;
  std::atomic<int64_t> failed_{0};
};

namespace internal {

class FaultWritableFile : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  FaultWritableFile(std::unique_ptr<rocksdb::FSWritableFile> file,
                    FaultFileSystem* fs)
      : FSWritableFileOwnerWrapper(std::move(file)), fs_(fs) {}
  rocksdb::IOStatus Append(const rocksdb::Slice& data,
                           const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* dbg) override {
    bool torn = false;
    rocksdb::IOStatus s = fs_->Check(FaultFileSystem::Op::kWrite, &torn);
    if (!s.ok()) {
      if (torn) {
        target()
            ->Append(rocksdb::Slice(data.data(), data.size() / 2), options, dbg)
            .PermitUncheckedError();
      }
      return s;
    }
    return target()->Append(data, options, dbg);
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& data,
                           const rocksdb::IOOptions& options,
                           const rocksdb::DataVerificationInfo&,
                           rocksdb::IODebugContext* dbg) override {
    return Append(data, options, dbg);
  }
  rocksdb::IOStatus Sync(const rocksdb::IOOptions& options,
                         rocksdb::IODebugContext* dbg) override {
    bool torn = false;
    rocksdb::IOStatus s = fs_->Check(FaultFileSystem::Op::kSync, &torn);
    return s.ok() ? target()->Sync(options, dbg) : s;
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override {
    bool torn = false;
    rocksdb::IOStatus s = fs_->Check(FaultFileSystem::Op::kSync, &torn);
    return s.ok() ? target()->Fsync(options, dbg) : s;
  }

 private:
  FaultFileSystem* fs_;
};

class FaultRandomAccessFile : public rocksdb::FSRandomAccessFileOwnerWrapper {
 public:
  FaultRandomAccessFile(std::unique_ptr<rocksdb::FSRandomAccessFile> file,
                        FaultFileSystem* fs)
      : FSRandomAccessFileOwnerWrapper(std::move(file)), fs_(fs) {}
  rocksdb::IOStatus Read(uint64_t offset, size_t n,
                         const rocksdb::IOOptions& options,
                         rocksdb::Slice* result, char* scratch,
                         rocksdb::IODebugContext* dbg) const override {
    bool torn = false;
    rocksdb::IOStatus s = fs_->Check(FaultFileSystem::Op::kRead, &torn);
    return s.ok() ? target()->Read(offset, n, options, result, scratch, dbg)
                  : s;
  }

 private:
  FaultFileSystem* fs_;
};

class FaultSequentialFile : public rocksdb::FSSequentialFileOwnerWrapper {
 public:
  FaultSequentialFile(std::unique_ptr<rocksdb::FSSequentialFile> file,
                      FaultFileSystem* fs)
      : FSSequentialFileOwnerWrapper(std::move(file)), fs_(fs) {}
  rocksdb::IOStatus Read(size_t n, const rocksdb::IOOptions& options,
                         rocksdb::Slice* result, char* scratch,
                         rocksdb::IODebugContext* dbg) override {
    bool torn = false;
    rocksdb::IOStatus s = fs_->Check(FaultFileSystem::Op::kRead, &torn);
    return s.ok() ? target()->Read(n, options, result, scratch, dbg) : s;
  }

 private:
  FaultFileSystem* fs_;
};

}  // namespace internal

inline rocksdb::IOStatus FaultFileSystem::NewWritableFile(
    const std::string& name, const rocksdb::FileOptions& options,
    std::unique_ptr<rocksdb::FSWritableFile>* result,
    rocksdb::IODebugContext* dbg) {
  std::unique_ptr<rocksdb::FSWritableFile> file;
  rocksdb::IOStatus s = target()->NewWritableFile(name, options, &file, dbg);
  if (s.ok()) {
    *result =
        std::make_unique<internal::FaultWritableFile>(std::move(file), this);
  }
  return s;
}

inline rocksdb::IOStatus FaultFileSystem::ReopenWritableFile(
    const std::string& name, const rocksdb::FileOptions& options,
    std::unique_ptr<rocksdb::FSWritableFile>* result,
    rocksdb::IODebugContext* dbg) {
  std::unique_ptr<rocksdb::FSWritableFile> file;
  rocksdb::IOStatus s = target()->ReopenWritableFile(name, options, &file, dbg);
  if (s.ok()) {
    *result =
        std::make_unique<internal::FaultWritableFile>(std::move(file), this);
  }
  return s;
}

inline rocksdb::IOStatus FaultFileSystem::NewRandomAccessFile(
    const std::string& name, const rocksdb::FileOptions& options,
    std::unique_ptr<rocksdb::FSRandomAccessFile>* result,
    rocksdb::IODebugContext* dbg) {
  std::unique_ptr<rocksdb::FSRandomAccessFile> file;
  rocksdb::IOStatus s =
      target()->NewRandomAccessFile(name, options, &file, dbg);
  if (s.ok()) {
    *result = std::make_unique<internal::FaultRandomAccessFile>(std::move(file),
                                                                this);
  }
  return s;
}

inline rocksdb::IOStatus FaultFileSystem::NewSequentialFile(
    const std::string& name, const rocksdb::FileOptions& options,
    std::unique_ptr<rocksdb::FSSequentialFile>* result,
    rocksdb::IODebugContext* dbg) {
  std::unique_ptr<rocksdb::FSSequentialFile> file;
  rocksdb::IOStatus s = target()->NewSequentialFile(name, options, &file, dbg);
  if (s.ok()) {
    *result =
        std::make_unique<internal::FaultSequentialFile>(std::move(file), this);
  }
  return s;
}

}  // namespace diffmesh::testing
