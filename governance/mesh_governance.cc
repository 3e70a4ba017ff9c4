#include "governance/mesh_governance.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "engine/graph.h"
#include "engine/status_macros.h"
#include "governance/classification.h"
#include "governance/freshness.h"
#include "governance/gate.h"
#include "governance/profile.h"
#include "governance/tiers.h"
#include "operators/filter.h"
#include "operators/flat_map.h"
#include "operators/map.h"

namespace diffmesh {
namespace {

// `schema` with a product column in front.
Schema WithProduct(const Schema& schema) {
  std::vector<Field> fields = {{"product", ValueType::kString, false}};
  for (const Field& f : schema.fields()) fields.push_back(f);
  return Schema(std::move(fields));
}

const Schema& ChecksSchema() {
  static const Schema* schema = new Schema(WithProduct(VerdictSchema()));
  return *schema;
}

const Schema& ProductMetricsSchema() {
  static const Schema* schema = new Schema(WithProduct(MetricsSchema()));
  return *schema;
}

// `rows` with `id` in front of each row.
RowCollection Prefixed(const RowCollection& rows, const std::string& id) {
  return Map(rows, [id](const Row& r) {
    Row row;
    row.AppendString(id);
    for (const Datum d : r) row.push_back(d);
    return row;
  });
}

// The union of `parts` (of `schema`), or an empty table of `schema` in the
// metadata's dataflow when there are none.
absl::StatusOr<Table> UnionOf(const std::vector<Table>& parts,
                              const Schema& schema,
                              const Collection<ProductDescriptor>& any) {
  if (parts.empty()) {
    return Table::FromMetadata(
        FlatMap(any,
                [](const ProductDescriptor&) { return std::vector<Row>(); }),
        schema);
  }
  Table all = parts[0];
  for (size_t i = 1; i < parts.size(); ++i) {
    DM_ASSIGN_OR_RETURN(all, all.Union(parts[i]));
  }
  return all;
}

ProductDescriptor Describe(const std::string& id, const std::string& owner,
                           std::string description) {
  ProductDescriptor d;
  d.id = id;
  d.owner = owner;
  d.description = std::move(description);
  return d;
}

}  // namespace

absl::StatusOr<std::unique_ptr<MeshGovernance>> MeshGovernance::Open(
    Mesh& mesh, GovernanceOptions options) {
  DM_ASSIGN_OR_RETURN(MeshMetadata metadata, mesh.Metadata());
  std::unique_ptr<MeshGovernance> gov(
      new MeshGovernance(mesh, std::move(options)));
  ProductDescriptor probe = Describe(gov->ProductId("checks"), "x", "");
  probe.schema = ChecksSchema();
  if (absl::Status valid = ValidateDescriptor(probe); !valid.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "governance domain '", gov->options_.domain, "': ", valid.message()));
  }
  gov->metadata_ = metadata;
  Graph& graph = *metadata.descriptors.graph();
  gov->feeds_ = graph.worker_index() == 0;
  for (PolicyInput* in : {&gov->roles_, &gov->clearances_, &gov->grants_}) {
    auto [handle, collection] =
        NewInput<std::pair<std::string, std::string>>(graph);
    in->input = std::move(handle);
    in->collection = collection;
  }
  auto [now_input, now] = NewInput<int64_t>(graph);
  gov->now_input_ = std::move(now_input);
  gov->now_ = now;
  if (!gov->options_.clock) {
    gov->options_.clock = [] { return absl::ToUnixMicros(absl::Now()); };
  }
  MeshGovernance* g = gov.get();
  DM_RETURN_IF_ERROR(mesh.AdvanceWith([g](uint64_t t) {
    if (g->feeds_) {
      // The clock as read now is the value at the time that closes.
      const int64_t now = g->options_.clock();
      if (now != g->last_now_) {
        if (g->last_now_) g->now_input_.Update(*g->last_now_, -1);
        g->now_input_.Update(now, 1);
        g->last_now_ = now;
      }
    }
    g->now_input_.AdvanceTo(t);
    for (PolicyInput* in : {&g->roles_, &g->clearances_, &g->grants_}) {
      in->input.AdvanceTo(t);
    }
  }));
  return gov;
}

std::string MeshGovernance::ProductId(const std::string& name) const {
  return absl::StrCat(options_.domain, ".", name);
}

absl::Status MeshGovernance::CheckDeclaring(const char* what) const {
  if (published_) {
    return absl::FailedPreconditionError(absl::StrCat(
        what,
        ": the governance products are published; declare contracts "
        "before Publish"));
  }
  return absl::OkStatus();
}

