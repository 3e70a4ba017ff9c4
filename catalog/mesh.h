// Mesh: data products declared in C++, with the catalog, the lineage and
// its closure computed by the same engine and kept live.
//
//   Worker worker;
//   DM_ASSIGN_OR_RETURN(auto mesh, Mesh::Open(worker, {.store = store.get()}));
//   DM_ASSIGN_OR_RETURN(Table orders, mesh->Source(raw, {.path = "o.csv"}));
//   DM_ASSIGN_OR_RETURN(Table big, orders.Filter({"amount"}, ...));
//   DM_RETURN_IF_ERROR(mesh->Publish(big, big_orders).status());
//   DM_RETURN_IF_ERROR(mesh->Advance());      // run: rows, catalog, lineage
//   ... edit o.csv ...
//   DM_ASSIGN_OR_RETURN(RefreshReport r, mesh->Refresh());  // exact diffs
//
// Two dataflows run on the worker: "mesh.products" (the user's tables, built
// between Open and the first Advance) and "mesh.catalog", whose inputs are
// the descriptors and the lineage edges, and which maintains the search
// index and the lineage closure (an Iterate) incrementally from them.
//
// Several workers. Inside Runtime::Execute, every worker opens its Mesh
// with the same MeshGroup and runs the same calls in the same order (as
// every worker builds the same dataflow). Worker 0 alone reads files and
// the store, writes the store and feeds the inputs; what it read is handed
// to the others (MeshGroup), so every worker takes the same decisions and
// returns the same results and errors. Each worker computes its share of
// the keys; what they capture goes into the group, so reads (Read, Catalog,
// Search, Downstream, ...) on any worker see all of it after an Advance.
// Call TakeChanges on one worker only; subscriptions and snapshots may
// be taken on any (they are the group's).
//
// Across processes (under mpirun, engine/runtime.h) each process has its
// own MeshGroup, shared by its workers. Worker 0 is in process 0, which
// alone needs the store (the others may pass none). Worker 0's results
// reach the other processes' first workers (MeshAgreement), and every
// capture is routed to the first worker of every process (ToEveryProcess),
// which keeps its process's copy of the history: reads, snapshots,
// subscriptions and TakeChanges (once per process) see the same on every
// process. versions_in_memory > 0 is refused there (InvalidArgument).
//
// Time. Engine time is a counter; every Advance closes the current time.
// Source changes, publishes, updates and retires made before an Advance
// happen at the same time. A product's data version n names the n-th time
// at which its rows changed; ReadAsOf(id, n) returns the rows as of that
// time, exactly, while the version is retained (the last
// MeshOptions::retained_versions of each product; the rows of the older
// ones are read from the store with MeshOptions::versions_in_memory).
//
// Reads. Each Advance closes its time into an immutable MeshSnapshot
// (catalog/mesh_snapshot.h); the read methods below read the latest one.
// Snapshot() hands it out; Reader() is a handle that other threads use to
// take snapshots and subscribe (catalog/mesh_reader.h,
// catalog/subscription.h) while the workers go on.
//
// Products and versions. Publish(table, descriptor) validates the
// descriptor, fills in its schema (from the table, when the descriptor has
// none: the columns and their descriptions, not the tags they hold through
// lineage, which governance/classification.h carries live) and its
// upstream products (from the table's lineage), and records lineage edges
// into the product: product -> product (direct) and column -> column with
// the transform kind. `id@MAJOR.MINOR` binds the columns forever:
// publishing the same version with other columns is refused, and so is a
// new minor version that is incompatible with the previous version of the
// same major (CheckCompatible) or a version older than the newest. Metadata
// (owner, tier, description, tags, and the columns' descriptions and
// classification tags) may change under the same version
// (UpdateDescriptor); the catalog retracts the old descriptor and inserts
// the new. Retire(id) retracts the product from the catalog and the lineage.
//
// Durability. With a store, every source batch is durable before it enters
// the dataflow, and every published version before the catalog shows it.
// Open restores the catalog and lineage from the store, and each Source
// replays its logged batches at their original times, then reads its files
// and feeds only the difference; so after a clean restart the products, the
// catalog and the lineage are those of before the restart. A source's log
// is folded into a checkpoint up to its oldest retained version every
// MeshOptions::checkpoint_after logged batches (MeshStore::CheckpointSource),
// so versions older than that do not come back after a restart.
//
// Products added while the mesh runs. Before the first Advance, tables are
// built on what Source and Publish return. After it, Use(id) gives an
// active product's rows as a table in a new dataflow (one per time: every
// Use between two Advances shares it), starting from the product's current
// rows and fed, at the same engine times, with every later change of them;
// tables built on it and published join that dataflow, which starts at the
// next Advance. Nothing already computed is computed again: a table built
// on Use that joins the product on keys a table of the running dataflows
// joined it on (or groups it on the keys and aggregate inputs a running
// aggregate did) imports that arrangement (catalog/shared_arrangements.h)
// rather than arranging the rows again, and the Use's rows are loaded only
// if something else reads them. Once every
// product of such a dataflow is retired and no other dataflow reads them,
// it stops: it is no longer fed, its products' rows leave the history at
// that time, and its state is freed once it is complete (at an Advance).
// Published again, such a product is built anew on Use (its old table is
// refused: InvalidArgument).
//
// Gathers: the other way, a collection of the products' dataflow fed with
// tables built on Use while the mesh runs, at the same engine times (so
// what is built on it sees them in the time they change; governance/
// gathers the verdicts of contracts attached while running). NewGather
// makes one before the first Advance; Gather(gather, table) feeds it a
// table from then on and keeps the table's dataflow running; Ungather
// takes the table's rows out again, at the current time.
//
// REQUIRES: the worker (and the group) outlive the mesh.
// Thread compatibility: one caller per Mesh, on its worker's thread; what
// Snapshot(), Reader() and Subscribe() hand out is thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "catalog/catalog_flow.h"
#include "catalog/descriptor.h"
#include "catalog/lineage.h"
#include "catalog/mesh_history.h"
#include "catalog/mesh_reader.h"
#include "catalog/mesh_snapshot.h"
#include "catalog/mesh_sources.h"
#include "catalog/mesh_store.h"
#include "catalog/product_dataflows.h"
#include "catalog/product_versions.h"
#include "catalog/source.h"
#include "catalog/source_health.h"
#include "catalog/subscription.h"
#include "catalog/table.h"
#include "catalog/worker_agreement.h"
#include "engine/input.h"
#include "engine/probe.h"

