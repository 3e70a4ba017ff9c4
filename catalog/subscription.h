// Subscriptions: typed change events of a mesh, for many consumers at once,
// each at its own pace, from any thread, resumable from a time.
//
//   DM_ASSIGN_OR_RETURN(auto sub, mesh->Subscribe(
//       {.streams = {MeshStream::kProductRows}, .id = "sales.orders"}));
//   ... mesh->Refresh() on the worker's thread ...
//   absl::StatusOr<MeshEvents> next = sub->Next(absl::Seconds(1));
//   for (const MeshEvent& e : next->events) ... e.row(), e.diff ...
//
// Consistency: a closed time's events come together, once the time is
// closed on every worker of the mesh, in time order, consolidated (a row
// inserted and retracted at one time is no event).
// Resume: SubscribeOptions::from = a subscription's next_time() gives
// every change from that time on exactly once, while the mesh still holds
// those times (MeshOptions::subscription_log_events), or, for the rows of
// named products alone (streams = {kProductRows} with an id or rows_of),
// while its store holds them one time at a time
// (MeshOptions::versions_in_memory: from the oldest retained version on);
// older ones: OutOfRange, and the consumer starts again from a snapshot
// (Snapshot(), then Subscribe with .from = its time() + 1: nothing is missed or
// doubled). .from = 0 asks for every change since the mesh opened; after a
// restart from a store, changes before the restart time are not held (the
// restart replays them collapsed): resume from a snapshot then.
// A slow consumer: events wait in its buffer up to max_pending_events;
// beyond that it is told it fell behind (ResourceExhausted from then on,
// naming the time to resume from) instead of the mesh growing memory.
// A principal's subscription (SubscribeOptions::principal, through
// MeshReader or Mesh::Subscribe) follows one product's rows as the
// principal sees them (MeshSnapshot::ReadAs): each row projected, hidden
// columns left out, masked values hidden, consolidated. The view is the
// one of the snapshot it starts from; when the principal's access to the
// product (or the product's columns) changes at time t, the subscription
// gives every time before t and then Aborted naming t: the consumer reads
// the product again (ReadAs) and subscribes from that snapshot's time + 1,
// so a consumer that applies the events always holds what ReadAs gives.
// Thread-safety: Subscription and SubscriptionHub are thread-safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "catalog/column_access.h"
#include "catalog/counted_runs.h"
#include "catalog/descriptor.h"
#include "catalog/lineage.h"
#include "catalog/row.h"
#include "catalog/source_health.h"

namespace diffmesh {

class StoredVersions;  // catalog/stored_versions.h

enum class MeshStream {
  kProductRows,   // a product's rows: id = the product
  kQuarantine,    // a product's quarantine rows (QuarantineSchema())
  kCatalog,       // descriptors: id = the product
  kLineage,       // lineage edges: id = the product the edge goes into
  kSourceStatus,  // a source's status (old retracted, new inserted)
};
const char* MeshStreamName(MeshStream stream);  // "rows", "quarantine", ...

struct MeshEvent {
  uint64_t time = 0;
  MeshStream stream = MeshStream::kProductRows;
  std::string id;
  int64_t diff = 0;
  std::variant<Row, ProductDescriptor, LineageEdge, SourceStatus> record;

  // REQUIRES: the stream's record type.
  const Row& row() const { return std::get<Row>(record); }
  const ProductDescriptor& descriptor() const {
    return std::get<ProductDescriptor>(record);
  }
  const LineageEdge& edge() const { return std::get<LineageEdge>(record); }
  const SourceStatus& status() const { return std::get<SourceStatus>(record); }
};

// The events of one closed time that a subscription asked for.
struct MeshEvents {
  uint64_t time = 0;
  std::vector<MeshEvent> events;  // by stream, id, record order
};

// Everything one closed time changed, shared by every subscription.
struct MeshUpdate {
  struct ProductDelta {
    std::string id;
    CountedRuns<Row>::RunPtr rows;        // may be null: no change
    CountedRuns<Row>::RunPtr quarantine;  // may be null
  };
  uint64_t time = 0;
  std::vector<ProductDelta> products;  // by id
  CountedRuns<ProductDescriptor>::RunPtr catalog;
  CountedRuns<LineageEdge>::RunPtr lineage;
  std::vector<std::pair<SourceStatus, int64_t>> sources;

