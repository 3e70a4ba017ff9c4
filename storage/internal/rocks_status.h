// RocksDB statuses as absl::Status, for the stores in storage/.
//
//   DM_RETURN_IF_ERROR(FromRocks(db->Put(options, key, value), "put 'k'"));
//
// Corruption is DataLoss, NotFound stays NotFound, a full disk is
// ResourceExhausted, other I/O errors are Unavailable (they may pass),
// anything else Internal; the message starts with `what`.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "rocksdb/status.h"

namespace diffmesh::internal {

inline absl::Status FromRocks(const rocksdb::Status& s,
                              absl::string_view what) {
  if (s.ok()) return absl::OkStatus();
  std::string message = absl::StrCat(what, ": ", s.ToString());
  if (s.IsCorruption()) return absl::DataLossError(message);
  if (s.IsNotFound()) return absl::NotFoundError(message);
  if (s.IsNoSpace()) return absl::ResourceExhaustedError(message);
  if (s.IsIOError()) return absl::UnavailableError(message);
  return absl::InternalError(message);
}

}  // namespace diffmesh::internal
