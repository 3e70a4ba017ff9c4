// MeshHistory: what a mesh's dataflows capture -- product rows, quarantine,
// the catalog, lineage, the search index and the lineage closure -- kept as
// changes while their time is open, and turned, when a time closes on
// every worker, into a snapshot (catalog/mesh_snapshot.h), data versions,
// subscription updates (catalog/subscription.h) and the text change feed.
//
//   MeshHistory history({.retained_versions = 16, .log_events = 1 << 16});
//   history.AddRow("sales.orders", row, /*time=*/4, +1);   // captures
//   history.Close(/*time=*/4);            // on one worker, every capture in
//   history.reader().Latest()->Read("sales.orders");
//
// Data versions. Each time at which a product's rows changed (their
// consolidated delta is not empty) is its next data version; the last
// `retained_versions` of them are retained. The rows at each are kept in
// memory (as shared runs), or, with `versions_in_memory` > 0, at the
// newest that many only: Close hands out each version's change for the
// store, and once Stored says a time is stored, the rows of versions up to
// it are dropped from memory and read from the store
// (catalog/stored_versions.h).
// Thread compatibility: Add* and Close from one thread at a time (the
// mesh's group lock); reader() is for any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "catalog/counted_runs.h"
#include "catalog/descriptor.h"
#include "catalog/lineage.h"
#include "catalog/mesh_reader.h"
#include "catalog/mesh_snapshot.h"
#include "catalog/mesh_store.h"
#include "catalog/row.h"
#include "catalog/source_health.h"
#include "catalog/subscription.h"
#include "engine/update.h"

namespace diffmesh {

// A consolidated change one Advance made to something a user watches, as
// text (the change feed; Subscribe gives the typed events).
struct MeshChange {
  uint64_t time = 0;
  // "catalog", "lineage", "product <id>", "quarantine <id>" or "source
  // <id>" (a source status: "ok" or "failing: CODE: message").
  std::string stream;
  int64_t diff = 0;
  std::string text;  // the record, readable

  friend auto operator<=>(const MeshChange&, const MeshChange&) = default;
};

// "id@1.0 tier=... owner=... ..." as the change feed writes a descriptor.
std::string DescribeDescriptor(const ProductDescriptor& d);

class MeshHistory {
 public:
  struct Options {
    int retained_versions = 16;
    size_t log_events = size_t{1} << 16;  // kept for subscription resumes
    int versions_in_memory = 0;           // 0: all retained
    std::function<absl::Time()> clock;    // none: absl::Now
  };
  explicit MeshHistory(Options options);
  ~MeshHistory();

  void AddRow(const std::string& id, const Row& row, uint64_t time,
              int64_t diff);
  // The same for a captured batch (one lookup of the product).
  void AddRows(const std::string& id,
               const std::vector<Update<Row, uint64_t, int64_t>>& batch);
  void AddQuarantine(const std::string& id, const Row& row, uint64_t time,
                     int64_t diff);
  void AddDescriptor(const ProductDescriptor& d, uint64_t time, int64_t diff);
  void AddEdge(const LineageEdge& e, uint64_t time, int64_t diff);
  void AddToken(const std::pair<std::string, std::string>& token_id,
                uint64_t time, int64_t diff);
  void AddReach(const std::pair<ColumnRef, ColumnRef>& from_to, uint64_t time,
                int64_t diff);
  // Source `id` was polled at the open time `time`, with `status`:
  // returns its status now (ApplyPoll). A change of it is a change at
  // that time (the old status retracted, the new inserted), and the next
  // snapshot holds it.
  SourceStatus RecordPoll(const std::string& id, const absl::Status& status,
                          uint64_t time);
  // The round that closes at the next Close took `seconds`.
  void AddRound(double seconds) { now_.rounds.Add(seconds); }
  // The product whose rows decide reads for principals, from the next
  // snapshot on (MeshSnapshot::Parts::access_product).
  void SetAccessProduct(const std::string& id) { now_.access_product = id; }
  // Marks `id`'s rows as captured in this run (Read finds them, empty, from
  // the next snapshot on).
  // With `rows_kept` false, only its quarantine is: reads of its rows are
  // FailedPrecondition (SourceOptions::keep_rows).
  void Declare(const std::string& id, bool rows_kept = true);

  // Closes every time at or before `time` (REQUIRES: every worker's
  // captures for them are in; `time` grows from call to call): data
  // versions, a new snapshot, one subscription update per time, and, when
  // `changes` is not null, their text appended to it. With
  // versions_in_memory, `versions` (not null) gets each new data version's
  // change, by product, for the store.
  void Close(
      uint64_t time, std::vector<MeshChange>* changes,
      std::vector<std::pair<std::string, SourceBatch>>* versions = nullptr);
  // The changes Close handed out for times up to `time` are in the store
  // (read through `stored` from the next snapshot on).
  void Stored(uint64_t time, std::shared_ptr<const StoredVersions> stored);

  // Subscriptions resume from `time` on at the earliest (see
  // SubscriptionHub::ForgetBefore).
  void ForgetBefore(uint64_t time) { hub_->ForgetBefore(time); }
  // `id`'s versions closed more than `max_age` before a Close are let go
  // there (the newest stays); nullopt: none is, for its age.
  void SetRetention(const std::string& id,
                    std::optional<absl::Duration> max_age);
  // The time of `id`'s oldest retained data version (none: no version).
  std::optional<uint64_t> OldestRetainedTime(const std::string& id) const;

  MeshReader reader() const { return MeshReader(board_, hub_); }
  std::shared_ptr<const MeshSnapshot> Latest() const {
    return board_->Latest();
  }

 private:
  struct Product {
    TimedChanges<Row> open_rows;
    TimedChanges<Row> open_quarantine;
    ProductRows now;
    int next_version = 1;
    std::shared_ptr<const ProductRows> published;
    bool changed = false;  // since the last snapshot
  };
  // The update of time `t` in `updates` (created in time order).
  MeshUpdate& UpdateAt(std::map<uint64_t, MeshUpdate>* updates, uint64_t t);

  const Options options_;
  std::map<std::string, Product> products_;
  TimedChanges<ProductDescriptor> open_catalog_;
  TimedChanges<LineageEdge> open_lineage_;
  TimedChanges<std::pair<std::string, std::string>> open_search_;
  TimedChanges<std::pair<ColumnRef, ColumnRef>> open_closure_;
  std::vector<std::pair<SourceStatus, int64_t>> open_sources_;
  MeshSnapshot::Parts now_;
  std::map<std::string, SourceStatus> sources_;
  bool sources_changed_ = false;
  std::optional<uint64_t> stored_through_;           // see Stored
  std::map<std::string, absl::Duration> retention_;  // see SetRetention
  std::shared_ptr<SnapshotBoard> board_;
  std::shared_ptr<SubscriptionHub> hub_;
};

}  // namespace diffmesh
