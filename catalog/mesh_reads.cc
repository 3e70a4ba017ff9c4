// Mesh's reads (catalog/mesh.h): everything a worker reads comes from the
// latest closed time's MeshSnapshot, its subscriptions from the group's
// history, the source statuses from the snapshot too.
#include <algorithm>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "catalog/mesh.h"
#include "engine/status_macros.h"

namespace diffmesh {
namespace {

// Source `id`'s status in `snapshot`: a source not polled by then is OK.
SourceStatus StatusIn(const MeshSnapshot& snapshot, const std::string& id) {
  return snapshot.SourceStatusOf(id).value_or(SourceStatus{.id = id});
}

}  // namespace

std::vector<SourceStatus> Mesh::SourceStatuses() const {
  // The snapshot holds the statuses as of the last closed time; a source
  // not polled by then is OK.
  std::shared_ptr<const MeshSnapshot> snapshot = Snapshot();
  std::vector<SourceStatus> all;
  for (const std::string& id : sources_.Ids()) {
    all.push_back(StatusIn(*snapshot, id));
  }
  return all;
}

absl::StatusOr<SourceStatus> Mesh::SourceStatusOf(const std::string& id) const {
  if (!sources_.Contains(id)) {
    return absl::NotFoundError(absl::StrCat("no source ", id));
  }
  return StatusIn(*Snapshot(), id);
}

std::shared_ptr<const MeshSnapshot> Mesh::Snapshot() const {
  // By the time a worker's Advance returns, worker 0 has closed that time
  // (the Advance agreement), and it closes no later one before this worker
  // advances again: the latest snapshot is as of time() - 1.
  return group_->history->Latest();
}

MeshReader Mesh::Reader() const { return group_->history->reader(); }

absl::StatusOr<std::shared_ptr<Subscription>> Mesh::Subscribe(
    SubscribeOptions options) const {
  return Reader().Subscribe(std::move(options));
}

std::vector<ProductDescriptor> Mesh::Catalog() const {
  return Snapshot()->Catalog();
}

absl::StatusOr<ProductDescriptor> Mesh::Descriptor(
    const std::string& id) const {
  DM_ASSIGN_OR_RETURN(const StoredProduct* active,
                      versions_.ActiveOrNotFound(id));
  return active->descriptor;
}

std::vector<std::string> Mesh::Search(const std::string& query) const {
  return Snapshot()->Search(query);
}

std::vector<LineageEdge> Mesh::Lineage() const { return Snapshot()->Lineage(); }

std::vector<ColumnRef> Mesh::Downstream(const ColumnRef& node) const {
  return Snapshot()->Downstream(node);
}

std::vector<ColumnRef> Mesh::Upstream(const ColumnRef& node) const {
  return Snapshot()->Upstream(node);
}

absl::StatusOr<std::vector<Row>> Mesh::Read(const std::string& id) const {
  DM_RETURN_IF_ERROR(versions_.ActiveOrNotFound(id).status());
  if (!dataflows_->computed(id)) {
    return absl::FailedPreconditionError(
        absl::StrCat("product ", id,
                     " is in the catalog but not computed "
                     "in this run (declare it)"));
  }
  std::shared_ptr<const MeshSnapshot> snapshot = Snapshot();
  // Before the first Advance of this run (also after a restart).
  if (snapshot->empty()) return std::vector<Row>();
  return snapshot->Read(id);
}

absl::StatusOr<std::vector<Row>> Mesh::ReadAsOf(const std::string& id,
                                                int data_version) const {
  if (!dataflows_->computed(id)) {
    return absl::NotFoundError(absl::StrCat("no data of product ", id));
  }
  std::shared_ptr<const MeshSnapshot> snapshot = Snapshot();
  if (snapshot->empty()) {
    return absl::NotFoundError(
        absl::StrCat(id, " has no data version ", data_version, " (none yet)"));
  }
  return snapshot->ReadAsOf(id, data_version);
}

std::vector<DataVersion> Mesh::DataVersions(const std::string& id) const {
  return Snapshot()->DataVersions(id);
}

std::vector<Row> Mesh::Quarantine(const std::string& id) const {
  return Snapshot()->Quarantine(id);
}

int64_t Mesh::QuarantineCount(const std::string& id) const {
  std::shared_ptr<const MeshSnapshot> snapshot = Snapshot();
  const ProductRows* p = snapshot->Find(id);
  return p == nullptr ? 0 : p->quarantine.total();
}

std::vector<MeshChange> Mesh::TakeChanges() {
  std::lock_guard<std::mutex> lock(group_->mu);
  std::vector<MeshChange> out = std::move(group_->changes);
  group_->changes.clear();
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace diffmesh
