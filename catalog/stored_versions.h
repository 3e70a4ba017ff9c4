// StoredVersions: the data versions of a mesh's products that it keeps in
// its store rather than in memory (MeshOptions::versions_in_memory). As a
// time closes, worker 0 appends each product's change at that time to the
// product's change log (MeshStore::AppendProductChanges) and folds the log
// up to the product's oldest retained version now and then; a snapshot
// reads an older version's rows back from the log, on any thread.
//
//   auto stored = std::make_shared<StoredVersions>(store);
//   DM_RETURN_IF_ERROR(stored->Append({{"sales.orders", &delta}}));
//   DM_ASSIGN_OR_RETURN(std::vector<Row> rows,
//                       stored->RowsAsOf("sales.orders", /*time=*/12));
//   stored->Detach();                 // the mesh closes: reads now fail
//
// Thread-safety: Append, Checkpoint and Detach on one thread (worker 0's);
// RowsAsOf from any thread, also while those run.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "catalog/mesh_store.h"
#include "catalog/row.h"

namespace diffmesh {

class StoredVersions {
 public:
  // `store` outlives the calls before Detach; `first_time` is the first
  // time of this run (the store holds no change before it).
  StoredVersions(MeshStore* store, uint64_t first_time)
      : store_(store), first_time_(first_time) {}

  // Appends the changes, all or none (MeshStore::AppendProductChanges).
  absl::Status Append(const std::vector<ProductAppend>& appends);
  // Folds the log of each product that had `after` changes appended since
  // its last fold, up to oldest(product) (its oldest retained version's
  // time; none: left as it is). 0: never.
  absl::Status Checkpoint(
      size_t after,
      const std::function<std::optional<uint64_t>(const std::string&)>& oldest);

  // Product `id`'s rows as of `time`, the time of one of its data
  // versions: sorted, a row as often as it is present. NotFound when the
  // log no longer tells that time apart (folded into a later checkpoint,
  // or never appended); FailedPrecondition after Detach; the store's
  // errors (DataLoss naming the record) as they come.
  absl::StatusOr<std::vector<Row>> RowsAsOf(const std::string& id,
                                            uint64_t time) const;
  // Product `id`'s changes at each time from `from` through `through`, one
  // batch per time that changed it, in time order (a subscription resumed
  // from before what memory holds). OutOfRange when the store does not
  // tell those times apart (before this run, or folded into a checkpoint);
  // other errors as RowsAsOf.
  absl::StatusOr<std::vector<SourceBatch>> Changes(const std::string& id,
                                                   uint64_t from,
                                                   uint64_t through) const;

  // The mesh closes (its store may go next): RowsAsOf fails from now on,
  // once the reads under way are done.
  void Detach();

 private:
  mutable std::shared_mutex mu_;  // held shared while reading store_
  MeshStore* store_;
  const uint64_t first_time_;
  std::map<std::string, size_t> since_checkpoint_;
  // Under mu_: the time up to which each product's log was folded.
  std::map<std::string, uint64_t> folded_through_;
};

}  // namespace diffmesh
