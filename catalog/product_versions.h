// ProductVersions: a mesh's products as the catalog knows them -- every
// stored version, which one is active, and the store writes and catalog
// entries that publishing, updating and retiring make.
//
//   ProductVersions versions(store, &catalog_flow, agree);
//   DM_RETURN_IF_ERROR(versions.Restore(stored));        // at Open
//   DM_RETURN_IF_ERROR(versions.Activate({descriptor, edges, true}));
//   const StoredProduct* active = versions.Active("sales.orders");
//   DM_RETURN_IF_ERROR(versions.Retire("sales.orders"));
//
// Every change is durable before the catalog shows it: the store write
// runs through `agree` (worker 0 writes, every worker learns the outcome,
// Mesh's WorkerAgreement), and only when it succeeded do the versions and
// the catalog dataflow's inputs change. What computes a product's rows is
// not kept here (Mesh's captures).
// Thread compatibility: one caller (the worker's thread).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "catalog/catalog_flow.h"
#include "catalog/descriptor.h"
#include "catalog/mesh_store.h"

namespace diffmesh {

class ProductVersions {
 public:
  // Runs `write` (a store write, on worker 0) and gives every worker its
  // outcome; `what` names the call for the workers' agreement.
  using Agree = std::function<absl::Status(
      const std::string& what, const std::function<absl::Status()>& write)>;

  // `store` may be null (nothing is written); `catalog` outlives this.
  ProductVersions(MeshStore* store, CatalogFlow* catalog, Agree agree);

  // The versions a store held (MeshStore::ReadProducts), into the catalog.
  // A store written before a crash may hold two active versions of a
  // product (a new version and the old one's retirement go into one write,
  // but an older store may not): the newer one is active.
  void Restore(std::vector<StoredProduct> stored);

  // The active version of `id`, or null.
  const StoredProduct* Active(const std::string& id) const;
  // NotFound ("no active product <id>") when `id` is not active.
  absl::StatusOr<const StoredProduct*> ActiveOrNotFound(
      const std::string& id) const;
  // The highest stored version of `id`, or null.
  const StoredProduct* Newest(const std::string& id) const;
  // Every stored version, by VersionedId().
  const std::map<std::string, StoredProduct>& versions() const {
    return versions_;
  }

  // Makes `next` its product's active version (stored with the retirement
  // of the active one when that is another version). Nothing when `next`
  // is the active version already. Errors: the store's.
  absl::Status Activate(StoredProduct next);
  // Changes the metadata of the active version (Mesh::UpdateDescriptor
  // states the rules and errors).
  absl::Status Update(ProductDescriptor descriptor);
  // NotFound if `id` is not active; errors: the store's.
  absl::Status Retire(const std::string& id);
  // Adds upstream products and lineage edges (into `id`) to the active
  // version of `id`: stored, and the catalog retracts the old descriptor
  // and inserts the new, with the new edges. Nothing new: nothing changes.
  // NotFound if `id` is not active.
  absl::Status AddLineage(const std::string& id,
                          const std::vector<std::string>& upstream,
                          const std::vector<LineageEdge>& edges);
  // Takes product `upstream` out of the active version of `id`'s
  // upstream products, with every edge from it into `id`, the same way.
  // Nothing to take: nothing changes. NotFound if `id` is not active.
  absl::Status RemoveLineage(const std::string& id,
                             const std::string& upstream);

 private:
  // Stores `product` (on worker 0, agreed by all) as call `what`.
  absl::Status Put(const std::string& what, const StoredProduct& product);
  // Stores `next`, the active version `active` with other lineage, and
  // hands the catalog the descriptor change and the edges `added` and
  // `removed`. `active` may not be used after.
  absl::Status ChangeLineage(const std::string& what,
                             const StoredProduct& active, StoredProduct next,
                             const std::vector<LineageEdge>& added,
                             const std::vector<LineageEdge>& removed);

  MeshStore* store_;
  CatalogFlow* catalog_;
  Agree agree_;
  std::map<std::string, StoredProduct> active_;    // by id
  std::map<std::string, StoredProduct> versions_;  // by VersionedId()
};

}  // namespace diffmesh
