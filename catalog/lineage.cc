#include "catalog/lineage.h"

#include "absl/strings/str_cat.h"

namespace diffmesh {

const char* TransformKindName(TransformKind kind) {
  switch (kind) {
    case TransformKind::kDirect:
      return "direct";
    case TransformKind::kDerived:
      return "derived";
    case TransformKind::kAggregate:
      return "aggregate";
    case TransformKind::kFilter:
      return "filter";
    case TransformKind::kJoinKey:
      return "join_key";
    case TransformKind::kMasking:
      return "masking";
  }
  return "?";
}

absl::StatusOr<TransformKind> ParseTransformKind(absl::string_view text) {
  for (int k = 0; k <= static_cast<int>(TransformKind::kMasking); ++k) {
    auto kind = static_cast<TransformKind>(k);
    if (text == TransformKindName(kind)) return kind;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown transform kind '", text, "'"));
}

TransformKind ComposeKinds(TransformKind first, TransformKind second) {
  if (first == TransformKind::kMasking || second == TransformKind::kMasking) {
    return TransformKind::kMasking;
  }
  if (second == TransformKind::kDirect) return first;
  return second;
}

std::string ColumnRef::ToString() const {
  return column.empty() ? product : absl::StrCat(product, ".", column);
}

std::string LineageEdge::ToString() const {
  return absl::StrCat(from.ToString(), " -> ", to.ToString(), " (",
                      TransformKindName(kind), ")");
}

}  // namespace diffmesh
