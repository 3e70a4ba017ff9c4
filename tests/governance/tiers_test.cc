#include "governance/tiers.h"

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <utility>
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

// A fact other than a descriptor: a product -> product lineage edge, an
// attached contract or a failing error check.
struct GovFact {
  enum Kind { kEdge, kContract, kFailing } kind = kEdge;
  std::string a;  // edge: from; contract, failing: the product
  std::string b;  // edge: to; contract: its id; failing: the check

  friend auto operator<=>(const GovFact&, const GovFact&) = default;
  uint64_t StableHash() const {
    return StableCombine(diffmesh::StableHash(a), diffmesh::StableHash(b));
  }
  template <typename H>
  friend H AbslHashValue(H h, const GovFact& f) {
    return H::combine(std::move(h), f.kind, f.a, f.b);
  }
};

// For the oracle's messages (found by argument-dependent lookup).
std::string Show(const ProductDescriptor& d) {
  return d.id + ":" + TierName(d.tier) + (d.owner.empty() ? "(no owner)" : "");
}
std::string Show(const GovFact& f) {
  static const char* kinds[] = {"edge", "contract", "failing"};
  return std::string(kinds[f.kind]) + "(" + f.a + "," + f.b + ")";
}
std::string Show(const TierStatus& s) {
  return s.product + ":" + TierName(s.declared) + "->" + TierName(s.held) +
         "[" + s.reason + "]";
}

