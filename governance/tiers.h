// Certification tiers: the tier each product holds now, kept by the
// engine from the catalog, the attached contracts and the failing checks,
// so a downgrade (and its recovery) is a diff within one Advance.
//
//   Collection<TierStatus> tiers = Tiers({.descriptors = meta.descriptors,
//                                         .edges = meta.edges,
//                                         .contracts = attached,
//                                         .failing_checks = failing});
//   // {"ops.delays", declared authoritative, held curated,
//   //  "error check rows_positive fails"}
//
// A product declares a tier in its descriptor and holds the highest tier
// up to the declared one whose requirements it meets:
//   curated        an owner and an attached data contract;
//   authoritative  curated's, every error-severity check of the product
//                  passing, and every upstream product (a product -> product
//                  lineage edge into it) holding curated or above.
// An upstream holds curated or above exactly when it declares so, has an
// owner and has a contract (authoritative needs curated first), so no walk
// over the lineage is needed: each product's tier depends on its own facts
// and its direct upstreams'. A retired upstream holds nothing and blocks
// authoritative.
//
// Each reason a product holds less than it declares is a line of
// TierStatus::reason (sorted, "; "-joined); when a reason goes away the
// status is retracted and the product's new one inserted at the same time.
// Thread-safety: like the engine's operators (the dataflow's worker thread).
#pragma once

#include <cstdint>
#include <string>
#include <tuple>
#include <utility>

#include "catalog/descriptor.h"
#include "catalog/lineage.h"
#include "catalog/schema.h"
#include "catalog/table.h"
#include "engine/collection.h"
#include "engine/stable_hash.h"

namespace diffmesh {

struct TierInputs {
  Collection<ProductDescriptor> descriptors;  // the active products
  Collection<LineageEdge> edges;              // their lineage
  // (product, contract id): contracts attached to products.
  Collection<std::pair<std::string, std::string>> contracts;
  // (product, check id): the product's error-severity checks failing now.
  Collection<std::pair<std::string, std::string>> failing_checks;
};

struct TierStatus {
  std::string product;
  Tier declared = Tier::kRaw;
  Tier held = Tier::kRaw;
  std::string reason;  // empty when held == declared

  friend auto operator<=>(const TierStatus&, const TierStatus&) = default;
  template <class Self>
  static auto WireFields(Self& self) {
    return std::tie(self.product, self.declared, self.held, self.reason);
  }
  uint64_t StableHash() const { return diffmesh::StableHash(product); }
  template <typename H>
  friend H AbslHashValue(H h, const TierStatus& s) {
    return H::combine(std::move(h), s.product, s.declared, s.held, s.reason);
  }
};

// One status per active product.
Collection<TierStatus> Tiers(const TierInputs& inputs);

// (product string, declared string, tier string, reason string nullable):
// the tier names of TierName; reason null when the declared tier is held.
const Schema& TierSchema();
// `tiers` as rows of TierSchema(), to publish (Table::FromMetadata).
RowCollection TierRows(const Collection<TierStatus>& tiers);

}  // namespace diffmesh
