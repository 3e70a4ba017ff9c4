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
#include "operators/antijoin.h"
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

// A contract as the second half of a (product, contract) fact: its id and
// version (which ids hold no space, the fact splits on).
std::string ContractFact(const DataContract& c) {
  return absl::StrCat(c.id, " ", c.version);
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
  for (PolicyInput* in : {&gov->roles_, &gov->clearances_, &gov->grants_,
                          &gov->contract_facts_}) {
    auto [handle, collection] =
        NewInput<std::pair<std::string, std::string>>(graph);
    in->input = std::move(handle);
    in->collection = collection;
  }
  auto [now_input, now] = NewInput<int64_t>(graph);
  gov->now_input_ = std::move(now_input);
  gov->now_ = now;
  auto [superseded_input, superseded] = NewInput<std::string>(graph);
  gov->superseded_input_ = std::move(superseded_input);
  gov->superseded_ = superseded;
  DM_ASSIGN_OR_RETURN(Mesh::NewGathered gathered, mesh.NewGather());
  gov->gather_ = gathered.gather;
  gov->gathered_ = gathered.rows;
  if (!gov->options_.clock) {
    gov->options_.clock = [] { return absl::ToUnixMicros(absl::Now()); };
  }
  MeshGovernance* g = gov.get();
  DM_RETURN_IF_ERROR(mesh.AdvanceWith([g](uint64_t t) {
    g->TickClocks(t);
    g->superseded_input_.AdvanceTo(t);
    for (PolicyInput* in :
         {&g->roles_, &g->clearances_, &g->grants_, &g->contract_facts_}) {
      in->input.AdvanceTo(t);
    }
  }));
  return gov;
}

void MeshGovernance::TickClocks(uint64_t t) {
  // The clock as read now is the value at the time that closes, in the
  // products' dataflow and in every dataflow added for a contract.
  std::optional<int64_t> now;
  if (feeds_) now = options_.clock();
  auto tick = [&](InputHandle<int64_t>& input, std::optional<int64_t>& last) {
    if (now && now != last) {
      if (last) input.Update(*last, -1);
      input.Update(*now, 1);
      last = now;
    }
    input.AdvanceTo(t);
  };
  tick(now_input_, last_now_);
  for (auto& [id, clock] : live_clocks_) tick(clock.input, clock.last);
}