  size_t size() const;  // events, every stream
  bool empty() const { return size() == 0; }
};

struct SubscribeOptions {
  std::vector<MeshStream> streams;  // empty: every stream
  std::string id;                   // empty: every product and source
  // With no id: the products whose rows and quarantine are given (empty:
  // every product's); the other streams are given for every product.
  std::vector<std::string> rows_of;
  // The first time wanted; none: the next time to close.
  std::optional<uint64_t> from;
  // Events waiting to be taken before the subscription is dropped as
  // fallen behind (>= 1).
  size_t max_pending_events = size_t{1} << 20;
  // Set: the rows of product `id` as this principal sees them (above);
  // streams must be empty or rows alone.
  std::string principal;
};

// What a principal's subscription follows: its view of the product and
// the access product's entries that decide it (MeshReader fills it in).
struct AccessWatch {
  std::string access_product;  // empty: no access product, all shown
  ProductDescriptor product;
  std::vector<Row> entries;  // AccessEntries(principal, product)
  ProductView view;
};

class Subscription {
 public:
  // The next closed time with events for this subscription, waiting up to
  // `timeout`. DeadlineExceeded when none came in time; ResourceExhausted
  // once it fell behind (and every call after); Cancelled when the mesh is
  // gone and everything was taken.
  absl::StatusOr<MeshEvents> Next(absl::Duration timeout);
  // The same, without waiting (DeadlineExceeded when nothing is there).
  absl::StatusOr<MeshEvents> TryNext() { return Next(absl::ZeroDuration()); }
  // The first time this subscription has not been given (nor told had
  // nothing for it): where a new subscription resumes.
  uint64_t next_time() const;

  // Whether `update`'s events of `stream` and `id` are wanted.
  bool Wants(MeshStream stream, const std::string& id) const;

 private:
  friend class SubscriptionHub;
  Subscription(SubscribeOptions options, uint64_t from,
               std::optional<AccessWatch> watch)
      : options_(std::move(options)),
        from_(from),
        taken_next_(from),
        closed_next_(from),
        watch_(std::move(watch)) {}
  size_t Count(const MeshUpdate& update) const;
  MeshEvents Events(const MeshUpdate& update) const;
  // A principal's events; Aborted when the view changed at this time.
  absl::StatusOr<MeshEvents> WatchedEvents(const MeshUpdate& update);
  // The one filter both walk: block(stream, id, run) for each wanted
  // product delta, item(stream, id, diff, record) for each wanted catalog,
  // lineage and source status change.
  template <class Block, class Item>
  void ForEachWanted(const MeshUpdate& update, Block block, Item item) const;

  const SubscribeOptions options_;
  const uint64_t from_;  // times before it are not delivered
  mutable std::mutex mu_;
  std::condition_variable ready_;
  // Each waiting update with the number of events it holds for us.
  std::deque<std::pair<std::shared_ptr<const MeshUpdate>, size_t>> pending_;
  size_t pending_events_ = 0;
  uint64_t taken_next_;       // 1 + the last time taken
  uint64_t closed_next_;      // 1 + the hub's closed time when last told
  absl::Status fell_behind_;  // set once (also when access changed)
  bool hub_closed_ = false;
  // A principal's subscription; changed by the consumer taking events.
  std::mutex watch_mu_;
  std::optional<AccessWatch> watch_;
};

// The publishing side, owned by the mesh's workers (MeshGroup).
class SubscriptionHub {
 public:
  explicit SubscriptionHub(size_t log_events) : log_events_(log_events) {}
  ~SubscriptionHub();

  // OutOfRange when `from` is older than what the hub still holds;
  // InvalidArgument for bad options.
  absl::StatusOr<std::shared_ptr<Subscription>> Subscribe(
      SubscribeOptions options, std::optional<AccessWatch> watch = {});
  // Time `update.time` is closed on every worker: hands it to every
  // subscription that wants some of it and keeps it for resumes.
  // REQUIRES: times increase from call to call.
  void Publish(std::shared_ptr<const MeshUpdate> update);
  // No more updates: subscribers are told once they took what is left.
  void Close();
  // Changes before `time` cannot be served exactly (a restored mesh
  // replays its history collapsed): resumes from before it are OutOfRange.
  void ForgetBefore(uint64_t time);
  // Products' changes up to `through` are in `stored`: resumes of
  // products' rows from before the log are read from it.
  void Stored(std::shared_ptr<const StoredVersions> stored, uint64_t through);

  size_t subscribers() const;

 private:
  void Deliver(Subscription& sub,
               const std::shared_ptr<const MeshUpdate>& update);
  // The updates from `from` through dropped_through_ for a subscription to
  // products' rows alone, from the store; OutOfRange when they cannot be
  // served exactly. REQUIRES: mu_ held.
  absl::StatusOr<std::vector<std::shared_ptr<const MeshUpdate>>> StoredUpdates(
      const SubscribeOptions& options, uint64_t from) const;

  const size_t log_events_;
  mutable std::mutex mu_;
  std::vector<std::weak_ptr<Subscription>> subs_;
  std::deque<std::shared_ptr<const MeshUpdate>> log_;
  size_t logged_events_ = 0;
  // Changes at or before this time may have left the log (0: none has).
  uint64_t dropped_through_ = 0;
  bool dropped_ = false;
  uint64_t closed_ = 0;  // the last published time
  bool any_closed_ = false;
  bool closed_hub_ = false;
  std::shared_ptr<const StoredVersions> stored_;
  uint64_t stored_through_ = 0;
};

}  // namespace diffmesh
