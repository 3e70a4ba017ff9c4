// MeshGovernance: a mesh's contracts, checks, violations, tiers,
// classification and access decisions as products of the mesh itself,
// kept by the same engine from the products' rows and the catalog.
//
//   DM_ASSIGN_OR_RETURN(auto gov, MeshGovernance::Open(*mesh));
//   DM_RETURN_IF_ERROR(gov->Attach("ops.flights", flights_contract));
//   DM_ASSIGN_OR_RETURN(Table delays, gov->PublishChecked(
//       computed, delays_descriptor, delays_contract));   // held on errors
//   gov->AddRole("ana", "analyst");
//   gov->Grant("analyst", "ops.*");
//   DM_RETURN_IF_ERROR(gov->Publish());
//   DM_RETURN_IF_ERROR(mesh->Advance());
//   mesh->Read("governance.tiers");   // (product, declared, tier, reason)
//
// Products (in options.domain, "governance" by default), published by
// Publish() and then read, read as of a version and subscribed to like any:
//   checks          every enforced rule's verdict, and every freshness
//                   SLA's (freshness.h, against options.clock): (product,
//                   check, property, metric, severity, passed, observed,
//                   expected, since) -- checks.h
//   metrics         the profiled products' metrics: (product, column,
//                   metric, value, text) -- profile.h
//   violations      the failing ones: (product, check, property, metric,
//                   severity, observed, expected, since)
//   tiers           (product, declared, tier, reason) -- tiers.h
//   contracts       (product, contract, version): the contract each
//                   product is under now
//   classification  (product, column, tag): every tag every column holds,
//                   declared or carried along lineage -- classification.h
//   access          (principal, product, column, decision, reason) --
//                   access.h
// With options.enforce_access, the access product decides what reads for
// a principal see (MeshSnapshot::ReadAs, subscriptions with a principal):
// denied columns left out, masked values hidden, no column: denied.
// A product with an attached contract counts as having one for its tier;
// its failing error checks hold authoritative back. A contract's roles
// with read access become grants of that role on the product.
//
// Declaring: Open, Attach, PublishChecked and Profile, then Publish, all
// before the mesh's first Advance (the checks are built into the products'
// dataflow).
//
// Contracts while the mesh runs. After the first Advance, Attach checks a
// contract on a product that has none, Replace swaps a product's contract
// for another (a tightened one, say) and Detach removes it; each takes
// effect at the next Advance, in the same time: the old verdicts are
// retracted and the new contract's are computed in a dataflow added to the
// running mesh (Mesh::Use) from the product's current rows, then kept live
// from its changes, and gathered into the checks product (Mesh::Gather);
// violations and tiers follow in that time. A product published by
// PublishChecked with options.hold keeps its contract (the hold is built
// into its rows). Between Publish and the first Advance, contracts cannot
// change. Lineage edges into the checks product are those of the
// contracts attached before Publish, and those of each contract attached
// or replaced while running from then on (Mesh::AddLineage); a detached
// contract's product leaves them (Mesh::RemoveLineage: every edge from it
// into the checks; the edges from a product its references rule named
// stay, as another contract's checks may read that product too).
// The policy (roles, clearances, grants) may change at any time; a change
// takes effect at the next Advance, as a change of the access decisions.
// The policy is not stored: a program declares it at each start.
//
// Several workers: every worker opens its own on its mesh and makes the
// same calls, as with the mesh.
// Thread-safety: one caller, the mesh's worker thread.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "catalog/mesh.h"
#include "catalog/table.h"
#include "engine/input.h"
#include "governance/access.h"
#include "governance/checks.h"
#include "governance/contract.h"
#include "governance/freshness.h"

namespace diffmesh {

struct GovernanceOptions {
  std::string domain = "governance";  // of the products it publishes
  std::string owner = "governance";   // their owner
  AccessOptions access;
  // Reads for principals follow the access product (Mesh::EnforceAccess).
  bool enforce_access = true;
  // Now, in microseconds since the epoch, read at each Advance for the
  // contracts' freshness SLAs (freshness.h); none: the wall clock.
  std::function<int64_t()> clock;
};

struct CheckedOptions {
  std::string object;  // the contract's schema object; empty: its only one
  // Hold the published rows while an error check fails (gate.h).
  bool hold = true;
};

class MeshGovernance {
 public:
  // FailedPrecondition after the mesh's first Advance; InvalidArgument for
  // a domain that is not a valid id part.
  static absl::StatusOr<std::unique_ptr<MeshGovernance>> Open(
      Mesh& mesh, GovernanceOptions options = {});

  // Checks `contract` on active product `id` (before Publish, or while
  // the mesh runs). NotFound / FailedPrecondition from Mesh::Use, Attach's
  // errors (checks.h), FailedPrecondition between Publish and the first
  // Advance or for a product that already has a contract.
  absl::Status Attach(const std::string& id, const DataContract& contract,
                      const std::string& object = "");
  // Product `id`'s contract becomes `contract` (its rules, SLAs and read
  // roles; grants made for the old contract's roles alone are revoked).
  // Errors: as Attach; NotFound for a product with no contract;
  // FailedPrecondition for a product held by its contract's checks.
  // Nothing changes on an error.
  absl::Status Replace(const std::string& id, const DataContract& contract,
                       const std::string& object = "");
  // Product `id` is no longer under contract: its verdicts are retracted
  // (and its tier falls to raw, "no data contract attached"). Errors: as
  // Replace.
  absl::Status Detach(const std::string& id);
  // The contract id product `id` is under, if any.
  std::optional<std::string> ContractOf(const std::string& id) const;
  // Publishes `table` as `descriptor` with `contract` checked on its rows;
  // with options.hold, readers of the product (and products built on what
  // this returns) see only versions whose error checks pass. Errors: as
  // Attach and Mesh::Publish.
  absl::StatusOr<Table> PublishChecked(const Table& table,
                                       ProductDescriptor descriptor,
                                       const DataContract& contract,
                                       CheckedOptions options = {});
  // Profiles active product `id` (profile.h): its metrics join
  // <domain>.metrics. Errors: Mesh::Use's; FailedPrecondition after
  // Publish or for a product already profiled.
  absl::Status Profile(const std::string& id);
  // Publishes the governance products. Once; FailedPrecondition again.
  absl::Status Publish();

