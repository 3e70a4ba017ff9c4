#include "governance/classification.h"

#include <map>
#include <queue>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "engine/graph.h"
#include "engine/input.h"
#include "engine/probe.h"
#include "gtest/gtest.h"
#include "operators/inspect.h"
#include "tests/operators/oracle.h"

namespace diffmesh {

// For the oracle's messages (found by argument-dependent lookup).
std::string Show(const ColumnTag& t) {
  return t.column.ToString() + ":" + t.tag;
}
std::string Show(const LineageEdge& e) { return e.ToString(); }

namespace {

using testing::Multiset;

// Columns a.x .. d.y: few, so edges form chains, fans and cycles.
ColumnRef RandomColumn(std::mt19937_64& rng) {
  static const char* products[] = {"s.a", "s.b", "s.c", "s.d"};
  static const char* columns[] = {"x", "y"};
  return {products[rng() % 4], columns[rng() % 2]};
}

ColumnTag GenTag(std::mt19937_64& rng) {
  static const char* tags[] = {"pii", "confidential"};
  return {RandomColumn(rng), tags[rng() % 2]};
}

LineageEdge GenEdge(std::mt19937_64& rng) {
  static const TransformKind kinds[] = {
      TransformKind::kDirect,    TransformKind::kDerived,
      TransformKind::kAggregate, TransformKind::kFilter,
      TransformKind::kJoinKey,   TransformKind::kMasking};
  LineageEdge e{RandomColumn(rng), RandomColumn(rng), kinds[rng() % 6]};
  // Now and then a product-level edge, which carries nothing.
  if (rng() % 8 == 0) e.to.column.clear();
  return e;
}

// A walk from every declared tag along the edges that carry it.
Multiset<ColumnTag> Walk(const Multiset<ColumnTag>& declared,
                         const Multiset<LineageEdge>& edges) {
  std::map<ColumnRef, std::set<ColumnRef>> next;
  for (const auto& [e, n] : edges) {
    // Written out here, not the library's rule: direct, derived and
    // aggregate edges carry a tag.
    const bool carries = e.kind == TransformKind::kDirect ||
                         e.kind == TransformKind::kDerived ||
                         e.kind == TransformKind::kAggregate;
    if (n > 0 && !e.from.is_product() && !e.to.is_product() && carries) {
      next[e.from].insert(e.to);
    }
  }
  std::set<ColumnTag> held;
  std::queue<ColumnTag> todo;
  for (const auto& [t, n] : declared) {
    if (n > 0 && held.insert(t).second) todo.push(t);
  }
  while (!todo.empty()) {
    const ColumnTag t = todo.front();
    todo.pop();
    for (const ColumnRef& to : next[t.column]) {
      ColumnTag moved{to, t.tag};
      if (held.insert(moved).second) todo.push(moved);
    }
  }
  Multiset<ColumnTag> out;
  for (const ColumnTag& t : held) out[t] = 1;
  return out;
}

TEST(ClassificationOracle, TagsAtEveryTimeMatchAGraphWalk) {
  testing::OracleOptions options;
  options.rounds = 14;
  options.max_updates_per_round = 6;
  testing::CheckAgainstOracle<uint64_t, ColumnTag, LineageEdge, ColumnTag>(
      "classification",
      [](const Collection<ColumnTag>& declared,
         const Collection<LineageEdge>& edges) {
        return PropagateClassification(declared, edges);
      },
      Walk, GenTag, GenEdge, options);
}

TEST(ClassificationTest, DescriptorsDeclareTagsAndMaskingStopsThem) {
  Worker worker;
  Graph& graph = worker.NewDataflow("classification");
  auto [descriptors_in, descriptors] = NewInput<ProductDescriptor>(graph);
  auto [edges_in, edges] = NewInput<LineageEdge>(graph);
  std::map<ColumnTag, int64_t> held;
  auto out =
      Inspect(PropagateClassification(DeclaredTags(descriptors), edges),
              [&](const ColumnTag& t, uint64_t, int64_t r) { held[t] += r; });
  auto probe = ProbeFrontier(out.stream);
  ProductDescriptor raw;
  raw.id = "crm.customers_raw";
  raw.schema = Schema({{"email", ValueType::kString, true, "", {"pii"}},
                       {"country", ValueType::kString}});
  descriptors_in.Update(raw, 1);
  const ColumnRef email{"crm.customers_raw", "email"};
  const ColumnRef hash{"crm.customers", "email_hash"};
  const ColumnRef copy{"crm.customers", "email"};
  const ColumnRef domain{"crm.domains", "email"};
  edges_in.Update({email, hash, TransformKind::kMasking}, 1);
  edges_in.Update({email, copy, TransformKind::kDirect}, 1);
  edges_in.Update({copy, domain, TransformKind::kDerived}, 1);
  auto close = [&](uint64_t t) {
    descriptors_in.AdvanceTo(t);
    edges_in.AdvanceTo(t);
    worker.StepWhile([&] { return probe.LessThan(t); });
  };
  close(1);
  auto holds = [&](const ColumnRef& c) { return held[{c, "pii"}] > 0; };
  EXPECT_TRUE(holds(email));
  EXPECT_TRUE(holds(copy));
  EXPECT_TRUE(holds(domain));
  EXPECT_FALSE(holds(hash));
  // The tag removed at its source: gone everywhere downstream.
  ProductDescriptor untagged = raw;
  untagged.schema =
      Schema({{"email", ValueType::kString}, {"country", ValueType::kString}});
  descriptors_in.Update(raw, -1);
  descriptors_in.Update(untagged, 1);
  close(2);
  EXPECT_FALSE(holds(email));
  EXPECT_FALSE(holds(copy));
  EXPECT_FALSE(holds(domain));
}

}  // namespace
}  // namespace diffmesh