std::optional<std::string> MeshGovernance::ContractOf(
    const std::string& id) const {
  auto it = contracts_.find(id);
  if (it == contracts_.end()) return std::nullopt;
  return it->second.contract;
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

absl::StatusOr<bool> MeshGovernance::Declaring(const std::string& what) const {
  if (!published_ && !mesh_.running()) return true;
  if (published_ && mesh_.running()) return false;
  if (!published_) {
    return absl::FailedPreconditionError(
        absl::StrCat(what,
                     ": the mesh runs but the governance products were never "
                     "published (Publish before the first Advance)"));
  }
  return absl::FailedPreconditionError(absl::StrCat(
      what,
      ": the governance products are published and the mesh has not run "
      "yet; change contracts before Publish or after the first Advance"));
}

absl::Status MeshGovernance::AddChecks(const std::string& id,
                                       const Table& table,
                                       const Table& verdicts) {
  // Verdicts count rows; they hold no value of the product, so their
  // lineage is of the kind that carries no classification.
  DM_ASSIGN_OR_RETURN(Table checks,
                      Table::Computed(table, Prefixed(verdicts.rows(), id),
                                      ChecksSchema(), TransformKind::kFilter));
  checks_.insert_or_assign(id, std::move(checks));
  return absl::OkStatus();
}

absl::Status MeshGovernance::Record(const std::string& id,
                                    const DataContract* contract,
                                    Contracted* old, Contracted* now) {
  if (old != nullptr) {
    DM_RETURN_IF_ERROR(Change(contract_facts_, id, old->fact, false));
  }
  std::set<std::pair<std::string, std::string>> wanted;
  if (contract != nullptr) {
    now->fact = ContractFact(*contract);
    DM_RETURN_IF_ERROR(Change(contract_facts_, id, now->fact, true));
    for (const ContractRole& r : contract->roles) {
      if (absl::StrContains(absl::AsciiStrToLower(r.access), "read")) {
        wanted.insert({r.role, id});
      }
    }
  }
  if (old != nullptr) {
    for (const auto& grant : old->grants) {
      if (wanted.count(grant)) {
        now->grants.insert(grant);  // still the contract's
      } else if (grants_.present.count(grant)) {
        DM_RETURN_IF_ERROR(Revoke(grant.first, grant.second));
      }
    }
  }
  for (const auto& grant : wanted) {
    if (grants_.present.count(grant)) continue;  // the policy's, or kept
    DM_RETURN_IF_ERROR(Grant(grant.first, grant.second));
    now->grants.insert(grant);
  }
  return absl::OkStatus();
}

absl::StatusOr<MeshGovernance::Matched> MeshGovernance::Match(
    const DataContract& contract, const Schema& schema,
    const std::string& object, const std::string& what) {
  auto named = [&](const absl::Status& s) {
    return absl::Status(s.code(), absl::StrCat(what, ": ", s.message()));
  };
  absl::StatusOr<AttachedContract> attached =
      diffmesh::Attach(contract, schema, object);
  if (!attached.ok()) return named(attached.status());
  absl::StatusOr<std::vector<FreshnessRule>> freshness =
      FreshnessRules(*attached, schema);
  if (!freshness.ok()) return named(freshness.status());
  absl::StatusOr<std::optional<absl::Duration>> retention =
      DataSetRetention(*attached);
  if (!retention.ok()) return named(retention.status());
  return Matched{std::move(*attached), std::move(*freshness), *retention};
}

absl::StatusOr<Table> MeshGovernance::Verdicts(const Table& table,
                                               const Matched& matched,
                                               const Collection<int64_t>& now) {
  DM_ASSIGN_OR_RETURN(Table verdicts, Checks(table, matched.attached));
  if (matched.freshness.empty()) return verdicts;
  DM_ASSIGN_OR_RETURN(Table fresh,
                      FreshnessChecks(table, matched.freshness, now));
  return verdicts.Union(fresh);
}

absl::Status MeshGovernance::TakeOut(const std::string& id, Contracted& old) {
  if (old.feed) {
    DM_RETURN_IF_ERROR(mesh_.Ungather(*old.feed));
    old.feed.reset();
    live_clocks_.erase(id);  // closes its input
  }
  if (old.built_in) {
    if (!published_) {
      checks_.erase(id);
    } else if (feeds_) {
      superseded_input_.Update(id, 1);
    }
    old.built_in = false;
  }
  return absl::OkStatus();
}

absl::Status MeshGovernance::Build(const std::string& id,
                                   const DataContract& contract,
                                   const std::string& object,
                                   const std::string& what) {
  DM_ASSIGN_OR_RETURN(const bool declaring, Declaring(what));
  // Everything that can be refused is, before anything is built.
  DM_ASSIGN_OR_RETURN(Table table, mesh_.Use(id));
  DM_ASSIGN_OR_RETURN(Matched matched,
                      Match(contract, table.schema(), object, what));
  auto found = contracts_.find(id);
  Contracted* old = found == contracts_.end() ? nullptr : &found->second;
  Contracted now{.contract = contract.id};
  if (declaring) {
    DM_ASSIGN_OR_RETURN(Table verdicts, Verdicts(table, matched, now_));
    if (old != nullptr) DM_RETURN_IF_ERROR(TakeOut(id, *old));
    DM_RETURN_IF_ERROR(AddChecks(id, table, verdicts));
    now.built_in = true;
  } else {
    // A dataflow added to the running mesh: the product's rows from now
    // on, and the clock for its SLAs.
    std::optional<LiveClock> clock;
    Collection<int64_t> clock_rows;
    if (!matched.freshness.empty()) {
      auto [input, rows] = NewInput<int64_t>(*table.rows().graph());
      input.AdvanceTo(mesh_.time());
      clock.emplace(LiveClock{std::move(input), std::nullopt});
      clock_rows = rows;
    }
    DM_ASSIGN_OR_RETURN(Table verdicts, Verdicts(table, matched, clock_rows));
    DM_ASSIGN_OR_RETURN(
        Table checks, Table::Computed(table, Prefixed(verdicts.rows(), id),
                                      ChecksSchema(), TransformKind::kFilter));
    // The checks product is now computed from this product too.
    DM_RETURN_IF_ERROR(mesh_.AddLineage(ProductId("checks"), checks));
    DM_ASSIGN_OR_RETURN(const int feed, mesh_.Gather(gather_, checks));
    if (old != nullptr) DM_RETURN_IF_ERROR(TakeOut(id, *old));
    now.feed = feed;
    if (clock) live_clocks_.insert_or_assign(id, std::move(*clock));
  }
  DM_RETURN_IF_ERROR(Record(id, &contract, old, &now));
  contracts_.insert_or_assign(id, std::move(now));
  return mesh_.SetRetention(id, matched.retention);
}

absl::Status MeshGovernance::Attach(const std::string& id,
                                    const DataContract& contract,
                                    const std::string& object) {
  const std::string what =
      absl::StrCat("attach contract ", contract.id, " to ", id);
  if (auto it = contracts_.find(id); it != contracts_.end()) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, ": ", id, " already has contract ",
                     it->second.contract, " (Replace swaps it)"));
  }
  return Build(id, contract, object, what);
}

