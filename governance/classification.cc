#include "governance/classification.h"

#include <utility>
#include <vector>

#include "operators/arrange.h"
#include "operators/concat.h"
#include "operators/distinct.h"
#include "operators/filter.h"
#include "operators/flat_map.h"
#include "operators/iterate.h"
#include "operators/join.h"
#include "operators/map.h"

namespace diffmesh {

bool CarriesClassification(TransformKind kind) {
  return kind == TransformKind::kDirect || kind == TransformKind::kDerived ||
         kind == TransformKind::kAggregate;
}

Collection<ColumnTag> DeclaredTags(
    const Collection<ProductDescriptor>& descriptors) {
  return FlatMap(descriptors, [](const ProductDescriptor& d) {
    std::vector<ColumnTag> tags;
    for (const Field& f : d.schema.fields()) {
      for (const std::string& tag : f.tags) {
        tags.push_back({{d.id, f.name}, tag});
      }
    }
    return tags;
  });
}

Collection<ColumnTag> PropagateClassification(
    const Collection<ColumnTag>& declared,
    const Collection<LineageEdge>& edges) {
  // Column -> column steps a tag may take, once each.
  auto carrying = Filter(edges, [](const LineageEdge& e) {
    return !e.from.is_product() && !e.to.is_product() &&
           CarriesClassification(e.kind);
  });
  auto steps = Distinct(Map(carrying, [](const LineageEdge& e) {
    return std::pair<ColumnRef, ColumnRef>(e.from, e.to);
  }));
  auto by_from = ArrangeByKey(steps);  // once, outside the loop
  auto seeds = Distinct(declared);
  return Iterate(seeds, [&](const auto& held) {
    auto keyed = Map(held, [](const ColumnTag& t) {
      return std::pair<ColumnRef, std::string>(t.column, t.tag);
    });
    auto moved = JoinCore(
        ArrangeByKey(keyed), EnterArranged(by_from),
        [](const ColumnRef&, const std::string& tag, const ColumnRef& to) {
          return ColumnTag{to, tag};
        });
    return Distinct(Concat(moved, Enter(seeds)));
  });
}

}  // namespace diffmesh
