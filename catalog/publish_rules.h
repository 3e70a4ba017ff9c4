// The rules a product's publication follows, apart from any running mesh:
// which columns and lineage a table gives a descriptor, and which versions
// may be published after which.
//
//   DM_ASSIGN_OR_RETURN(PublishPlan plan,
//                       PlanPublish(table, descriptor, newest, versions));
//   plan.descriptor.upstream;   plan.edges;   // filled in from the table
//
// Rules: a descriptor's schema, when given, has the table's columns (names,
// types, and a never-null column never null in the table); otherwise it is
// the table's, without the columns' tags (a product declares its own; what
// its columns hold through lineage is governance/classification.h's to
// carry), unless the table is the product itself. Lineage: product -> product
// (direct) for every upstream product, column -> column with the transform
// kind, and the lineage a product was built with when the table is the product
// itself. `id@MAJOR.MINOR` binds the columns forever (SameColumns: their
// descriptions and tags may change); a new minor version must be
// compatible with the newest of its major (CheckCompatible); no version
// older than the newest.
// Thread-safety: pure functions.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "catalog/descriptor.h"
#include "catalog/lineage.h"
#include "catalog/mesh_store.h"
#include "catalog/table.h"

namespace diffmesh {

// What table `table` gives product `id` (columns named by `schema`, the
// table's in order): its upstream products (but `id`) and the lineage
// edges into `id`, sorted, distinct.
struct TableLineage {
  std::vector<std::string> upstream;
  std::vector<LineageEdge> edges;
};
TableLineage LineageInto(const Table& table, const std::string& id,
                         const Schema& schema);

struct PublishPlan {
  ProductDescriptor descriptor;    // schema and upstream filled in
  std::vector<LineageEdge> edges;  // into the product, sorted, distinct
};

// InvalidArgument for columns that are not the table's or a bad
// descriptor, FailedPrecondition for a version the rules refuse; both name
// the product and version. `newest`: the highest stored version of the
// product (null if none); `versions`: every stored version by VersionedId().
absl::StatusOr<PublishPlan> PlanPublish(
    const Table& table, ProductDescriptor descriptor,
    const StoredProduct* newest,
    const std::map<std::string, StoredProduct>& versions);

}  // namespace diffmesh