namespace diffmesh {

class Graph;
class Worker;

class MeshAgreement;
class MeshGroup;
class StoredVersions;

struct MeshOptions {
  MeshStore* store = nullptr;  // none: nothing survives the process
  int retained_versions = 16;  // per product, >= 1
  // The changes of recent times kept for subscriptions that resume from a
  // time (catalog/subscription.h), in events (about 170 bytes each for
  // small rows); the newest time is always kept.
  size_t subscription_log_events = size_t{1} << 16;
  // Required with several workers: one group shared by all of them.
  MeshGroup* group = nullptr;
  // With a store: once this many batches of a source were logged since its
  // last checkpoint, the log up to the source's oldest retained data
  // version is folded into one checkpoint (MeshStore::CheckpointSource),
  // so a restart replays about what the retained versions need, not the
  // whole history. 0: never.
  int checkpoint_after = 64;
  // 0: the rows at every retained data version are kept in memory. n > 0
  // (needs a store that keeps product changes, as RocksMeshStore does):
  // only at the newest n versions of each product; the change of every
  // data version is written to the store as its time closes, and ReadAsOf
  // of an older retained version reads it back (folding the product's log
  // up to that time; the log is folded up to the oldest retained version
  // every checkpoint_after versions). The store keeps them for this run
  // only: Open forgets those of the run before.
  int versions_in_memory = 0;
  // The wall clock data versions are stamped with (DataVersion::closed)
  // and retention is measured by; none: absl::Now.
  std::function<absl::Time()> clock;
  // Keep the changes as text for TakeChanges. A mesh that never takes
  // them should say false: they are kept until taken. (Subscriptions do
  // not depend on it.)
  bool record_changes = true;
};

struct RefreshReport {
  uint64_t time = 0;  // the time the changes were made at
  std::vector<std::string> files_changed;
  int64_t rows_inserted = 0;
  int64_t rows_retracted = 0;
  int64_t quarantine_changes = 0;
  // The sources whose files could not be read at this refresh: they keep
  // their last rows (see Mesh::SourceStatuses).
  std::vector<SourceStatus> failing_sources;

