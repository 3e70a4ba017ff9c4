#include "catalog/column_access.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/status_matchers.h"

namespace diffmesh {
namespace {

using ::diffmesh::testing::StatusIs;

ProductDescriptor Product() {
  ProductDescriptor d;
  d.id = "crm.people";
  d.owner = "crm";
  d.schema = Schema({{"id", ValueType::kInt64, false},
                     {"email", ValueType::kString},
                     {"age", ValueType::kInt64, false},
                     {"notes", ValueType::kString}});
  return d;
}

Row Entry(const std::string& column, const std::string& decision) {
  return Row{Value(std::string("ana")), Value(std::string("crm.people")),
             Value(column), Value(decision), Value(std::string("why"))};
}

TEST(ColumnAccess, ProjectShowsMasksAndLeavesOut) {
  const std::vector<Row> entries = {
      Entry("id", "allow"), Entry("email", "mask"), Entry("age", "mask"),
      Entry("notes", "deny")};
  absl::StatusOr<ProductView> view = ViewFromEntries(entries, "ana", Product());
  ASSERT_TRUE(view.ok()) << view.status();
  ASSERT_EQ(view->schema.size(), 3u);
  EXPECT_EQ(view->schema.fields()[1].name, "email");
  EXPECT_TRUE(view->schema.fields()[2].nullable);  // a masked int is null
  EXPECT_FALSE(view->shows_all());
  const Row row{Value(int64_t{7}), Value(std::string("a@x.org")),
                Value(int64_t{41}), Value(std::string("secret"))};
  EXPECT_EQ(view->Project(row),
            (Row{Value(int64_t{7}), Value(std::string("***")), Value()}));
  // A null stays null when masked.
  const Row nulls{Value(int64_t{8}), Value(), Value(int64_t{1}), Value()};
  EXPECT_EQ(view->Project(nulls), (Row{Value(int64_t{8}), Value(), Value()}));
}

TEST(ColumnAccess, MissingColumnsAreHiddenAndNothingLeftIsDenied) {
  // Only id decided: the rest is hidden (access fails closed).
  absl::StatusOr<ProductView> view =
      ViewFromEntries({Entry("id", "allow")}, "ana", Product());
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->schema.size(), 1u);
  EXPECT_THAT(ViewFromEntries({Entry("id", "deny")}, "ana", Product()).status(),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(ViewFromEntries({}, "", Product()).status(),
              StatusIs(absl::StatusCode::kPermissionDenied));
  // Two entries for one column: the more restrictive.
  view = ViewFromEntries(
      {Entry("id", "allow"), Entry("email", "allow"), Entry("email", "deny")},
      "ana", Product());
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->schema.size(), 1u);
}

TEST(ColumnAccess, BadDecisionsAndSchemasAreRefused) {
  EXPECT_THAT(ViewFromEntries({Entry("id", "peek")}, "ana", Product()).status(),
              StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(CheckAccessSchema(Schema({{"principal", ValueType::kString}})),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(CheckAccessSchema(Schema({{"principal", ValueType::kString},
                                        {"product", ValueType::kString},
                                        {"column", ValueType::kInt64},
                                        {"decision", ValueType::kString}})),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace diffmesh