absl::Status MeshGovernance::AddChecks(const std::string& id,
                                       const Table& table,
                                       const Table& verdicts,
                                       const DataContract& contract) {
  // Verdicts count rows; they hold no value of the product, so their
  // lineage is of the kind that carries no classification.
  DM_ASSIGN_OR_RETURN(Table checks,
                      Table::Computed(table, Prefixed(verdicts.rows(), id),
                                      ChecksSchema(), TransformKind::kFilter));
  checks_.push_back(std::move(checks));
  contracts_[id] = contract.id;
  for (const ContractRole& r : contract.roles) {
    if (absl::StrContains(absl::AsciiStrToLower(r.access), "read") &&
        !grants_.present.count({r.role, id})) {
      DM_RETURN_IF_ERROR(Grant(r.role, id));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Table> MeshGovernance::Verdicts(const Table& table,
                                               const DataContract& contract,
                                               const std::string& object,
                                               const std::string& what) {
  auto named = [&](const absl::Status& s) {
    return absl::Status(s.code(), absl::StrCat(what, ": ", s.message()));
  };
  absl::StatusOr<AttachedContract> attached =
      diffmesh::Attach(contract, table.schema(), object);
  if (!attached.ok()) return named(attached.status());
  absl::StatusOr<std::vector<FreshnessRule>> freshness =
      FreshnessRules(*attached, table.schema());
  if (!freshness.ok()) return named(freshness.status());
  DM_ASSIGN_OR_RETURN(Table verdicts, Checks(table, *attached));
  if (freshness->empty()) return verdicts;
  DM_ASSIGN_OR_RETURN(Table fresh, FreshnessChecks(table, *freshness, now_));
  return verdicts.Union(fresh);
}

absl::Status MeshGovernance::Attach(const std::string& id,
                                    const DataContract& contract,
                                    const std::string& object) {
  const std::string what =
      absl::StrCat("attach contract ", contract.id, " to ", id);
  DM_RETURN_IF_ERROR(CheckDeclaring(what.c_str()));
  if (contracts_.count(id)) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, ": ", id, " already has contract ", contracts_[id]));
  }
  DM_ASSIGN_OR_RETURN(Table table, mesh_.Use(id));
  DM_ASSIGN_OR_RETURN(Table verdicts, Verdicts(table, contract, object, what));
  return AddChecks(id, table, verdicts, contract);
}

absl::StatusOr<Table> MeshGovernance::PublishChecked(
    const Table& table, ProductDescriptor descriptor,
    const DataContract& contract, CheckedOptions options) {
  const std::string id = descriptor.id;
  const std::string what =
      absl::StrCat("publish ", id, " with contract ", contract.id);
  DM_RETURN_IF_ERROR(CheckDeclaring(what.c_str()));
  if (contracts_.count(id)) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, ": ", id, " already has contract ", contracts_[id]));
  }
  DM_ASSIGN_OR_RETURN(Table verdicts,
                      Verdicts(table, contract, options.object, what));
  Table rows = table;
  if (options.hold) {
    DM_ASSIGN_OR_RETURN(rows, HoldWhileFailing(table, verdicts));
  }
  DM_ASSIGN_OR_RETURN(Table published,
                      mesh_.Publish(rows, std::move(descriptor)));
  DM_RETURN_IF_ERROR(AddChecks(id, table, verdicts, contract));
  return published;
}

absl::Status MeshGovernance::Profile(const std::string& id) {
  const std::string what = absl::StrCat("profile ", id);
  DM_RETURN_IF_ERROR(CheckDeclaring(what.c_str()));
  if (profiled_.count(id)) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, ": already profiled"));
  }
  DM_ASSIGN_OR_RETURN(Table table, mesh_.Use(id));
  DM_ASSIGN_OR_RETURN(Table profile, diffmesh::Profile(table));
  // Metrics hold values of the product (min, max): they keep its lineage.
  DM_ASSIGN_OR_RETURN(
      Table metrics,
      Table::Computed(table, Prefixed(profile.rows(), id),
                      ProductMetricsSchema(), TransformKind::kAggregate));
  metrics_.push_back(std::move(metrics));
  profiled_.insert(id);
  return absl::OkStatus();
}

