#include "governance/access.h"

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "engine/graph.h"
#include "engine/input.h"
#include "engine/probe.h"
#include "gtest/gtest.h"
#include "operators/filter.h"
#include "operators/inspect.h"
#include "operators/map.h"
#include "tests/operators/oracle.h"

namespace diffmesh {

// A fact of the access inputs other than a descriptor.
struct AccessFact {
  enum Kind { kTag, kRole, kClearance, kGrant } kind = kTag;
  std::string a, b, c;  // tag: (product, column, tag); others: (a, b)

  friend auto operator<=>(const AccessFact&, const AccessFact&) = default;
  uint64_t StableHash() const {
    return StableCombine(diffmesh::StableHash(a), diffmesh::StableHash(b));
  }
  template <typename H>
  friend H AbslHashValue(H h, const AccessFact& f) {
    return H::combine(std::move(h), f.kind, f.a, f.b, f.c);
  }
};

// For the oracle's messages (found by argument-dependent lookup).
std::string Show(const ProductDescriptor& d) { return d.id + "/" + d.owner; }
std::string Show(const AccessFact& f) {
  static const char* kinds[] = {"tag", "role", "clearance", "grant"};
  return std::string(kinds[f.kind]) + "(" + f.a + "," + f.b + "," + f.c + ")";
}
std::string Show(const AccessEntry& e) {
  return e.principal + "@" + e.column.ToString() + ":" +
         AccessDecisionName(e.decision) + "[" + e.reason + "]";
}

namespace {

using testing::Multiset;

const char* kProducts[] = {"s.a", "s.b", "t.c"};
const char* kPrincipals[] = {"ana", "bob", "cy"};
const char* kRoles[] = {"analyst", "team-s", "ana"};
const char* kTags[] = {"pii", "secret", "finance"};
const char* kPatterns[] = {"s.a", "s.*", "*", "t.c", "t."};

ProductDescriptor GenDescriptor(std::mt19937_64& rng) {
  static const char* owners[] = {"ana", "team-s", "dee"};
  ProductDescriptor d;
  d.id = kProducts[rng() % 3];
  d.owner = owners[rng() % 3];
  d.schema = Schema({{"x", ValueType::kInt64}, {"y", ValueType::kString}});
  return d;
}

AccessFact GenFact(std::mt19937_64& rng) {
  AccessFact f;
  f.kind = static_cast<AccessFact::Kind>(rng() % 4);
  switch (f.kind) {
    case AccessFact::kTag:
      f.a = kProducts[rng() % 3];
      f.b = rng() % 2 == 0 ? "x" : "y";
      f.c = kTags[rng() % 3];
      break;
    case AccessFact::kRole:
      f.a = kPrincipals[rng() % 3];
      f.b = kRoles[rng() % 3];
      break;
    case AccessFact::kClearance:
      f.a = kPrincipals[rng() % 3];
      f.b = kTags[rng() % 3];
      break;
    case AccessFact::kGrant:
      f.a = rng() % 4 == 0 ? "anyone" : kRoles[rng() % 3];
      f.b = kPatterns[rng() % 5];
      break;
  }
  return f;
}

AccessOptions Options() {
  return {.uncleared = {{"secret", AccessDecision::kDeny},
                        {"finance", AccessDecision::kAllow}}};
}

// The rules of access.h, written out.
Multiset<AccessEntry> Evaluate(const Multiset<ProductDescriptor>& descriptors,
                               const Multiset<AccessFact>& facts) {
  std::map<std::string, std::set<std::string>> roles, cleared;
  std::set<std::pair<std::string, std::string>> grants;
  std::map<ColumnRef, std::set<std::string>> tags;
  for (const auto& [f, n] : facts) {
    if (n <= 0) continue;
    switch (f.kind) {
      case AccessFact::kTag:
        tags[{f.a, f.b}].insert(f.c);
        break;
      case AccessFact::kRole:
        roles[f.a].insert(f.b);
        cleared[f.a];
        break;
      case AccessFact::kClearance:
        cleared[f.a].insert(f.b);
        roles[f.a];
        break;
      case AccessFact::kGrant:
        grants.insert({f.a, f.b});
        break;
    }
  }
  // Any policy fact: the anonymous reader is decided too.
  for (const auto& [f, n] : facts) {
    if (n > 0 && f.kind != AccessFact::kTag) {
      roles[""];
      cleared[""];
    }
  }
  auto covers = [](const std::string& pattern, const std::string& id) {
    if (pattern == "*" || pattern == id) return true;
    return pattern.size() > 2 && pattern.substr(pattern.size() - 2) == ".*" &&
           id.rfind(pattern.substr(0, pattern.size() - 1), 0) == 0;
  };
  const std::map<std::string, AccessDecision> uncleared = Options().uncleared;
  Multiset<AccessEntry> out;
  for (const auto& [d, n] : descriptors) {
    if (n <= 0) continue;
    for (const Field& field : d.schema.fields()) {
      const ColumnRef c{d.id, field.name};
      for (auto [p, held] : roles) {
        held.insert("anyone");
        AccessEntry e{p, c, AccessDecision::kAllow, ""};
        bool granted = false;
        for (const auto& [role, pattern] : grants) {
          if (held.count(role) && covers(pattern, d.id)) granted = true;
        }
        if (d.owner == p || held.count(d.owner)) {
          e.reason = "owner";
        } else if (!granted) {
          e.decision = AccessDecision::kDeny;
          e.reason = "no grant on " + d.id;
        } else {
          std::string names;
          for (const std::string& t : tags[c]) {
            if (cleared[p].count(t)) continue;
            names += (names.empty() ? "" : ", ") + t;
            auto rule = uncleared.find(t);
            e.decision = std::max(e.decision, rule == uncleared.end()
                                                  ? AccessDecision::kMask
                                                  : rule->second);
          }
          e.reason = names.empty() ? "granted" : names + " without clearance";
        }
        out[e] += n;
      }
    }
  }
  return out;
}

Collection<AccessEntry> Build(const Collection<ProductDescriptor>& descriptors,
                              const Collection<AccessFact>& facts) {
  auto of_kind = [&](AccessFact::Kind kind) {
    return Filter(facts,
                  [kind](const AccessFact& f) { return f.kind == kind; });
  };
  auto pairs = [&](AccessFact::Kind kind) {
    return Map(of_kind(kind),
               [](const AccessFact& f) { return std::pair(f.a, f.b); });
  };
  auto tags = Map(of_kind(AccessFact::kTag), [](const AccessFact& f) {
    return ColumnTag{{f.a, f.b}, f.c};
  });
  return Access({.descriptors = descriptors,
                 .tags = tags,
                 .roles = pairs(AccessFact::kRole),
                 .clearances = pairs(AccessFact::kClearance),
                 .grants = pairs(AccessFact::kGrant)},
                Options());
}

TEST(AccessOracle, DecisionsAtEveryTimeMatchTheRules) {
  testing::OracleOptions options;
  options.rounds = 14;
  options.max_updates_per_round = 6;
  testing::CheckAgainstOracle<uint64_t, ProductDescriptor, AccessFact,
                              AccessEntry>("access", Build, Evaluate,
                                           GenDescriptor, GenFact, options);
}

TEST(AccessTest, GrantPatterns) {
  EXPECT_TRUE(GrantCovers("*", "crm.customers"));
  EXPECT_TRUE(GrantCovers("crm.*", "crm.customers"));
  EXPECT_TRUE(GrantCovers("crm.customers", "crm.customers"));
  EXPECT_FALSE(GrantCovers("crm.*", "crmx.customers"));
  EXPECT_FALSE(GrantCovers("crm", "crm.customers"));
  EXPECT_FALSE(GrantCovers("crm.custom", "crm.customers"));
}

TEST(AccessTest, DecisionNamesRoundTrip) {
  for (AccessDecision d :
       {AccessDecision::kAllow, AccessDecision::kMask, AccessDecision::kDeny}) {
    EXPECT_EQ(*ParseAccessDecision(AccessDecisionName(d)), d);
  }
  EXPECT_FALSE(ParseAccessDecision("hide").ok());
}

}  // namespace
}  // namespace diffmesh
