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
// Declaring: Open, Attach and PublishChecked, then Publish, all before the
// mesh's first Advance (the checks are built into the products' dataflow).
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

  // Checks `contract` on active product `id`. NotFound / FailedPrecondition
  // from Mesh::Use, Attach's errors (checks.h), FailedPrecondition after
  // Publish or for a product that already has a contract.
  absl::Status Attach(const std::string& id, const DataContract& contract,
                      const std::string& object = "");
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

  MeshGovernance(Mesh& mesh, GovernanceOptions options)
      : mesh_(mesh), options_(std::move(options)) {}
  absl::Status Change(PolicyInput& input, const std::string& a,
                      const std::string& b, bool add);
  absl::Status CheckDeclaring(const char* what) const;
  // The verdicts of `contract`'s rules and freshness SLAs over `table`.
  absl::StatusOr<Table> Verdicts(const Table& table,
                                 const DataContract& contract,
                                 const std::string& object,
                                 const std::string& what);
  absl::Status AddChecks(const std::string& id, const Table& table,
                         const Table& verdicts, const DataContract& contract);

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
  // product id -> contract id, and every product's verdicts with the
  // product in front.
  std::map<std::string, std::string> contracts_;
  std::vector<Table> checks_;
  std::vector<Table> metrics_;  // with the product in front
  std::set<std::string> profiled_;
};

}  // namespace diffmesh
