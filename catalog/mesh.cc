#include "catalog/mesh.h"

#include <algorithm>
#include <chrono>
#include <mutex>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "catalog/mesh_agreement.h"
#include "catalog/publish_rules.h"
#include "catalog/stored_versions.h"
#include "engine/graph.h"
#include "engine/status_macros.h"

namespace diffmesh {
namespace {

void MergeReport(const RefreshReport& from, RefreshReport* into) {
  into->rows_inserted += from.rows_inserted;
  into->rows_retracted += from.rows_retracted;
  into->quarantine_changes += from.quarantine_changes;
  into->files_changed.insert(into->files_changed.end(),
                             from.files_changed.begin(),
                             from.files_changed.end());
  into->failing_sources.insert(into->failing_sources.end(),
                               from.failing_sources.begin(),
                               from.failing_sources.end());
}

}  // namespace

Mesh::Mesh(Worker& worker, MeshOptions options)
    : worker_(worker),
      options_(options),
      versions_(options.store, &catalog_,
                [this](const std::string& what,
                       const std::function<absl::Status()>& write) {
                  return agreement_->Agree<absl::Status>(what, write);
                }) {}

Mesh::~Mesh() {
  // A worker still waiting for worker 0 to agree on a call would wait for
  // ever: it gets an error instead.
  if (agreement_ != nullptr) agreement_->FeederLeft();
  // Snapshots may outlive the mesh; its store may not.
  if (stored_ != nullptr) stored_->Detach();
}

bool Mesh::feeder() const { return worker_.index() == 0; }

bool Mesh::keeper() const { return worker_.index() == worker_.first_local(); }

absl::StatusOr<std::unique_ptr<Mesh>> Mesh::Open(Worker& worker,
                                                 MeshOptions options) {
  if (worker.spans_processes() && options.versions_in_memory > 0) {
    return absl::InvalidArgumentError(
        "versions_in_memory > 0 reads older versions back from the store, "
        "which only process 0 opens: across processes keep every retained "
        "version in memory (versions_in_memory = 0)");
  }
  if (worker.peers() > 1 && options.group == nullptr) {
    return absl::FailedPreconditionError(
        "a mesh on several workers needs one MeshGroup shared by all of "
        "them (MeshOptions::group)");
  }
  if (options.retained_versions < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "retained_versions must be >= 1, got ", options.retained_versions));
  }
  if (options.versions_in_memory < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "versions_in_memory must be >= 0, got ", options.versions_in_memory));
  }
  if (options.versions_in_memory > 0 && options.store == nullptr) {
    return absl::InvalidArgumentError(
        "versions_in_memory > 0 keeps older versions in the store: it needs "
        "MeshOptions::store");
  }
  std::unique_ptr<Mesh> mesh(new Mesh(worker, options));
  if (options.group == nullptr) {
    mesh->own_group_ = std::make_shared<MeshGroup>();
    mesh->group_ = mesh->own_group_.get();
  } else {
    mesh->group_ = options.group;
  }
  mesh->agreement_ =
      std::make_unique<MeshAgreement>(worker, &mesh->group_->agreement);
  {
    // Every worker opens its mesh on the group; the flag is read under the
    // lock by every worker's captures.
    std::lock_guard<std::mutex> lock(mesh->group_->mu);
    mesh->group_->record_changes = options.record_changes;
    if (mesh->group_->history == nullptr) {
      mesh->group_->history =
          std::make_unique<MeshHistory>(MeshHistory::Options{
              options.retained_versions, options.subscription_log_events,
              options.versions_in_memory, options.clock});
    }
  }
  Mesh* m = mesh.get();
  mesh->dataflows_ = std::make_unique<ProductDataflows>(
      ProductDataflows::Options{.worker = &worker,
                                .mu = &mesh->group_->mu,
                                .history = mesh->group_->history.get(),
                                .keep = mesh->own_group_,
                                .feeder = mesh->feeder(),
                                .keeper = mesh->keeper(),
                                .time = &mesh->time_,
                                .active = [m](const std::string& id) {
                                  return m->versions_.Active(id) != nullptr;
                                }});
  mesh->catalog_graph_ = &worker.NewDataflow("mesh.catalog");
  // The dataflows outlive the mesh inside the worker; a group the mesh
  // owns lives as long as they do.
  mesh->catalog_ = CatalogFlow(
      *mesh->catalog_graph_, mesh->dataflows_->products_graph(), mesh->feeder(),
      &mesh->group_->mu, mesh->group_->history.get(), mesh->own_group_);
  absl::Status restored = mesh->Restore();
  if (!restored.ok()) return restored;
  return mesh;
}