  template <class Self>
  static auto WireFields(Self& self) {
    return std::tie(self.time, self.files_changed, self.rows_inserted,
                    self.rows_retracted, self.quarantine_changes,
                    self.failing_sources);
  }
};

// What the workers of one mesh share: worker 0's reads, handed to the
// others, and everything the dataflows capture. Create one per mesh and
// pass it to every worker's Mesh::Open; it must outlive them.
class MeshGroup {
 public:
  MeshGroup() = default;
  MeshGroup(const MeshGroup&) = delete;
  MeshGroup& operator=(const MeshGroup&) = delete;

 private:
  friend class Mesh;
  bool record_changes = true;
  mutable std::mutex mu;
  WorkerAgreement agreement;  // worker 0's results, for every worker
  // What the dataflows capture, closed by worker 0 at each Advance; made
  // by the first Mesh::Open.
  std::unique_ptr<MeshHistory> history;
  std::vector<MeshChange> changes;
  bool diff_overflow = false;  // some worker overflowed a diff (worker 0's)
};

class Mesh {
 public:
  // FailedPrecondition for a worker with peers but no group,
  // InvalidArgument for bad options; store errors (DataLoss naming the key)
  // as they come.
  static absl::StatusOr<std::unique_ptr<Mesh>> Open(Worker& worker,
                                                    MeshOptions options);
  ~Mesh();

