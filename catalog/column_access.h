// Column access on read: what a principal may see of a product, as the
// rows of an access product decide. The mesh does not decide access
// itself; a layer above keeps the decisions as a product (governance/'s
// "governance.access": principal, product, column, decision, ...) and the
// mesh applies them on the reads made for a principal (MeshSnapshot::ReadAs
// and principals' subscriptions).
//
//   DM_ASSIGN_OR_RETURN(ProductView view,
//                       ViewOf(access_rows, "ana", descriptor));
//   Row seen = view.Project(row);   // hidden columns out, masked hidden
//
// An access product's rows start with (principal string, product string,
// column string, decision string), decision one of allow, mask and deny.
// A column the principal has no row for is hidden (access fails closed).
// Masked values: a string becomes "***", any other value null (so a masked
// column is nullable); nulls stay null. Hidden columns are left out of the
// rows and the schema.
// Thread-safety: ProductView is a value; the functions read their
// arguments only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "catalog/counted_runs.h"
#include "catalog/descriptor.h"
#include "catalog/row.h"
#include "catalog/schema.h"

namespace diffmesh {

enum class ColumnVisibility : uint8_t { kShown, kMasked, kHidden };

struct ProductView {
  std::vector<ColumnVisibility> columns;  // per column of the product
  Schema schema;                          // what the principal sees

  // `row` (of the product's schema) as the principal sees it.
  Row Project(const Row& row) const;
  // Every column shown.
  bool shows_all() const;
  friend bool operator==(const ProductView& a, const ProductView& b) {
    return a.columns == b.columns;
  }
};

// InvalidArgument unless `schema` starts with four string columns
// (principal, product, column, decision).
absl::Status CheckAccessSchema(const Schema& schema);

// The access rows of (principal, product): the access product's rows
// that start with them.
std::vector<Row> AccessEntries(const CountedRuns<Row>& access_rows,
                               const std::string& principal,
                               const std::string& product);
// `product`'s columns as `entries` (AccessEntries) decide them.
// PermissionDenied naming the principal and the product when no column is
// left to see; DataLoss for a decision that is not allow, mask or deny.
absl::StatusOr<ProductView> ViewFromEntries(const std::vector<Row>& entries,
                                            const std::string& principal,
                                            const ProductDescriptor& product);

}  // namespace diffmesh