namespace {
struct Restored {
  absl::Status status;
  uint64_t next_time = 0;
  std::vector<StoredProduct> products;
  template <class Self>
  static auto WireFields(Self& self) {
    return std::tie(self.status, self.next_time, self.products);
  }
};
}  // namespace

absl::Status Mesh::Restore() {
  // Across processes only process 0 needs a store: the others learn from
  // worker 0 whether there is one.
  if (options_.store == nullptr && !agreement_->spans_processes()) {
    return absl::OkStatus();
  }
  Restored restored = agreement_->Agree<Restored>("Open (restore)", [&] {
    Restored r;
    if (options_.store == nullptr) return r;
    absl::StatusOr<uint64_t> next = options_.store->ReadNextTime();
    if (!next.ok()) {
      r.status = next.status();
      return r;
    }
    r.next_time = *next;
    absl::StatusOr<std::vector<StoredProduct>> stored =
        options_.store->ReadProducts();
    if (!stored.ok()) {
      r.status = stored.status();
      return r;
    }
    r.products = *std::move(stored);
    // Versions kept in the store are this run's (a run numbers them anew).
    absl::Status dropped = options_.store->DropProductChanges();
    if (absl::IsUnimplemented(dropped)) {
      if (options_.versions_in_memory > 0) {
        r.status = absl::FailedPreconditionError(absl::StrCat(
            "versions_in_memory > 0 needs a store that keeps product changes: ",
            dropped.message()));
      }
    } else {
      r.status = dropped;
    }
    return r;
  });
  DM_RETURN_IF_ERROR(restored.status);
  if (feeder() && options_.versions_in_memory > 0) {
    stored_ = std::make_shared<StoredVersions>(options_.store, time_);
  }
  time_ = restored.next_time;
  {
    // What happened before the restart comes back collapsed (restored
    // catalog entries at time 0, source logs from their checkpoints): a
    // subscription resumes from the restart on, not before.
    std::lock_guard<std::mutex> lock(group_->mu);
    group_->history->ForgetBefore(time_);
  }
  versions_.Restore(std::move(restored.products));
  // Restored entries sit at time 0; the mesh goes on where it stopped.
  catalog_.AdvanceTo(time_);
  return absl::OkStatus();
}

namespace {
// What worker 0 learned opening a source.
struct OpenedSource {
  absl::Status status;
  Schema schema;
  uint64_t after_log = 0;  // 1 + the latest logged time (0: none)
  template <class Self>
  static auto WireFields(Self& self) {
    return std::tie(self.status, self.schema, self.after_log);
  }
};
}  // namespace

