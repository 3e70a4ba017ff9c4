#include "catalog/column_access.h"

#include <algorithm>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace diffmesh {

Row ProductView::Project(const Row& row) const {
  Row out;
  size_t c = 0;
  for (const Datum d : row) {
    const ColumnVisibility v =
        c < columns.size() ? columns[c] : ColumnVisibility::kHidden;
    ++c;
    if (v == ColumnVisibility::kHidden) continue;
    if (v == ColumnVisibility::kShown || d.is_null()) {
      out.push_back(d);
    } else if (d.type() == ValueType::kString) {
      out.AppendString("***");
    } else {
      out.AppendNull();
    }
  }
  return out;
}

bool ProductView::shows_all() const {
  for (ColumnVisibility v : columns) {
    if (v != ColumnVisibility::kShown) return false;
  }
  return true;
}

absl::Status CheckAccessSchema(const Schema& schema) {
  static const char* names[] = {"principal", "product", "column", "decision"};
  if (schema.size() < 4) {
    return absl::InvalidArgumentError(
        "an access product needs the columns (principal, product, column, "
        "decision) first");
  }
  for (int i = 0; i < 4; ++i) {
    if (schema.fields()[i].type != ValueType::kString) {
      return absl::InvalidArgumentError(absl::StrCat(
          "an access product's column ", i + 1, " (", names[i],
          ") must be a string, not ", ValueTypeName(schema.fields()[i].type)));
    }
  }
  return absl::OkStatus();
}

std::vector<Row> AccessEntries(const CountedRuns<Row>& access_rows,
                               const std::string& principal,
                               const std::string& product) {
  Row prefix{Value(principal), Value(product)};
  std::vector<Row> out;
  access_rows.ForEachFrom(
      &prefix,
      [&](const Row& row) {
        return absl::StartsWith(row.bytes(), prefix.bytes());
      },
      [&](const Row& row, int64_t n) {
        if (n > 0) out.push_back(row);
      });
  return out;
}

absl::StatusOr<ProductView> ViewFromEntries(const std::vector<Row>& entries,
                                            const std::string& principal,
                                            const ProductDescriptor& product) {
  std::map<std::string, ColumnVisibility> decided;
  for (const Row& e : entries) {
    const Datum decision = e[3];
    const absl::string_view text =
        decision.is_null() ? absl::string_view() : decision.as_string();
    ColumnVisibility v;
    if (text == "allow") {
      v = ColumnVisibility::kShown;
    } else if (text == "mask") {
      v = ColumnVisibility::kMasked;
    } else if (text == "deny") {
      v = ColumnVisibility::kHidden;
    } else {
      return absl::DataLossError(absl::StrCat("access to ", product.id, " for ",
                                              principal, ": decision '", text,
                                              "' is not allow, mask or deny"));
    }
    // Two rows for one column: the more restrictive holds.
    auto [at, fresh] = decided.emplace(std::string(e[2].as_string()), v);
    if (!fresh) at->second = std::max(at->second, v);
  }
  ProductView view;
  std::vector<Field> fields;
  for (const Field& f : product.schema.fields()) {
    auto it = decided.find(f.name);
    const ColumnVisibility v =
        it == decided.end() ? ColumnVisibility::kHidden : it->second;
    view.columns.push_back(v);
    if (v == ColumnVisibility::kHidden) continue;
    Field seen = f;
    if (v == ColumnVisibility::kMasked) {
      seen.nullable = seen.nullable || f.type != ValueType::kString;
      seen.description = absl::StrCat(
          f.description, f.description.empty() ? "" : " ", "(masked)");
    }
    fields.push_back(std::move(seen));
  }
  if (fields.empty()) {
    return absl::PermissionDeniedError(
        absl::StrCat(principal.empty() ? "an anonymous reader" : principal,
                     " may see no column of ", product.id));
  }
  view.schema = Schema(std::move(fields));
  return view;
}

}  // namespace diffmesh