  // A raw product read from files, checked now (errors: see
  // FileSource::Open) and read at the first Advance. The descriptor's schema,
  // when given, is the source's schema; otherwise it is the stored version's,
  // or inferred.
  absl::StatusOr<Table> Source(ProductDescriptor descriptor,
                               SourceOptions options);
  // Returns the published product as a table to build on: its columns come
  // directly from the product.
  absl::StatusOr<Table> Publish(const Table& table,
                                ProductDescriptor descriptor);
  // An active product's rows, to build new products on: before the first
  // Advance, the product's own table; after it, a table in this time's new
  // dataflow, with the product's current rows and then its changes (see
  // "Products added while the mesh runs"). NotFound if `id` is not active,
  // FailedPrecondition if its rows are not computed in this run.
  absl::StatusOr<Table> Use(const std::string& id);
  // The catalog's descriptors and lineage edges as collections of the
  // products' dataflow, to compute on next to the products' rows (as
  // governance/ does): they change at the same engine times as the
  // catalog, and what is built on them and published is a product like
  // any other. FailedPrecondition after the first Advance.
  absl::StatusOr<MeshMetadata> Metadata() const;
  // Inputs that layers above add to the products' dataflow (governance/'s
  // access policy, say) advance with the mesh: `advance_to(time())` is
  // called now, and `advance_to(t)` at each Advance with the time it opens,
  // before the dataflows run; what is put into them between two Advances
  // happens at the time the second closes. Every worker registers its own.
  // FailedPrecondition after the first Advance.
  absl::Status AdvanceWith(std::function<void(uint64_t)> advance_to);
  // A gather (see "Gathers"): its number and its rows, a collection of the
  // products' dataflow. FailedPrecondition after the first Advance.
  using NewGathered = ProductDataflows::NewGathered;
  absl::StatusOr<NewGathered> NewGather();
  // Feeds `table`'s rows into gather `gather` from this time on; returns
  // the feed's number, for Ungather. NotFound for no such gather;
  // FailedPrecondition before the first Advance (build on the products'
  // own tables then); InvalidArgument for a table that is not built on
  // Use in this time.
  absl::StatusOr<int> Gather(int gather, const Table& table);
  // Takes feed `feed`'s rows out of its gather at the current time.
  // NotFound for no such feed (or one taken out already).
  absl::Status Ungather(int feed);
  // Reads for principals (MeshSnapshot::ReadAs, subscriptions with a
  // principal) follow the decisions in product `id`'s rows from the next
  // Advance on (catalog/column_access.h); governance/'s MeshGovernance
  // names its access product here. NotFound if `id` is not an active
  // product computed in this run; InvalidArgument for a product that is
  // not shaped as an access product.
  absl::Status EnforceAccess(const std::string& id);
  // Changes the metadata (owner, tier, description, tags) of the active
  // version of descriptor.id: the catalog retracts the old descriptor and
  // inserts the new. The version must be the active one's, and the schema
  // (when given) must have its columns (SameColumns: only the columns'
  // descriptions and tags may change); the lineage stays. NotFound if the
  // product is not active, FailedPrecondition for another version or
  // other columns, InvalidArgument for a bad descriptor.
  absl::Status UpdateDescriptor(ProductDescriptor descriptor);
  // NotFound if `id` is not active.
  absl::Status Retire(const std::string& id);
  // Product `id`'s data versions that closed more than `max_age` ago (by
  // MeshOptions::clock) are no longer retained, beside the
  // retained_versions bound; its newest version always is. Takes effect
  // at the next Advance; nullopt lifts it (versions already let go stay
  // gone). governance/ sets it from a contract's retention SLA.
  // InvalidArgument for a max_age that is not positive.
  absl::Status SetRetention(const std::string& id,
                            std::optional<absl::Duration> max_age);
  // The lineage `table` gives active product `id` (its upstream products,
  // product and column edges, as Publish records them) is added to the
  // lineage `id` was published with: for a product that tables feed while
  // the mesh runs (a gather's product, as governance/'s checks are when a
  // contract is attached). The edges stay while the version is active,
  // or until RemoveLineage takes them out.
  // NotFound if `id` is not active; errors: the store's.
  absl::Status AddLineage(const std::string& id, const Table& table);
  // The other way: product `upstream` no longer feeds active product `id`
  // (a gather's table taken out, as a detached contract's checks are):
  // it leaves `id`'s upstream products with every edge from it into `id`,
  // stored, and the catalog, lineage and closure follow. NotFound if `id`
  // is not active; errors: the store's.
  absl::Status RemoveLineage(const std::string& id,
                             const std::string& upstream);

  // Polls every source's files, feeds the exact differences (durable
  // first), and advances. A source whose files cannot be read (vanished,
  // unreadable) keeps its last rows while the others go on: it is listed in
  // the report's failing_sources and SourceStatuses, its status changes
  // are on the change feed ("source <id>"), and it recovers at the first
  // poll that reads it. Errors: the store's, when it cannot log the
  // changes (then no source has changed).
  absl::StatusOr<RefreshReport> Refresh();
  // Closes the current time: runs both dataflows until every result for it
  // is final, assigns data versions, records the changes. OutOfRange when
  // a row's multiplicity overflowed 64 bits in an operator of any worker,
  // in any process, while computing this time (every worker returns the
  // same; one in idle merging, by a later Advance).
  absl::Status Advance();
  uint64_t time() const { return time_; }
  // Whether the first Advance has begun (the products' dataflow runs).
  bool running() const;

  // The active descriptors, by id, as the catalog dataflow computed them at
  // the last Advance.
  std::vector<ProductDescriptor> Catalog() const;
  // The active descriptor of `id` as of now (also before an Advance shows
  // it); NotFound if none.
  absl::StatusOr<ProductDescriptor> Descriptor(const std::string& id) const;
  // Ids of active products matching every word of `query` (case-blind; a
  // word matches a token of the id, description, tags or column names that
  // it is a prefix of), sorted.
  std::vector<std::string> Search(const std::string& query) const;
  std::vector<LineageEdge> Lineage() const;
  // Every node reachable from `node` along lineage edges (product nodes for
  // a product, columns for a column), sorted; Upstream walks backwards.
  std::vector<ColumnRef> Downstream(const ColumnRef& node) const;
  std::vector<ColumnRef> Upstream(const ColumnRef& node) const;

