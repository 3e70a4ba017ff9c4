// Classification: tags on product columns (pii, confidential, ...) carried
// downstream along column lineage, kept by the engine, so adding or
// removing a tag anywhere, or a lineage edge, updates every column it
// reaches within one Advance.
//
//   Collection<ColumnTag> declared = DeclaredTags(descriptors);
//   Collection<ColumnTag> held = PropagateClassification(declared, edges);
//   // ("crm.customers_curated", "email_hash") holds no "pii": masked
//
// A tag passes along an edge whose transform keeps what the value is:
// direct, derived and aggregate (CarriesClassification). Filter and
// join-key edges never carry it (they decide which rows exist, not what a
// value holds), and a masking edge stops it: a masked column holds a tag
// only where its product declares it. A column holds its declared tags and
// every tag that reaches it; cycles are fine (the result is a set, kept by
// Iterate over the lineage), and a retracted tag or edge takes back what
// only it carried.
// Thread-safety: like the engine's operators (the dataflow's worker thread).
#pragma once

#include <cstdint>
#include <string>
#include <tuple>

#include "catalog/descriptor.h"
#include "catalog/lineage.h"
#include "engine/collection.h"
#include "engine/stable_hash.h"

namespace diffmesh {

struct ColumnTag {
  ColumnRef column;
  std::string tag;

  friend auto operator<=>(const ColumnTag&, const ColumnTag&) = default;
  template <class Self>
  static auto WireFields(Self& self) {
    return std::tie(self.column, self.tag);
  }
  uint64_t StableHash() const {
    return StableCombine(column.StableHash(), diffmesh::StableHash(tag));
  }
  template <typename H>
  friend H AbslHashValue(H h, const ColumnTag& t) {
    return H::combine(std::move(h), t.column, t.tag);
  }
};

// Whether a tag passes along an edge of this kind.
bool CarriesClassification(TransformKind kind);

// Every (column, tag) a descriptor's schema declares (Field::tags).
Collection<ColumnTag> DeclaredTags(
    const Collection<ProductDescriptor>& descriptors);

// The tags every column holds: its declared ones and those carried to it.
Collection<ColumnTag> PropagateClassification(
    const Collection<ColumnTag>& declared,
    const Collection<LineageEdge>& edges);

}  // namespace diffmesh
