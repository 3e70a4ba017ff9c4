#include "catalog/product_versions.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/status_macros.h"

namespace diffmesh {

ProductVersions::ProductVersions(MeshStore* store, CatalogFlow* catalog,
                                 Agree agree)
    : store_(store), catalog_(catalog), agree_(std::move(agree)) {}

void ProductVersions::Restore(std::vector<StoredProduct> stored) {
  for (StoredProduct& sp : stored) {
    if (sp.active) {
      auto [it, fresh] = active_.try_emplace(sp.descriptor.id, sp);
      if (!fresh) {
        if (sp.descriptor.version < it->second.descriptor.version) {
          sp.active = false;
        } else {
          versions_[it->second.descriptor.VersionedId()].active = false;
          it->second = sp;
        }
      }
    }
    const std::string vid = sp.descriptor.VersionedId();
    versions_[vid] = std::move(sp);
  }
  for (const auto& [id, sp] : active_)
    catalog_->Insert(sp.descriptor, sp.edges);
}

const StoredProduct* ProductVersions::Active(const std::string& id) const {
  auto it = active_.find(id);
  return it == active_.end() ? nullptr : &it->second;
}

absl::StatusOr<const StoredProduct*> ProductVersions::ActiveOrNotFound(
    const std::string& id) const {
  const StoredProduct* active = Active(id);
  if (active == nullptr) {
    return absl::NotFoundError(absl::StrCat("no active product ", id));
  }
  return active;
}

const StoredProduct* ProductVersions::Newest(const std::string& id) const {
  const StoredProduct* newest = nullptr;
  for (auto it = versions_.lower_bound(id + "@");
       it != versions_.end() && it->second.descriptor.id == id; ++it) {
    if (newest == nullptr ||
        newest->descriptor.version < it->second.descriptor.version) {
      newest = &it->second;
    }
  }
  return newest;
}

absl::Status ProductVersions::Activate(StoredProduct next) {
  const std::string id = next.descriptor.id;
  const StoredProduct* now = Active(id);
  if (now != nullptr && *now == next) return absl::OkStatus();
  std::optional<StoredProduct> replaced;
  if (now != nullptr && now->descriptor.version != next.descriptor.version) {
    replaced = *now;
    replaced->active = false;
  }
  DM_RETURN_IF_ERROR(agree_(absl::StrCat("Publish(", id, ")"), [&] {
    if (store_ == nullptr) return absl::OkStatus();
    // The new version and the old one's retirement, together.
    std::vector<StoredProduct> put = {next};
    if (replaced) put.push_back(*replaced);
    return store_->PutProducts(put);
  }));
  if (replaced) versions_[replaced->descriptor.VersionedId()] = *replaced;
  if (now != nullptr) catalog_->Remove(now->descriptor, now->edges);
  catalog_->Insert(next.descriptor, next.edges);
  versions_[next.descriptor.VersionedId()] = next;
  active_[id] = std::move(next);
  return absl::OkStatus();
}

absl::Status ProductVersions::Update(ProductDescriptor descriptor) {
  DM_ASSIGN_OR_RETURN(const StoredProduct* active,
                      ActiveOrNotFound(descriptor.id));
  const ProductDescriptor now = active->descriptor;
  if (descriptor.version != now.version) {
    return absl::FailedPreconditionError(absl::StrCat(
        "update ", descriptor.VersionedId(), ": the active version is ",
        now.version.ToString(), "; publish a table for a new version"));
  }
  if (descriptor.schema.size() == 0) {
    descriptor.schema = now.schema;
  } else if (!SameColumns(descriptor.schema, now.schema)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "update ", descriptor.VersionedId(),
        ": the columns of a published version cannot change (only their "
        "descriptions and tags)"));
  }
  descriptor.upstream = now.upstream;
  DM_RETURN_IF_ERROR(ValidateDescriptor(descriptor));
  StoredProduct next{descriptor, active->edges, true};
  if (next == *active) return absl::OkStatus();
  DM_RETURN_IF_ERROR(
      Put(absl::StrCat("UpdateDescriptor(", descriptor.id, ")"), next));
  catalog_->Replace(now, descriptor);
  versions_[descriptor.VersionedId()] = next;
  active_[descriptor.id] = std::move(next);
  return absl::OkStatus();
}

absl::Status ProductVersions::Put(const std::string& what,
                                  const StoredProduct& product) {
  return agree_(what, [&] {
    if (store_ == nullptr) return absl::OkStatus();
    return store_->PutProduct(product);
  });
}

absl::Status ProductVersions::AddLineage(
    const std::string& id, const std::vector<std::string>& upstream,
    const std::vector<LineageEdge>& edges) {
  DM_ASSIGN_OR_RETURN(const StoredProduct* active, ActiveOrNotFound(id));
  StoredProduct next = *active;
  std::vector<LineageEdge> added;
  for (const LineageEdge& e : edges) {
    if (!std::binary_search(next.edges.begin(), next.edges.end(), e)) {
      added.push_back(e);
    }
  }
  std::vector<std::string>& up = next.descriptor.upstream;
  for (const std::string& u : upstream) {
    if (std::find(up.begin(), up.end(), u) == up.end()) up.push_back(u);
  }
  if (added.empty() && next.descriptor == active->descriptor) {
    return absl::OkStatus();
  }
  next.edges.insert(next.edges.end(), added.begin(), added.end());
  std::sort(next.edges.begin(), next.edges.end());
  return ChangeLineage(absl::StrCat("AddLineage(", id, ")"), *active,
                       std::move(next), added, {});
}

absl::Status ProductVersions::RemoveLineage(const std::string& id,
                                            const std::string& upstream) {
  DM_ASSIGN_OR_RETURN(const StoredProduct* active, ActiveOrNotFound(id));
  StoredProduct next = *active;
  std::vector<LineageEdge> removed;
  std::erase_if(next.edges, [&](const LineageEdge& e) {
    if (e.from.product != upstream) return false;
    removed.push_back(e);
    return true;
  });
  std::erase(next.descriptor.upstream, upstream);
  if (removed.empty() && next.descriptor == active->descriptor) {
    return absl::OkStatus();
  }
  return ChangeLineage(absl::StrCat("RemoveLineage(", id, ")"), *active,
                       std::move(next), {}, removed);
}

absl::Status ProductVersions::ChangeLineage(
    const std::string& what, const StoredProduct& active, StoredProduct next,
    const std::vector<LineageEdge>& added,
    const std::vector<LineageEdge>& removed) {
  DM_RETURN_IF_ERROR(Put(what, next));
  catalog_->Replace(active.descriptor, next.descriptor);
  catalog_->AddEdges(added);
  catalog_->RemoveEdges(removed);
  const std::string id = next.descriptor.id;
  versions_[next.descriptor.VersionedId()] = next;
  active_[id] = std::move(next);
  return absl::OkStatus();
}

absl::Status ProductVersions::Retire(const std::string& id) {
  DM_ASSIGN_OR_RETURN(const StoredProduct* active, ActiveOrNotFound(id));
  StoredProduct retired = *active;
  retired.active = false;
  DM_RETURN_IF_ERROR(Put(absl::StrCat("Retire(", id, ")"), retired));
  catalog_->Remove(active->descriptor, active->edges);
  versions_[retired.descriptor.VersionedId()] = std::move(retired);
  active_.erase(id);
  return absl::OkStatus();
}

}  // namespace diffmesh