absl::Status MeshGovernance::Replace(const std::string& id,
                                     const DataContract& contract,
                                     const std::string& object) {
  const std::string what =
      absl::StrCat("replace the contract of ", id, " with ", contract.id);
  auto it = contracts_.find(id);
  if (it == contracts_.end()) {
    return absl::NotFoundError(
        absl::StrCat(what, ": ", id, " has no contract (Attach one)"));
  }
  if (it->second.held) {
    return absl::FailedPreconditionError(absl::StrCat(
        what, ": ", id,
        " is held by its contract's checks, which are built into its rows; "
        "its contract cannot change while it is published"));
  }
  return Build(id, contract, object, what);
}

absl::Status MeshGovernance::Detach(const std::string& id) {
  const std::string what = absl::StrCat("detach the contract of ", id);
  auto it = contracts_.find(id);
  if (it == contracts_.end()) {
    return absl::NotFoundError(absl::StrCat(what, ": it has none"));
  }
  if (it->second.held) {
    return absl::FailedPreconditionError(absl::StrCat(
        what, ": ", id,
        " is held by its contract's checks, which are built into its rows"));
  }
  DM_RETURN_IF_ERROR(Declaring(what).status());
  Contracted& old = it->second;
  DM_RETURN_IF_ERROR(TakeOut(id, old));
  Contracted none;
  DM_RETURN_IF_ERROR(Record(id, nullptr, &old, &none));
  contracts_.erase(it);
  // The checks no longer come from it (nor does their lineage).
  if (published_) {
    DM_RETURN_IF_ERROR(mesh_.RemoveLineage(ProductId("checks"), id));
  }
  return mesh_.SetRetention(id, std::nullopt);
}

absl::StatusOr<Table> MeshGovernance::PublishChecked(
    const Table& table, ProductDescriptor descriptor,
    const DataContract& contract, CheckedOptions options) {
  const std::string id = descriptor.id;
  const std::string what =
      absl::StrCat("publish ", id, " with contract ", contract.id);
  DM_RETURN_IF_ERROR(CheckDeclaring(what.c_str()));
  if (auto it = contracts_.find(id); it != contracts_.end()) {
    return absl::FailedPreconditionError(absl::StrCat(
        what, ": ", id, " already has contract ", it->second.contract));
  }
  DM_ASSIGN_OR_RETURN(Matched matched,
                      Match(contract, table.schema(), options.object, what));
  DM_ASSIGN_OR_RETURN(Table verdicts, Verdicts(table, matched, now_));
  Table rows = table;
  if (options.hold) {
    DM_ASSIGN_OR_RETURN(rows, HoldWhileFailing(table, verdicts));
  }
  DM_ASSIGN_OR_RETURN(Table published,
                      mesh_.Publish(rows, std::move(descriptor)));
  DM_RETURN_IF_ERROR(AddChecks(id, table, verdicts));
  Contracted now{
      .contract = contract.id, .held = options.hold, .built_in = true};
  DM_RETURN_IF_ERROR(Record(id, &contract, nullptr, &now));
  contracts_.insert_or_assign(id, std::move(now));
  DM_RETURN_IF_ERROR(mesh_.SetRetention(id, matched.retention));
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
  // The verdicts built in (but not those of contracts replaced since),
  // and those gathered from the dataflows of contracts attached while
  // running.
  std::vector<Table> built_in;
  for (const auto& [id, table] : checks_) built_in.push_back(table);
  DM_ASSIGN_OR_RETURN(Table built,
                      UnionOf(built_in, ChecksSchema(), descriptors));
  auto by_product = Map(built.rows(), [](const Row& r) {
    return std::pair<std::string, Row>(std::string(r[0].as_string()), r);
  });
  RowCollection kept =
      Map(Antijoin(by_product, superseded_),
          [](const std::pair<std::string, Row>& p) { return p.second; });
  DM_ASSIGN_OR_RETURN(Table gathered,
                      Table::FromMetadata(gathered_, ChecksSchema()));
  DM_ASSIGN_OR_RETURN(Table checks, built.WithRows(kept).Union(gathered));
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
                                        .contracts = contract_facts_.collection,
                                        .failing_checks = failing_errors});
  DM_ASSIGN_OR_RETURN(Table tier_table,
                      Table::FromMetadata(TierRows(tiers), TierSchema()));
  DM_RETURN_IF_ERROR(
      publish(tier_table, "tiers", "The tier each product holds, and why")
          .status());

  // The contracts in force.
  DM_ASSIGN_OR_RETURN(
      Table contract_table,
      Table::FromMetadata(Map(contract_facts_.collection,
                              [](const std::pair<std::string, std::string>& f) {
                                const size_t space = f.second.rfind(' ');
                                Row row;
                                row.AppendString(f.first);
                                row.AppendString(f.second.substr(0, space));
                                row.AppendString(
                                    space == std::string::npos
                                        ? std::string()
                                        : f.second.substr(space + 1));
                                return row;
                              }),
                          Schema({{"product", ValueType::kString, false},
                                  {"contract", ValueType::kString, false},
                                  {"version", ValueType::kString, false}})));
  DM_RETURN_IF_ERROR(publish(contract_table, "contracts",
                             "The data contract each product is under")
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
