// Access decisions: what each principal may see of each product column,
// kept by the engine from the catalog, the columns' classifications and
// the policy, so a tag added upstream or a role taken away changes the
// decisions within one Advance.
//
//   Collection<AccessEntry> decisions = Access({
//       .descriptors = meta.descriptors,
//       .tags = PropagateClassification(DeclaredTags(meta.descriptors), edges),
//       .roles = roles,            // (principal, role)
//       .clearances = clearances,  // (principal, tag)
//       .grants = grants});        // (role, product pattern)
//   // {"ana", "crm.customers", "email", kMask, "pii without clearance"}
//
// The rules, for principal p and column c of product P:
//   1. p reads P if p owns it (P's owner is p's name or one of p's roles)
//      or one of p's roles has a grant whose pattern matches P's id: the
//      id itself, "domain.*" for every product of a domain, or "*". Else
//      every column of P is denied ("no grant on P").
//   2. An owner sees every column (allow, "owner").
//   3. Otherwise each tag c holds (its classification, declared or carried
//      along lineage: classification.h) that p has no clearance for
//      restricts c: to the tag's decision in AccessOptions::uncleared, or
//      mask for a tag not listed there. The column's decision is the most
//      restrictive (deny over mask over allow); its reason names the tags.
//      A column with no restricting tag is allowed.
// A principal is any name that has a role or a clearance, and the
// anonymous reader, the empty name (decided once there is any policy
// fact). Every principal also holds the role "anyone", so grants to
// "anyone" are public: they are all the anonymous reader gets.
//
// Costs: the decisions are the product of principals and columns, kept by
// key (principal, product, column): a tag change recomputes one column's
// decisions for every principal, a descriptor change one product's, and a
// change of the policy (roles, clearances, grants) every decision, as it
// should. Only changed decisions come out.
// Thread-safety: like the engine's operators (the dataflow's worker thread).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "catalog/descriptor.h"
#include "catalog/schema.h"
#include "catalog/table.h"
#include "engine/collection.h"
#include "engine/stable_hash.h"
#include "governance/classification.h"

namespace diffmesh {

// In increasing order of restriction.
enum class AccessDecision : uint8_t { kAllow = 0, kMask = 1, kDeny = 2 };

// "allow", "mask", "deny".
const char* AccessDecisionName(AccessDecision decision);
absl::StatusOr<AccessDecision> ParseAccessDecision(absl::string_view text);

struct AccessEntry {
  std::string principal;
  ColumnRef column;
  AccessDecision decision = AccessDecision::kAllow;
  std::string reason;

  friend auto operator<=>(const AccessEntry&, const AccessEntry&) = default;
  template <class Self>
  static auto WireFields(Self& self) {
    return std::tie(self.principal, self.column, self.decision, self.reason);
  }
  uint64_t StableHash() const {
    return StableCombine(diffmesh::StableHash(principal), column.StableHash());
  }
  template <typename H>
  friend H AbslHashValue(H h, const AccessEntry& e) {
    return H::combine(std::move(h), e.principal, e.column, e.decision,
                      e.reason);
  }
};

using NamePairs = Collection<std::pair<std::string, std::string>>;

struct AccessInputs {
  Collection<ProductDescriptor> descriptors;  // the active products
  Collection<ColumnTag> tags;                 // the tags columns hold
  NamePairs roles;                            // (principal, role)
  NamePairs clearances;                       // (principal, tag)
  NamePairs grants;                           // (role, product pattern)
};

struct AccessOptions {
  // What an uncleared principal gets of a column holding the tag; mask for
  // tags not listed.
  std::map<std::string, AccessDecision> uncleared;
};

// Whether grant pattern `pattern` covers product `id` (rule 1).
bool GrantCovers(absl::string_view pattern, absl::string_view id);

// One entry per principal and column of every active product.
Collection<AccessEntry> Access(const AccessInputs& inputs,
                               AccessOptions options = {});

// (principal string, product string, column string, decision string,
// reason string).
const Schema& AccessSchema();
RowCollection AccessRows(const Collection<AccessEntry>& entries);

}  // namespace diffmesh
