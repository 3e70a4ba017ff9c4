#include "catalog/schema.h"

#include <set>

#include "absl/strings/str_cat.h"

namespace diffmesh {

absl::StatusOr<Schema> Schema::Make(std::vector<Field> fields) {
  std::set<std::string> seen;
  for (size_t i = 0; i < fields.size(); ++i) {
    const Field& f = fields[i];
    if (f.name.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("field ", i, " has an empty name"));
    }
    if (!seen.insert(f.name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("field '", f.name, "' appears twice"));
    }
    if (f.type == ValueType::kNull) {
      return absl::InvalidArgumentError(
          absl::StrCat("field '", f.name, "' cannot have type null"));
    }
  }
  return Schema(std::move(fields));
}

std::optional<int> Schema::FieldIndex(const std::string& name) const {
  for (size_t i = 0; i < fields_.size(); ++i) {
    if (fields_[i].name == name) return static_cast<int>(i);
  }
  return std::nullopt;
}

absl::Status Schema::Validate(const Row& row) const {
  // One walk over the row; the count is checked before the fields.
  absl::InlinedVector<Datum, 16> values = row.Unpack();
  if (values.size() != fields_.size()) {
    return absl::InvalidArgumentError(absl::StrCat("row has ", values.size(),
                                                   " values, schema has ",
                                                   fields_.size(), " fields"));
  }
  for (size_t i = 0; i < values.size(); ++i) {
    const Field& f = fields_[i];
    const Datum d = values[i];
    if (d.is_null()) {
      if (!f.nullable) {
        return absl::InvalidArgumentError(
            absl::StrCat("field '", f.name, "' is null but not nullable"));
      }
      continue;
    }
    if (d.type() != f.type) {
      return absl::InvalidArgumentError(absl::StrCat(
          "field '", f.name, "' expects ", ValueTypeName(f.type), ", got ",
          ValueTypeName(d.type()), " ", d.DebugString()));
    }
  }
  return absl::OkStatus();
}

bool SameColumns(const Schema& a, const Schema& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const Field& x = a.fields()[i];
    const Field& y = b.fields()[i];
    if (x.name != y.name || x.type != y.type || x.nullable != y.nullable) {
      return false;
    }
  }
  return true;
}

}  // namespace diffmesh