  // Rows of an active product computed in this run, sorted (a row appears
  // as many times as it is present). NotFound / FailedPrecondition.
  absl::StatusOr<std::vector<Row>> Read(const std::string& id) const;
  absl::StatusOr<std::vector<Row>> ReadAsOf(const std::string& id,
                                            int data_version) const;
  std::vector<DataVersion> DataVersions(const std::string& id) const;
  // The product's quarantine rows (QuarantineSchema()), and their number.
  std::vector<Row> Quarantine(const std::string& id) const;
  // Every source's status as of its last poll (OK until a poll fails).
  std::vector<SourceStatus> SourceStatuses() const;
  // NotFound if `id` is not a source of this mesh.
  absl::StatusOr<SourceStatus> SourceStatusOf(const std::string& id) const;
  // The source's next poll takes its files as they are, past the shrink
  // guard and the runaway-quote rule (catalog/source.h: a file truncated
  // on purpose).
  // NotFound if `id` is not a source of this mesh.
  absl::Status AcceptSourceFiles(const std::string& id);
  int64_t QuarantineCount(const std::string& id) const;

  // Everything above as of the last closed time, immutable: hold it as
  // long as needed, read it from any thread (catalog/mesh_snapshot.h).
  std::shared_ptr<const MeshSnapshot> Snapshot() const;
  // A handle for other threads: snapshots and subscriptions
  // (catalog/mesh_reader.h). It may outlive the mesh.
  MeshReader Reader() const;
  // Typed change events from the next closed time (or resumed from
  // options.from), for any number of subscribers at their own pace
  // (catalog/subscription.h).
  absl::StatusOr<std::shared_ptr<Subscription>> Subscribe(
      SubscribeOptions options) const;

  // The changes recorded by the Advances since the last call, as text,
  // sorted by (time, stream, diff, text). Subscribe gives them typed, to
  // many consumers, resumably.
  std::vector<MeshChange> TakeChanges();

 private:
  Mesh(Worker& worker, MeshOptions options);
  // Worker 0: reads files and the store, writes the store, feeds inputs.
  bool feeder() const;
  // Writes its process's history outside the captures (closes its times,
  // records polls): worker 0 in one process, the first worker of each
  // process across processes.
  bool keeper() const;
  absl::Status Restore();
  // Replays the sources' logs and reads their files; at the first Advance.
  absl::Status Start(RefreshReport* report);
  // Polls every source on worker 0 (MeshSources::Poll, recording each
  // source's status); the outcome on every worker.
  absl::Status FeedAll(RefreshReport* report);
  // Writes unstored_ to the store (worker 0, as a time closes).
  absl::Status StoreVersions();

  Worker& worker_;
  MeshOptions options_;
  std::shared_ptr<MeshGroup> own_group_;
  MeshGroup* group_ = nullptr;
  // How every worker learns worker 0's results (catalog/mesh_agreement.h).
  std::unique_ptr<MeshAgreement> agreement_;
  Graph* catalog_graph_ = nullptr;
  uint64_t time_ = 0;
  bool started_ = false;

  CatalogFlow catalog_;

  ProductVersions versions_;
  MeshSources sources_;
  std::unique_ptr<ProductDataflows> dataflows_;
  std::vector<std::function<void(uint64_t)>> advance_with_;
  // Worker 0's, with versions_in_memory: where older versions are kept,
  // and the changes of versions not stored yet (StoreVersions).
  std::shared_ptr<StoredVersions> stored_;
  std::vector<std::pair<std::string, SourceBatch>> unstored_;
};

}  // namespace diffmesh