absl::StatusOr<Table> Mesh::Source(ProductDescriptor descriptor,
                                   SourceOptions options) {
  const std::string id = descriptor.id;
  if (sources_.Contains(id)) {
    return absl::AlreadyExistsError(
        absl::StrCat("source ", id, " is already declared"));
  }
  if (running()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "source ", id, ": declare sources before the mesh's first Advance"));
  }
  if (options.schema && descriptor.schema.size() > 0 &&
      !(*options.schema == descriptor.schema)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "source ", id,
        ": the descriptor's schema and the source options' schema differ; "
        "give one"));
  }
  if (!options.schema) {
    if (descriptor.schema.size() > 0) {
      options.schema = descriptor.schema;
    } else if (const StoredProduct* active = versions_.Active(id)) {
      options.schema = active->descriptor.schema;
    }
  }
  std::unique_ptr<FileSource> files;
  std::vector<SourceBatch> logged;
  OpenedSource opened =
      agreement_->Agree<OpenedSource>(absl::StrCat("Source(", id, ")"), [&] {
        OpenedSource o;
        absl::StatusOr<MeshSources::Opened> found =
            MeshSources::Open(id, options, descriptor.schema, options_.store);
        if (!found.ok()) {
          o.status = found.status();
          return o;
        }
        o.schema = found->schema;
        o.after_log = found->after_log;
        files = std::move(found->files);
        logged = std::move(found->logged);
        return o;
      });
  DM_RETURN_IF_ERROR(opened.status);
  if (descriptor.schema.size() == 0) descriptor.schema = opened.schema;
  // Everything a publish could refuse is checked before operators exist.
  DM_RETURN_IF_ERROR(ValidateDescriptor(descriptor));
  // A batch durable before a crash that came before its next time was: go
  // on after it.
  time_ = std::max(time_, opened.after_log);

  Graph& graph = dataflows_->products_graph();
  auto [rows_in, rows] = NewInput<Row>(graph);
  auto [quarantine_in, quarantine] = NewInput<Row>(graph);
  absl::StatusOr<Table> table = Table::FromProduct(id, rows, descriptor.schema);
  if (!table.ok()) return table.status();
  dataflows_->KeepRows(id, options.keep_rows);
  absl::StatusOr<Table> published = Publish(*table, descriptor);
  if (!published.ok()) return published.status();
  dataflows_->CaptureQuarantine(id, quarantine);
  sources_.Add(id, std::move(files), std::move(rows_in),
               std::move(quarantine_in), std::move(logged));
  return published;
}

namespace {
struct Fed {
  absl::Status status;
  RefreshReport report;
  // Every source polled, with the poll's outcome, for the other
  // processes' histories.
  std::vector<std::pair<std::string, absl::Status>> polls;
  template <class Self>
  static auto WireFields(Self& self) {
    return std::tie(self.status, self.report, self.polls);
  }
};
}  // namespace

absl::Status Mesh::Start(RefreshReport* report) {
  // Sources send their first rows only now, when every table reading them
  // is declared: an input sends what it holds when it advances (or when its
  // buffer fills), and once readers took data no other reader may join the
  // stream (engine/port.h).
  sources_.Replay(time_, feeder());
  absl::Status fed = FeedAll(report);
  // A failed start is retried by the next Advance or Refresh.
  if (fed.ok()) started_ = true;
  return fed;
}

absl::Status Mesh::FeedAll(RefreshReport* report) {
  const bool relayed = agreement_->spans_processes();
  Fed fed = agreement_->Agree<Fed>(
      "Refresh (or the first Advance)",
      [&] {
        Fed f;
        RefreshReport* out = &f.report;
        f.status = sources_.Poll(
            time_, options_.store,
            [&](const std::string& id, const absl::Status& status) {
              std::lock_guard<std::mutex> lock(group_->mu);
              SourceStatus now = group_->history->RecordPoll(id, status, time_);
              if (!status.ok()) out->failing_sources.push_back(std::move(now));
              if (relayed) f.polls.emplace_back(id, status);
            },
            out);
        return f;
      },
      [&](const Fed& f) {
        std::lock_guard<std::mutex> lock(group_->mu);
        for (const auto& [id, status] : f.polls) {
          group_->history->RecordPoll(id, status, time_);
        }
      });
  MergeReport(fed.report, report);
  return fed.status;
}

absl::Status Mesh::AcceptSourceFiles(const std::string& id) {
  return sources_.AcceptFiles(id);
}