namespace {

using testing::Multiset;

const char* kProducts[] = {"s.a", "s.b", "s.c", "s.d"};

ProductDescriptor GenDescriptor(std::mt19937_64& rng) {
  ProductDescriptor d;
  d.id = kProducts[rng() % 4];
  d.tier = static_cast<Tier>(rng() % 3);
  d.owner = d.id == "s.d" ? "" : "ana";  // s.d never has an owner
  d.schema = Schema({{"x", ValueType::kInt64}});
  return d;
}

GovFact GenFact(std::mt19937_64& rng) {
  GovFact f;
  f.kind = static_cast<GovFact::Kind>(rng() % 3);
  f.a = kProducts[rng() % 4];
  switch (f.kind) {
    case GovFact::kEdge:
      f.b = kProducts[rng() % 4];
      break;
    case GovFact::kContract:
      f.b = rng() % 2 == 0 ? "c1" : "c2";
      break;
    case GovFact::kFailing:
      f.b = rng() % 2 == 0 ? "rows" : "nulls";
      break;
  }
  return f;
}

// The rules of tiers.h, written out over the present facts.
Multiset<TierStatus> Evaluate(const Multiset<ProductDescriptor>& descriptors,
                              const Multiset<GovFact>& facts) {
  std::map<std::string, std::vector<const ProductDescriptor*>> of;
  for (const auto& [d, n] : descriptors) {
    if (n > 0) of[d.id].push_back(&d);
  }
  auto has = [&](GovFact::Kind kind, const std::string& a) {
    for (const auto& [f, n] : facts) {
      if (n > 0 && f.kind == kind && f.a == a) return true;
    }
    return false;
  };
  auto wants = [&](const std::string& p, Tier tier, bool need_owner) {
    auto it = of.find(p);
    if (it == of.end()) return false;
    for (const ProductDescriptor* d : it->second) {
      if (d->tier >= tier && (!need_owner || !d->owner.empty())) return true;
    }
    return false;
  };
  auto curated = [&](const std::string& p) {
    return wants(p, Tier::kCurated, true) && has(GovFact::kContract, p);
  };
  Multiset<TierStatus> out;
  for (const auto& [p, ds] : of) {
    Tier declared = Tier::kAuthoritative;
    for (const ProductDescriptor* d : ds)
      declared = std::min(declared, d->tier);
    std::set<std::pair<Tier, std::string>> reasons;  // (allows, text)
    for (const ProductDescriptor* d : ds) {
      if (d->tier >= Tier::kCurated && d->owner.empty()) {
        reasons.insert({Tier::kRaw, "no owner"});
      }
    }
    if (wants(p, Tier::kCurated, false) && !has(GovFact::kContract, p)) {
      reasons.insert({Tier::kRaw, "no data contract attached"});
    }
    if (wants(p, Tier::kAuthoritative, false)) {
      for (const auto& [f, n] : facts) {
        if (n <= 0) continue;
        if (f.kind == GovFact::kFailing && f.a == p) {
          reasons.insert({Tier::kCurated, "error check " + f.b + " fails"});
        }
        if (f.kind == GovFact::kEdge && f.b == p && f.a != p && !curated(f.a)) {
          reasons.insert(
              {Tier::kCurated, "upstream " + f.a + " is below curated"});
        }
      }
    }
    TierStatus s{p, declared, declared, ""};
    for (const auto& [allows, text] : reasons) {
      s.held = std::min(s.held, allows);
      if (!s.reason.empty()) s.reason += "; ";
      s.reason += text;
    }
    out[s] = 1;
  }
  return out;
}

Collection<TierStatus> Build(const Collection<ProductDescriptor>& descriptors,
                             const Collection<GovFact>& facts) {
  auto of_kind = [&](GovFact::Kind kind) {
    return Map(
        Filter(facts, [kind](const GovFact& f) { return f.kind == kind; }),
        [](const GovFact& f) { return std::pair(f.a, f.b); });
  };
  auto edges = Map(of_kind(GovFact::kEdge),
                   [](const std::pair<std::string, std::string>& e) {
                     return LineageEdge{{e.first, ""}, {e.second, ""}};
                   });
  return Tiers({.descriptors = descriptors,
                .edges = edges,
                .contracts = of_kind(GovFact::kContract),
                .failing_checks = of_kind(GovFact::kFailing)});
}

TEST(TiersOracle, StatusAtEveryTimeMatchesTheRules) {
  testing::OracleOptions options;
  options.rounds = 14;
  options.max_updates_per_round = 6;
  testing::CheckAgainstOracle<uint64_t, ProductDescriptor, GovFact, TierStatus>(
      "tiers", Build, Evaluate, GenDescriptor, GenFact, options);
}

// Column edges do not make an upstream; product edges do.
TEST(TiersTest, DowngradeCarriesItsReasonAndRecovers) {
  Worker worker;
  Graph& graph = worker.NewDataflow("tiers");
  auto [descriptors_in, descriptors] = NewInput<ProductDescriptor>(graph);
  auto [facts_in, facts] = NewInput<GovFact>(graph);
  std::map<std::string, std::pair<TierStatus, int64_t>> now;
  std::vector<std::pair<TierStatus, int64_t>> diffs;
  auto out = Inspect(Build(descriptors, facts),
                     [&](const TierStatus& s, uint64_t, int64_t r) {
                       diffs.push_back({s, r});
                       if (r > 0)
                         now[s.product] = {s, r};
                       else if (now[s.product].first == s)
                         now.erase(s.product);
                     });
  auto probe = ProbeFrontier(out.stream);
  uint64_t time = 0;
  auto close = [&] {
    ++time;
    descriptors_in.AdvanceTo(time);
    facts_in.AdvanceTo(time);
    worker.StepWhile([&] { return probe.LessThan(time); });
  };
  ProductDescriptor raw{.id = "ops.flights",
                        .owner = "ana",
                        .tier = Tier::kCurated,
                        .schema = Schema({{"x", ValueType::kInt64}})};
  ProductDescriptor metrics = raw;
  metrics.id = "ops.metrics";
  metrics.tier = Tier::kAuthoritative;
  descriptors_in.Update(raw, 1);
  descriptors_in.Update(metrics, 1);
  facts_in.Update({GovFact::kEdge, "ops.flights", "ops.metrics"}, 1);
  facts_in.Update({GovFact::kContract, "ops.metrics", "m1"}, 1);
  close();
  EXPECT_EQ(now["ops.flights"].first.held, Tier::kRaw);
  EXPECT_EQ(now["ops.flights"].first.reason, "no data contract attached");
  EXPECT_EQ(now["ops.metrics"].first.held, Tier::kCurated);
  EXPECT_EQ(now["ops.metrics"].first.reason,
            "upstream ops.flights is below curated");
  // The upstream gets its contract: metrics is authoritative; a failing
  // error check takes it down again, with the check's name.
  facts_in.Update({GovFact::kContract, "ops.flights", "f1"}, 1);
  close();
  EXPECT_EQ(now["ops.flights"].first.held, Tier::kCurated);
  EXPECT_EQ(now["ops.metrics"].first.held, Tier::kAuthoritative);
  EXPECT_EQ(now["ops.metrics"].first.reason, "");
  diffs.clear();
  facts_in.Update({GovFact::kFailing, "ops.metrics", "rows_positive"}, 1);
  close();
  ASSERT_EQ(diffs.size(), 2u);  // the old status out, the downgrade in
  EXPECT_EQ(now["ops.metrics"].first.held, Tier::kCurated);
  EXPECT_EQ(now["ops.metrics"].first.reason, "error check rows_positive fails");
  facts_in.Update({GovFact::kFailing, "ops.metrics", "rows_positive"}, -1);
  close();
  EXPECT_EQ(now["ops.metrics"].first.held, Tier::kAuthoritative);
  // Retired: no status.
  descriptors_in.Update(metrics, -1);
  close();
  EXPECT_EQ(now.count("ops.metrics"), 0u);
}

}  // namespace
}  // namespace diffmesh
