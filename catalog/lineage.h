// Lineage records: which columns and products a product is computed from.
//
//   LineageEdge e{{"crm.customers", "email"}, {"crm.contacts", "email"},
//                 TransformKind::kMasking};
//   e.ToString() == "crm.customers.email -> crm.contacts.email (masking)"
//
// A ColumnRef with an empty column names the product itself, so product
// edges (P -> Q) and column edges (P.x -> Q.y) live in one collection and
// one closure without mixing: a product node is never linked to a column.
// Thread-safety: value types (like std::string: const methods from any
// thread; one writer at a time).
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <tuple>

#include "absl/hash/hash.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/stable_hash.h"

namespace diffmesh {

// How an output column depends on an input column.
//   direct:    copied unchanged (select, rename, group key, union)
//   derived:   computed by a user function (derive)
//   aggregate: summarized over a group (group_by ... aggregate)
//   filter:    read by a predicate that decides which rows survive
//   join_key:  matched on by a join
//   masking:   passed through a declared masking function (mask)
enum class TransformKind : uint8_t {
  kDirect = 0,
  kDerived = 1,
  kAggregate = 2,
  kFilter = 3,
  kJoinKey = 4,
  kMasking = 5,
};

const char* TransformKindName(TransformKind kind);
absl::StatusOr<TransformKind> ParseTransformKind(absl::string_view text);

// The kind of a two-step path a -[first]-> b -[second]-> c, as one edge.
// Masking absorbs everything (a masked value stays masked downstream, so
// classification does not flow through it); a direct step keeps the other
// step's kind; otherwise the later step's kind wins, as it describes the
// value that arrives.
TransformKind ComposeKinds(TransformKind first, TransformKind second);

struct ColumnRef {
  std::string product;
  std::string column;  // empty: the product itself

  bool is_product() const { return column.empty(); }
  std::string ToString() const;  // "product" or "product.column"

  friend auto operator<=>(const ColumnRef&, const ColumnRef&) = default;
  template <class Self>
  static auto WireFields(Self& self) {
    return std::tie(self.product, self.column);
  }
  uint64_t StableHash() const {
    return StableCombine(diffmesh::StableHash(product),
                         diffmesh::StableHash(column));
  }
  template <typename H>
  friend H AbslHashValue(H h, const ColumnRef& r) {
    return H::combine(std::move(h), r.product, r.column);
  }
};

struct LineageEdge {
  ColumnRef from;
  ColumnRef to;
  TransformKind kind = TransformKind::kDirect;

  std::string ToString() const;  // "a.x -> b.y (kind)"

  friend auto operator<=>(const LineageEdge&, const LineageEdge&) = default;
  template <class Self>
  static auto WireFields(Self& self) {
    return std::tie(self.from, self.to, self.kind);
  }
  uint64_t StableHash() const {
    return diffmesh::StableHash(std::tuple(from, to, kind));
  }
  template <typename H>
  friend H AbslHashValue(H h, const LineageEdge& e) {
    return H::combine(std::move(h), e.from, e.to, e.kind);
  }
};

}  // namespace diffmesh