absl::StatusOr<Table> Mesh::Publish(const Table& table,
                                    ProductDescriptor descriptor) {
  const std::string id = descriptor.id;
  const std::string what = absl::StrCat("publish ", descriptor.VersionedId());
  DM_ASSIGN_OR_RETURN(PublishPlan plan,
                      PlanPublish(table, std::move(descriptor),
                                  versions_.Newest(id), versions_.versions()));
  descriptor = std::move(plan.descriptor);
  DM_RETURN_IF_ERROR(dataflows_->CheckComputable(id, table, what));
  DM_RETURN_IF_ERROR(versions_.Activate({descriptor, plan.edges, true}));
  return Table::FromProduct(id, dataflows_->Compute(id, table),
                            descriptor.schema, dataflows_->shared());
}

absl::StatusOr<MeshMetadata> Mesh::Metadata() const {
  if (running()) {
    return absl::FailedPreconditionError(
        "the mesh's metadata can be built on before the first Advance only");
  }
  return catalog_.metadata();
}

absl::Status Mesh::AdvanceWith(std::function<void(uint64_t)> advance_to) {
  if (running()) {
    return absl::FailedPreconditionError(
        "inputs can join the mesh's dataflow before the first Advance only");
  }
  advance_to(time_);
  advance_with_.push_back(std::move(advance_to));
  return absl::OkStatus();
}

bool Mesh::running() const { return dataflows_->running(); }

absl::StatusOr<Mesh::NewGathered> Mesh::NewGather() {
  return dataflows_->NewGather();
}

absl::StatusOr<int> Mesh::Gather(int gather, const Table& table) {
  return dataflows_->Gather(gather, table);
}

absl::Status Mesh::Ungather(int feed) { return dataflows_->Ungather(feed); }

absl::Status Mesh::EnforceAccess(const std::string& id) {
  DM_ASSIGN_OR_RETURN(const StoredProduct* active,
                      versions_.ActiveOrNotFound(id));
  if (!dataflows_->computed(id)) {
    return absl::NotFoundError(
        absl::StrCat("access product ", id, " is not computed in this run"));
  }
  absl::Status shaped = CheckAccessSchema(active->descriptor.schema);
  if (!shaped.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("access product ", id, ": ", shaped.message()));
  }
  std::lock_guard<std::mutex> lock(group_->mu);
  group_->history->SetAccessProduct(id);
  return absl::OkStatus();
}

absl::StatusOr<Table> Mesh::Use(const std::string& id) {
  DM_ASSIGN_OR_RETURN(const StoredProduct* active,
                      versions_.ActiveOrNotFound(id));
  // Every worker makes the same calls, so every worker adds the same
  // dataflow here.
  DM_ASSIGN_OR_RETURN(RowCollection rows, dataflows_->Use(id));
  return Table::FromProduct(id, rows, active->descriptor.schema,
                            dataflows_->shared());
}

absl::Status Mesh::UpdateDescriptor(ProductDescriptor descriptor) {
  return versions_.Update(std::move(descriptor));
}

absl::Status Mesh::AddLineage(const std::string& id, const Table& table) {
  DM_ASSIGN_OR_RETURN(const StoredProduct* active,
                      versions_.ActiveOrNotFound(id));
  if (table.schema().size() != active->descriptor.schema.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "lineage into ", id, ": the table has ", table.schema().size(),
        " columns, the product ", active->descriptor.schema.size()));
  }
  const TableLineage lineage =
      LineageInto(table, id, active->descriptor.schema);
  return versions_.AddLineage(id, lineage.upstream, lineage.edges);
}

absl::Status Mesh::RemoveLineage(const std::string& id,
                                 const std::string& upstream) {
  return versions_.RemoveLineage(id, upstream);
}

absl::Status Mesh::Retire(const std::string& id) {
  DM_RETURN_IF_ERROR(versions_.Retire(id));
  // A product added while running takes its dataflow with it once nothing
  // else there or downstream of it is active.
  dataflows_->Retired(id);
  return absl::OkStatus();
}