  // The policy. Adding what is there, or removing what is not, is
  // InvalidArgument (nothing changes).
  absl::Status AddRole(const std::string& principal, const std::string& role);
  absl::Status RemoveRole(const std::string& principal,
                          const std::string& role);
  absl::Status AddClearance(const std::string& principal,
                            const std::string& tag);
  absl::Status RemoveClearance(const std::string& principal,
                               const std::string& tag);
  // `pattern`: a product id, "domain.*" or "*" (access.h).
  absl::Status Grant(const std::string& role, const std::string& pattern);
  absl::Status Revoke(const std::string& role, const std::string& pattern);

  // "<domain>.<name>".
  std::string ProductId(const std::string& name) const;

 private:
  // One kind of policy fact: an input of the products' dataflow.
  struct PolicyInput {
    const char* what;
    std::set<std::pair<std::string, std::string>> present;
    InputHandle<std::pair<std::string, std::string>> input;
    Collection<std::pair<std::string, std::string>> collection;
  };

  // A product's contract, and how its verdicts are computed.
  struct Contracted {
    std::string contract;  // its id
    std::string fact;      // in contract_facts_: "id version"
    bool held = false;     // PublishChecked with hold
    // Its verdicts are in checks_ (built before Publish); once superseded,
    // they are filtered out of the checks product.
    bool built_in = false;
    // Its verdicts are gathered from a dataflow added while running.
    std::optional<int> feed;
    // The grants made for the contract's read roles.
    std::set<std::pair<std::string, std::string>> grants;
  };
  // The clock of a dataflow added while running, for its freshness SLAs.
  struct LiveClock {
    InputHandle<int64_t> input;
    std::optional<int64_t> last;
  };
  // A contract matched to a product's schema, checked before anything is
  // built.
  struct Matched {
    AttachedContract attached;
    std::vector<FreshnessRule> freshness;
    std::optional<absl::Duration> retention;  // of the data versions
  };

  MeshGovernance(Mesh& mesh, GovernanceOptions options)
      : mesh_(mesh), options_(std::move(options)) {}
  absl::Status Change(PolicyInput& input, const std::string& a,
                      const std::string& b, bool add);
  absl::Status CheckDeclaring(const char* what) const;
  // Whether the contracts are built into the products' dataflow now
  // (before Publish), or into dataflows added while running (after the
  // first Advance); FailedPrecondition in between.
  absl::StatusOr<bool> Declaring(const std::string& what) const;
  static absl::StatusOr<Matched> Match(const DataContract& contract,
                                       const Schema& schema,
                                       const std::string& object,
                                       const std::string& what);
  // The verdicts of a matched contract's rules and freshness SLAs over
  // `table`; `now` is the clock in the table's dataflow.
  static absl::StatusOr<Table> Verdicts(const Table& table,
                                        const Matched& matched,
                                        const Collection<int64_t>& now);
  // Builds `contract`'s checks on product `id` (replacing its contract's,
  // if it has one).
  absl::Status Build(const std::string& id, const DataContract& contract,
                     const std::string& object, const std::string& what);
  // Takes product `id`'s current verdicts out (at the next Advance).
  absl::Status TakeOut(const std::string& id, Contracted& old);
  // The contract facts and grants for `contract` on `id` (none: the
  // product is no longer under contract), replacing those of `old` (if
  // any).
  absl::Status Record(const std::string& id, const DataContract* contract,
                      Contracted* old, Contracted* now);
  absl::Status AddChecks(const std::string& id, const Table& table,
                         const Table& verdicts);
  void TickClocks(uint64_t t);

  Mesh& mesh_;
  GovernanceOptions options_;
  bool feeds_ = false;  // worker 0 feeds the policy
  bool published_ = false;
  MeshMetadata metadata_;
  PolicyInput roles_{"role"}, clearances_{"clearance"}, grants_{"grant"};
  // The clock, as one value of the products' dataflow at every time.
  InputHandle<int64_t> now_input_;
  Collection<int64_t> now_;
  std::optional<int64_t> last_now_;
  // Per product: its contract; (product, contract id) facts, the tiers'
  // input.
  std::map<std::string, Contracted> contracts_;
  PolicyInput contract_facts_{"contract"};
  // Verdicts built before Publish (product in front), by product, and the
  // products whose built-in verdicts are superseded.
  std::map<std::string, Table> checks_;
  InputHandle<std::string> superseded_input_;
  Collection<std::string> superseded_;
  // Verdicts gathered from dataflows added while running.
  int gather_ = 0;
  RowCollection gathered_;
  std::map<std::string, LiveClock> live_clocks_;  // by product
  std::vector<Table> metrics_;                    // with the product in front
  std::set<std::string> profiled_;
};

}  // namespace diffmesh
