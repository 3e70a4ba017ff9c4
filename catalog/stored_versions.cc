#include "catalog/stored_versions.h"

#include <algorithm>
#include <mutex>
#include <utility>

#include "absl/strings/str_cat.h"
#include "catalog/source.h"
#include "engine/status_macros.h"

namespace diffmesh {

absl::Status StoredVersions::Append(const std::vector<ProductAppend>& appends) {
  if (appends.empty()) return absl::OkStatus();
  DM_RETURN_IF_ERROR(store_->AppendProductChanges(appends));
  for (const ProductAppend& a : appends) ++since_checkpoint_[a.product];
  return absl::OkStatus();
}

absl::Status StoredVersions::Checkpoint(
    size_t after,
    const std::function<std::optional<uint64_t>(const std::string&)>& oldest) {
  if (after == 0) return absl::OkStatus();
  for (auto& [id, appended] : since_checkpoint_) {
    if (appended < after) continue;
    const std::optional<uint64_t> upto = oldest(id);
    if (!upto) continue;
    DM_RETURN_IF_ERROR(store_->CheckpointProductChanges(id, *upto));
    appended = 0;
    std::unique_lock<std::shared_mutex> lock(mu_);
    folded_through_[id] = *upto;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Row>> StoredVersions::RowsAsOf(const std::string& id,
                                                          uint64_t time) const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  if (store_ == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("the rows of ", id, " as of time ", time,
                     " are kept in the store of a mesh that is closed"));
  }
  DM_ASSIGN_OR_RETURN(std::vector<SourceBatch> batches,
                      store_->ReadProductChanges(id, time));
  // A version's time is a time its rows changed at: its change is the
  // last one read, or a checkpoint ends there.
  if (batches.empty() || batches.back().time != time) {
    return absl::NotFoundError(absl::StrCat(
        "the store no longer holds the rows of ", id, " as of time ", time,
        " (folded into a later checkpoint, or never written)"));
  }
  RowDiffs sum;
  for (SourceBatch& batch : batches) {
    for (auto& update : batch.updates) sum.push_back(std::move(update));
  }
  ConsolidateRowDiffs(&sum);
  std::vector<Row> rows;
  for (const auto& [row, n] : sum) {
    if (n < 0) {
      return absl::DataLossError(
          absl::StrCat("the stored changes of ", id, " up to time ", time,
                       " leave row ", RowDebugString(row), " at count ", n));
    }
    for (int64_t i = 0; i < n; ++i) rows.push_back(row);
  }
  return rows;
}

absl::StatusOr<std::vector<SourceBatch>> StoredVersions::Changes(
    const std::string& id, uint64_t from, uint64_t through) const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  if (store_ == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("the changes of ", id,
                     " are kept in the store of a mesh that is "
                     "closed"));
  }
  uint64_t exact_from = first_time_;
  if (auto it = folded_through_.find(id); it != folded_through_.end()) {
    exact_from = std::max(exact_from, it->second + 1);
  }
  if (from < exact_from) {
    return absl::OutOfRangeError(absl::StrCat(
        "the store holds the changes of ", id, " one time at a time from time ",
        exact_from, " on, not from ", from));
  }
  DM_ASSIGN_OR_RETURN(std::vector<SourceBatch> batches,
                      store_->ReadProductChanges(id, through));
  std::vector<SourceBatch> out;
  for (SourceBatch& batch : batches) {
    if (batch.time < from) continue;
    // A large change is stored as several records of its time.
    if (!out.empty() && out.back().time == batch.time) {
      for (auto& u : batch.updates) out.back().updates.push_back(std::move(u));
      ConsolidateRowDiffs(&out.back().updates);
    } else {
      out.push_back(std::move(batch));
    }
  }
  return out;
}

void StoredVersions::Detach() {
  std::unique_lock<std::shared_mutex> lock(mu_);
  store_ = nullptr;
}

}  // namespace diffmesh