absl::Status Mesh::SetRetention(const std::string& id,
                                std::optional<absl::Duration> max_age) {
  if (max_age && *max_age <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the retention of ", id, " must be positive, got ",
                     absl::FormatDuration(*max_age)));
  }
  std::lock_guard<std::mutex> lock(group_->mu);
  group_->history->SetRetention(id, max_age);
  return absl::OkStatus();
}

absl::StatusOr<RefreshReport> Mesh::Refresh() {
  RefreshReport report;
  report.time = time_;
  DM_RETURN_IF_ERROR(started_ ? FeedAll(&report) : Start(&report));
  DM_RETURN_IF_ERROR(Advance());
  return report;
}

absl::Status Mesh::Advance() {
  if (!started_) {
    RefreshReport ignored;
    DM_RETURN_IF_ERROR(Start(&ignored));
  }
  const auto round_start = std::chrono::steady_clock::now();
  const uint64_t next = time_ + 1;
  catalog_.AdvanceTo(next);
  sources_.AdvanceTo(next);
  for (const auto& advance_to : advance_with_) advance_to(next);
  DM_RETURN_IF_ERROR(dataflows_->Close([&] { return catalog_.Behind(next); }));
  // Worker 0 has heard, with the progress that closed the time, of every
  // overflow any worker of any process raised computing it
  // (Worker::TakeDiffOverflow); the others only clear theirs, so none is
  // reported twice.
  if (worker_.TakeDiffOverflow() && worker_.index() == 0) {
    std::lock_guard<std::mutex> lock(group_->mu);
    group_->diff_overflow = true;
  }
  // Every worker's captures for the closed time are in: worker 0 turns
  // them into data versions and changes, once (and across processes, the
  // first worker of every other process does in its replica).
  auto close_history = [&] {
    group_->history->AddRound(
        std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                      round_start)
            .count());
    group_->history->Close(time_,
                           group_->record_changes ? &group_->changes : nullptr,
                           stored_ != nullptr ? &unstored_ : nullptr);
  };
  absl::Status closed = agreement_->Agree<absl::Status>(
      "Advance",
      [&] {
        absl::Status overflow;
        {
          std::lock_guard<std::mutex> lock(group_->mu);
          if (group_->diff_overflow) {
            group_->diff_overflow = false;
            overflow = absl::OutOfRangeError(absl::StrCat(
                "a row's multiplicity overflowed 64 bits by time ", time_,
                " (a join or sum of counts beyond 2^63): the products computed "
                "since are wrong"));
          }
          close_history();
        }
        DM_RETURN_IF_ERROR(overflow);
        if (options_.store == nullptr) return absl::OkStatus();
        if (stored_ != nullptr) DM_RETURN_IF_ERROR(StoreVersions());
        DM_RETURN_IF_ERROR(sources_.Checkpoint(
            options_.store,
            static_cast<size_t>(std::max(0, options_.checkpoint_after)),
            [&](const std::string& id) {
              std::lock_guard<std::mutex> lock(group_->mu);
              return group_->history->OldestRetainedTime(id);
            }));
        return options_.store->PutNextTime(next);
      },
      [&](const absl::Status&) {
        std::lock_guard<std::mutex> lock(group_->mu);
        close_history();
      });
  time_ = next;
  return closed;
}

absl::Status Mesh::StoreVersions() {
  std::vector<ProductAppend> appends;
  appends.reserve(unstored_.size());
  for (const auto& [id, change] : unstored_) appends.push_back({id, &change});
  // Kept for the next Advance to try again when this fails: the history
  // keeps their versions' rows until they are stored.
  DM_RETURN_IF_ERROR(stored_->Append(appends));
  unstored_.clear();
  std::lock_guard<std::mutex> lock(group_->mu);
  group_->history->Stored(time_, stored_);
  return stored_->Checkpoint(
      static_cast<size_t>(std::max(0, options_.checkpoint_after)),
      [&](const std::string& id) {
        return group_->history->OldestRetainedTime(id);
      });
}

}  // namespace diffmesh
