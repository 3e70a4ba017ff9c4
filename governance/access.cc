#include "governance/access.h"

#include <algorithm>
#include <set>
#include <tuple>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "operators/antijoin.h"
#include "operators/concat.h"
#include "operators/distinct.h"
#include "operators/flat_map.h"
#include "operators/join.h"
#include "operators/map.h"
#include "operators/reduce.h"

namespace diffmesh {
namespace {

// A fact of the policy: (kind, principal or role, role, clearance or
// pattern).
enum PolicyKind : int { kRole = 0, kClearance = 1, kGrant = 2 };
using PolicyFact = std::tuple<int, std::string, std::string>;
using PolicyFacts = std::vector<PolicyFact>;  // sorted

// The policy, read out of its facts.
struct Policy {
  std::map<std::string, std::set<std::string>> roles;  // every principal
  std::map<std::string, std::set<std::string>> clearances;
  std::vector<std::pair<std::string, std::string>> grants;  // (role, pattern)

  explicit Policy(const PolicyFacts& facts) {
    for (const auto& [kind, a, b] : facts) {
      switch (kind) {
        case kRole:
          roles[a].insert(b);
          clearances[a];
          break;
        case kClearance:
          clearances[a].insert(b);
          roles[a];
          break;
        default:
          grants.emplace_back(a, b);
      }
    }
    // The anonymous reader (the empty name) holds no role but "anyone".
    roles[""];
    clearances[""];
    for (auto& [principal, held] : roles) held.insert("anyone");
  }
};

// A column of an active product with its owner and the tags it holds.
struct ColumnFacts {
  ColumnRef column;
  std::string owner;
  std::vector<std::string> tags;  // sorted
  friend auto operator<=>(const ColumnFacts&, const ColumnFacts&) = default;
  template <class Self>
  static auto WireFields(Self& self) {
    return std::tie(self.column, self.owner, self.tags);
  }
  uint64_t StableHash() const { return column.StableHash(); }
  template <typename H>
  friend H AbslHashValue(H h, const ColumnFacts& c) {
    return H::combine(std::move(h), c.column, c.owner, c.tags);
  }
};

void Decide(const ColumnFacts& c, const Policy& policy,
            const AccessOptions& options, std::vector<AccessEntry>* out) {
  for (const auto& [principal, roles] : policy.roles) {
    AccessEntry e{principal, c.column, AccessDecision::kAllow, ""};
    const bool owns = c.owner == principal || roles.count(c.owner) > 0;
    bool granted = false;
    for (const auto& [role, pattern] : policy.grants) {
      granted = granted || (roles.count(role) > 0 &&
                            GrantCovers(pattern, c.column.product));
    }
    if (owns) {
      e.reason = "owner";
    } else if (!granted) {
      e.decision = AccessDecision::kDeny;
      e.reason = absl::StrCat("no grant on ", c.column.product);
    } else {
      const std::set<std::string>& cleared = policy.clearances.at(principal);
      std::vector<std::string> restricting;
      for (const std::string& tag : c.tags) {
        if (cleared.count(tag) > 0) continue;
        restricting.push_back(tag);
        auto rule = options.uncleared.find(tag);
        e.decision = std::max(e.decision, rule == options.uncleared.end()
                                              ? AccessDecision::kMask
                                              : rule->second);
      }
      e.reason = restricting.empty()
                     ? "granted"
                     : absl::StrCat(absl::StrJoin(restricting, ", "),
                                    " without clearance");
    }
    out->push_back(std::move(e));
  }
}

}  // namespace

const char* AccessDecisionName(AccessDecision decision) {
  switch (decision) {
    case AccessDecision::kAllow:
      return "allow";
    case AccessDecision::kMask:
      return "mask";
    case AccessDecision::kDeny:
      return "deny";
  }
  return "deny";
}

absl::StatusOr<AccessDecision> ParseAccessDecision(absl::string_view text) {
  for (AccessDecision d :
       {AccessDecision::kAllow, AccessDecision::kMask, AccessDecision::kDeny}) {
    if (text == AccessDecisionName(d)) return d;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown access decision '", text, "' (allow, mask or deny)"));
}

bool GrantCovers(absl::string_view pattern, absl::string_view id) {
  if (pattern == "*" || pattern == id) return true;
  if (absl::EndsWith(pattern, ".*")) {
    pattern.remove_suffix(1);  // "domain."
    return absl::StartsWith(id, pattern);
  }
  return false;
}

Collection<AccessEntry> Access(const AccessInputs& in, AccessOptions options) {
  using Pair = std::pair<std::string, std::string>;
  auto facts_of = [](const NamePairs& pairs, int kind) {
    return Map(pairs, [kind](const Pair& p) {
      return std::pair<uint64_t, PolicyFact>(
          0, PolicyFact{kind, p.first, p.second});
    });
  };
  // The whole policy as one value (it is small; every decision reads it).
  auto policy =
      Reduce<PolicyFacts>(Concat(Concat(facts_of(in.roles, kRole),
                                        facts_of(in.clearances, kClearance)),
                                 facts_of(in.grants, kGrant)),
                          [](const uint64_t&, const auto& input, auto* output) {
                            PolicyFacts facts;
                            for (const auto& [fact, n] : input) {
                              if (n > 0) facts.push_back(fact);
                            }
                            output->push_back({std::move(facts), 1});
                          });

  // Each column's tags, and each column of each product with its owner.
  auto tags_of = Reduce<std::vector<std::string>>(
      Map(in.tags,
          [](const ColumnTag& t) { return std::pair(t.column, t.tag); }),
      [](const ColumnRef&, const auto& input, auto* output) {
        std::vector<std::string> tags;
        for (const auto& [tag, n] : input) {
          if (n > 0) tags.push_back(tag);
        }
        output->push_back({std::move(tags), 1});
      });
  auto columns = FlatMap(in.descriptors, [](const ProductDescriptor& d) {
    std::vector<std::pair<ColumnRef, std::string>> out;
    for (const Field& f : d.schema.fields()) {
      out.emplace_back(ColumnRef{d.id, f.name}, d.owner);
    }
    return out;
  });
  auto tagged = JoinCore(
      ArrangeByKey(columns), ArrangeByKey(tags_of),
      [](const ColumnRef& c, const std::string& owner,
         const std::vector<std::string>& tags) {
        return std::pair<uint64_t, ColumnFacts>(0, ColumnFacts{c, owner, tags});
      });
  auto untagged = Map(
      Antijoin(columns,
               Distinct(Map(tags_of, [](const auto& p) { return p.first; }))),
      [](const std::pair<ColumnRef, std::string>& p) {
        return std::pair<uint64_t, ColumnFacts>(
            0, ColumnFacts{p.first, p.second, {}});
      });
  auto decided = JoinCore(
      ArrangeByKey(Concat(tagged, untagged)), ArrangeByKey(policy),
      [options = std::move(options)](const uint64_t&, const ColumnFacts& c,
                                     const PolicyFacts& facts) {
        std::vector<AccessEntry> out;
        Decide(c, Policy(facts), options, &out);
        return out;
      });
  return FlatMap(
      decided, [](const std::vector<AccessEntry>& entries) { return entries; });
}

const Schema& AccessSchema() {
  static const Schema* schema = new Schema({
      {"principal", ValueType::kString, /*nullable=*/false},
      {"product", ValueType::kString, /*nullable=*/false},
      {"column", ValueType::kString, /*nullable=*/false},
      {"decision", ValueType::kString, /*nullable=*/false},
      {"reason", ValueType::kString, /*nullable=*/false},
  });
  return *schema;
}

RowCollection AccessRows(const Collection<AccessEntry>& entries) {
  return Map(entries, [](const AccessEntry& e) {
    Row row;
    row.AppendString(e.principal);
    row.AppendString(e.column.product);
    row.AppendString(e.column.column);
    row.AppendString(AccessDecisionName(e.decision));
    row.AppendString(e.reason);
    return row;
  });
}

}  // namespace diffmesh