absl::Status MeshGovernance::Publish() {
  if (published_) {
    return absl::FailedPreconditionError(
        "the governance products are already published");
  }
  const Collection<ProductDescriptor>& descriptors = metadata_.descriptors;
  const Collection<LineageEdge>& edges = metadata_.edges;
  auto publish = [&](const Table& table, const std::string& name,
                     const std::string& description) {
    return mesh_.Publish(
        table, Describe(ProductId(name), options_.owner, description));
  };

  // Metrics, checks and violations.
  DM_ASSIGN_OR_RETURN(Table metrics,
                      UnionOf(metrics_, ProductMetricsSchema(), descriptors));
  DM_RETURN_IF_ERROR(
      publish(metrics, "metrics", "The profiled products' quality metrics")
          .status());
  DM_ASSIGN_OR_RETURN(Table checks,
                      UnionOf(checks_, ChecksSchema(), descriptors));
  DM_RETURN_IF_ERROR(
      publish(checks, "checks", "Every enforced contract rule's verdict")
          .status());
  DM_ASSIGN_OR_RETURN(Table failing,
                      checks.Filter({"passed"}, [](const Row& in) {
                        return !in[0].as_bool();
                      }));
  DM_ASSIGN_OR_RETURN(
      Table violations,
      failing.Select({"product", "check", "property", "metric", "severity",
                      "observed", "expected", "since"}));
  DM_RETURN_IF_ERROR(
      publish(violations, "violations", "The failing contract rules").status());

  // Tiers.
  auto contracts =
      FlatMap(descriptors, [attached = contracts_](const ProductDescriptor& d) {
        std::vector<std::pair<std::string, std::string>> out;
        auto it = attached.find(d.id);
        if (it != attached.end()) out.emplace_back(d.id, it->second);
        return out;
      });
  auto failing_errors = FlatMap(checks.rows(), [](const Row& v) {
    // (product, check, property, metric, severity, passed, ...)
    std::vector<std::pair<std::string, std::string>> out;
    if (!v[5].as_bool() && v[4].as_string() == "error") {
      out.emplace_back(std::string(v[0].as_string()),
                       std::string(v[1].as_string()));
    }
    return out;
  });
  Collection<TierStatus> tiers = Tiers({.descriptors = descriptors,
                                        .edges = edges,
                                        .contracts = contracts,
                                        .failing_checks = failing_errors});
  DM_ASSIGN_OR_RETURN(Table tier_table,
                      Table::FromMetadata(TierRows(tiers), TierSchema()));
  DM_RETURN_IF_ERROR(
      publish(tier_table, "tiers", "The tier each product holds, and why")
          .status());

  // Classification and access.
  Collection<ColumnTag> held =
      PropagateClassification(DeclaredTags(descriptors), edges);
  DM_ASSIGN_OR_RETURN(
      Table tags,
      Table::FromMetadata(Map(held,
                              [](const ColumnTag& t) {
                                Row row;
                                row.AppendString(t.column.product);
                                row.AppendString(t.column.column);
                                row.AppendString(t.tag);
                                return row;
                              }),
                          Schema({{"product", ValueType::kString, false},
                                  {"column", ValueType::kString, false},
                                  {"tag", ValueType::kString, false}})));
  DM_RETURN_IF_ERROR(publish(tags, "classification",
                             "Every tag every column holds, declared or "
                             "carried along lineage")
                         .status());
  Collection<AccessEntry> access = Access({.descriptors = descriptors,
                                           .tags = held,
                                           .roles = roles_.collection,
                                           .clearances = clearances_.collection,
                                           .grants = grants_.collection},
                                          options_.access);
  DM_ASSIGN_OR_RETURN(Table decisions,
                      Table::FromMetadata(AccessRows(access), AccessSchema()));
  DM_RETURN_IF_ERROR(
      publish(decisions, "access", "What each principal may see of each column")
          .status());
  if (options_.enforce_access) {
    DM_RETURN_IF_ERROR(mesh_.EnforceAccess(ProductId("access")));
  }
  published_ = true;
  return absl::OkStatus();
}

absl::Status MeshGovernance::Change(PolicyInput& in, const std::string& a,
                                    const std::string& b, bool add) {
  if (a.empty() || b.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("a ", in.what, " needs two non-empty names"));
  }
  const std::pair<std::string, std::string> fact(a, b);
  if (add == (in.present.count(fact) > 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat(in.what, " (", a, ", ", b, ") is ",
                     add ? "already there" : "not there"));
  }
  if (add) {
    in.present.insert(fact);
  } else {
    in.present.erase(fact);
  }
  if (feeds_) in.input.Update(fact, add ? 1 : -1);
  return absl::OkStatus();
}

absl::Status MeshGovernance::AddRole(const std::string& principal,
                                     const std::string& role) {
  return Change(roles_, principal, role, true);
}
absl::Status MeshGovernance::RemoveRole(const std::string& principal,
                                        const std::string& role) {
  return Change(roles_, principal, role, false);
}
absl::Status MeshGovernance::AddClearance(const std::string& principal,
                                          const std::string& tag) {
  return Change(clearances_, principal, tag, true);
}
absl::Status MeshGovernance::RemoveClearance(const std::string& principal,
                                             const std::string& tag) {
  return Change(clearances_, principal, tag, false);
}
absl::Status MeshGovernance::Grant(const std::string& role,
                                   const std::string& pattern) {
  return Change(grants_, role, pattern, true);
}
absl::Status MeshGovernance::Revoke(const std::string& role,
                                    const std::string& pattern) {
  return Change(grants_, role, pattern, false);
}

}  // namespace diffmesh
