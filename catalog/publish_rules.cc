#include "catalog/publish_rules.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/status_macros.h"

namespace diffmesh {
namespace {

// The descriptor's columns are the table's: same names and types, and a
// column the descriptor says is never null is never null in the table.
bool FitsTable(const Schema& descriptor, const Schema& table) {
  if (descriptor.size() != table.size()) return false;
  for (size_t i = 0; i < descriptor.size(); ++i) {
    const Field& d = descriptor.fields()[i];
    const Field& t = table.fields()[i];
    if (d.name != t.name || d.type != t.type || (!d.nullable && t.nullable)) {
      return false;
    }
  }
  return true;
}

}  // namespace

TableLineage LineageInto(const Table& table, const std::string& id,
                         const Schema& schema) {
  TableLineage out;
  for (const std::string& up : table.UpstreamProducts()) {
    if (up == id) continue;
    out.upstream.push_back(up);
    out.edges.push_back({{up, ""}, {id, ""}, TransformKind::kDirect});
  }
  for (size_t c = 0; c < table.schema().size(); ++c) {
    const ColumnRef to{id, schema.fields()[c].name};
    for (const auto* sources :
         {&table.column_sources()[c], &table.table_sources()}) {
      for (const ColumnSource& s : *sources) {
        if (s.from.product == id) continue;
        out.edges.push_back({s.from, to, s.kind});
      }
    }
  }
  std::sort(out.edges.begin(), out.edges.end());
  out.edges.erase(std::unique(out.edges.begin(), out.edges.end()),
                  out.edges.end());
  return out;
}

absl::StatusOr<PublishPlan> PlanPublish(
    const Table& table, ProductDescriptor descriptor,
    const StoredProduct* newest,
    const std::map<std::string, StoredProduct>& versions) {
  const std::string id = descriptor.id;
  const std::string what = absl::StrCat("publish ", descriptor.VersionedId());
  const std::vector<std::string> upstream = table.UpstreamProducts();
  if (descriptor.schema.size() == 0) {
    // A product declares its own tags; what its columns hold through
    // lineage is the classification's to carry (and to take back).
    std::vector<Field> fields = table.schema().fields();
    if (upstream != std::vector<std::string>{id}) {
      for (Field& f : fields) f.tags.clear();
    }
    descriptor.schema = Schema(std::move(fields));
  } else if (!FitsTable(descriptor.schema, table.schema())) {
    std::vector<std::string> want, have;
    for (const Field& f : descriptor.schema.fields()) {
      want.push_back(absl::StrCat(f.name, ":", ValueTypeName(f.type),
                                  f.nullable ? "" : " not null"));
    }
    for (const Field& f : table.schema().fields()) {
      have.push_back(absl::StrCat(f.name, ":", ValueTypeName(f.type),
                                  f.nullable ? "" : " not null"));
    }
    return absl::InvalidArgumentError(absl::StrCat(
        what, ": the descriptor's columns (", absl::StrJoin(want, ", "),
        ") are not the table's (", absl::StrJoin(have, ", "), ")"));
  }
  std::vector<LineageEdge> edges;
  if (newest != nullptr && upstream == std::vector<std::string>{id}) {
    // The table is the product itself (what Publish returned): publishing
    // it again keeps the lineage the product was built with.
    edges = newest->edges;
    descriptor.upstream = newest->descriptor.upstream;
  }
  TableLineage lineage = LineageInto(table, id, descriptor.schema);
  descriptor.upstream.insert(descriptor.upstream.end(),
                             lineage.upstream.begin(), lineage.upstream.end());
  edges.insert(edges.end(), lineage.edges.begin(), lineage.edges.end());
  std::sort(edges.begin(), edges.end());
  edges.erase(std::unique(edges.begin(), edges.end()), edges.end());
  DM_RETURN_IF_ERROR(ValidateDescriptor(descriptor));

  // Version rules.
  const std::string vid = descriptor.VersionedId();
  if (newest != nullptr && descriptor.version < newest->descriptor.version) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, ": version ", descriptor.version.ToString(),
                     " is older than the published ",
                     newest->descriptor.version.ToString()));
  }
  if (auto same = versions.find(vid); same != versions.end()) {
    if (!SameColumns(same->second.descriptor.schema, descriptor.schema)) {
      return absl::FailedPreconditionError(absl::StrCat(
          what,
          ": this version is already published with other columns; "
          "versions are immutable (publish a new version)"));
    }
  } else if (newest != nullptr) {
    const ProductVersion& prev = newest->descriptor.version;
    if (descriptor.version.major == prev.major) {
      absl::Status compatible =
          CheckCompatible(newest->descriptor.schema, descriptor.schema);
      if (!compatible.ok()) {
        return absl::FailedPreconditionError(absl::StrCat(
            what, " is incompatible with ", newest->descriptor.VersionedId(),
            ": ", compatible.message(), "; a breaking change needs version ",
            prev.major + 1, ".0"));
      }
    }
  }
  return PublishPlan{std::move(descriptor), std::move(edges)};
}

}  // namespace diffmesh
