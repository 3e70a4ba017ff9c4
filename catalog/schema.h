// Schema: the named, typed, described fields of a product's rows.
//
//   Schema schema({{"id", ValueType::kInt64, /*nullable=*/false, "order id"},
//                  {"email", ValueType::kString, true, "buyer", {"pii"}}});
//   absl::Status ok = schema.Validate(row);   // arity, types, nullability
//   std::optional<int> at = schema.FieldIndex("email");   // 1
//
// Field names are unique; a row fits a schema when it has one value per
// field, each null (only where the field is nullable) or of the field's type.
// Thread-safety: a value type (like std::string: const methods from any
// thread; one writer at a time).
#pragma once

#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "catalog/row.h"

namespace diffmesh {

struct Field {
  std::string name;
  ValueType type = ValueType::kString;
  bool nullable = true;
  std::string description;
  // Classification tags, e.g. "pii".
  std::vector<std::string> tags;

  friend bool operator==(const Field&, const Field&) = default;
  template <class Self>
  static auto WireFields(Self& self) {
    return std::tie(self.name, self.type, self.nullable, self.description,
                    self.tags);
  }
};

class Schema;
// The same column names, types and nullability, in the same order (the
// descriptions and tags may differ).
bool SameColumns(const Schema& a, const Schema& b);

class Schema {
 public:
  Schema() = default;
  explicit Schema(std::vector<Field> fields) : fields_(std::move(fields)) {}

  // InvalidArgument for an empty or repeated field name, or a field typed
  // null.
  static absl::StatusOr<Schema> Make(std::vector<Field> fields);

  const std::vector<Field>& fields() const { return fields_; }
  size_t size() const { return fields_.size(); }
  std::optional<int> FieldIndex(const std::string& name) const;

  // InvalidArgument naming the field and the cause when `row` does not fit.
  absl::Status Validate(const Row& row) const;

  friend bool operator==(const Schema&, const Schema&) = default;
  template <class Self>
  static auto WireFields(Self& self) {
    return std::tie(self.fields_);
  }

 private:
  std::vector<Field> fields_;
};

}  // namespace diffmesh
