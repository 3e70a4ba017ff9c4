// MeshSources: a mesh's file sources on one worker -- their dataflow
// inputs, the logged batches they replay at the first Advance, their polls
// (read the files, make the difference durable, feed it) and the
// checkpoints of their logs.
//
//   MeshSources sources;
//   sources.Add("sales.orders", std::move(files), rows_in, quarantine_in,
//               std::move(logged));
//   sources.Replay(time, /*feeder=*/true);        // the first Advance
//   DM_RETURN_IF_ERROR(sources.Poll(time, store, health, &report));
//   sources.AdvanceTo(time + 1);
//
// Only worker 0 holds the files (and polls); every worker holds the inputs
// and advances them. Poll's durability: every source's difference of one
// time is logged by one store call before any of it is fed, so a crash
// leaves a time's changes wholly logged or not at all; a failed write
// leaves every source as it was, for the next poll. A source whose files
// cannot be read is reported to `health` and left as it was (its rows
// held); the others go on.
// Thread compatibility: one caller (the worker's thread).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "catalog/mesh_store.h"
#include "catalog/row.h"
#include "catalog/source.h"
#include "engine/input.h"

namespace diffmesh {

struct RefreshReport;

class MeshSources {
 public:
  // Called once per source and poll with the poll's outcome (OK, or the
  // error naming the source); returns nothing, records the status.
  using Health =
      std::function<void(const std::string& id, const absl::Status& status)>;

  // What opening source `id` finds on worker 0: its files and their
  // schema, the batches the store logged for it (to replay), and 1 + the
  // time of the latest of them (0: none).
  struct Opened {
    std::unique_ptr<FileSource> files;
    Schema schema;
    std::vector<SourceBatch> logged;
    uint64_t after_log = 0;
  };
  // Opens the files (FileSource::Open's errors, naming the source) and
  // reads the log from `store` (may be null; its errors as they come). A
  // log whose rows do not fit `declared` (the descriptor's schema, or the
  // files' when empty) is FailedPrecondition: a source's schema cannot
  // change across a restart.
  static absl::StatusOr<Opened> Open(const std::string& id,
                                     const SourceOptions& options,
                                     const Schema& declared, MeshStore* store);

  bool Contains(const std::string& id) const { return sources_.count(id) > 0; }
  std::vector<std::string> Ids() const;

  // `files` is null on workers other than 0; `logged`: the batches the
  // store holds for the source, to replay at the first Advance.
  void Add(const std::string& id, std::unique_ptr<FileSource> files,
           InputHandle<Row> rows, InputHandle<Row> quarantine,
           std::vector<SourceBatch> logged);

  // Feeds every source's logged batches at their times (on the feeder)
  // and tells its reader they are its rows; then advances the inputs to
  // `time`. Sources added since the last Replay only.
  void Replay(uint64_t time, bool feeder);
  // Polls every source (worker 0): see the banner. Errors: the store's.
  absl::Status Poll(uint64_t time, MeshStore* store, const Health& health,
                    RefreshReport* report);
  void AdvanceTo(uint64_t next);

  // Folds the log of every source with at least `after` batches logged
  // since its last checkpoint up to oldest(id) (none: skipped).
  absl::Status Checkpoint(
      MeshStore* store, size_t after,
      const std::function<std::optional<uint64_t>(const std::string&)>& oldest);

  // NotFound if `id` is not a source.
  absl::Status AcceptFiles(const std::string& id);

 private:
  struct Source {
    std::unique_ptr<FileSource> files;  // worker 0 only
    InputHandle<Row> rows;
    InputHandle<Row> quarantine;
    std::vector<SourceBatch> logged;  // to replay when the mesh starts
    bool replayed = false;
    size_t logged_since_checkpoint = 0;  // worker 0's count
  };
  std::map<std::string, Source> sources_;
};

}  // namespace diffmesh
