#include "governance/references.h"

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>

#include "governance/profile.h"
#include "gtest/gtest.h"
#include "tests/operators/oracle.h"

namespace diffmesh {

// For the oracle's messages (found by argument-dependent lookup).
std::string Show(const Row& row) { return RowDebugString(row); }

namespace {

using testing::Multiset;

const Schema& Orders() {
  static const Schema* s =
      new Schema({{"id", ValueType::kInt64}, {"customer", ValueType::kInt64}});
  return *s;
}
const Schema& Customers() {
  static const Schema* s =
      new Schema({{"id", ValueType::kInt64}, {"name", ValueType::kString}});
  return *s;
}

Row GenOrder(std::mt19937_64& rng) {
  Row r;
  r.AppendInt64(static_cast<int64_t>(rng() % 4));
  if (rng() % 6 == 0) {
    r.AppendNull();  // refers to nothing: never missing
  } else {
    r.AppendInt64(static_cast<int64_t>(rng() % 5));
  }
  return r;
}

Row GenCustomer(std::mt19937_64& rng) {
  Row r;
  r.AppendInt64(static_cast<int64_t>(rng() % 5));
  r.AppendString(rng() % 2 ? "ada" : "bob");
  return r;
}

TEST(ReferencesOracle, MissingReferencesAtEveryTimeMatchAFromScratchCount) {
  testing::OracleOptions options;
  options.rounds = 14;
  options.max_updates_per_round = 6;
  testing::CheckAgainstOracle<uint64_t, Row, Row, Row>(
      "references",
      [](const RowCollection& orders, const RowCollection& customers) {
        Table child = *Table::FromProduct("s.orders", orders, Orders());
        Table parent =
            *Table::FromProduct("s.customers", customers, Customers());
        absl::StatusOr<Table> missing =
            MissingReferences(child, {"customer"}, parent, {"id"});
        EXPECT_TRUE(missing.ok()) << missing.status();
        return missing->rows();
      },
      [](const Multiset<Row>& orders, const Multiset<Row>& customers) {
        std::set<int64_t> known;
        for (const auto& [c, n] : customers) {
          if (n > 0) known.insert(c[0].as_int64());
        }
        int64_t missing = 0;
        for (const auto& [o, n] : orders) {
          if (!o[1].is_null() && known.count(o[1].as_int64()) == 0)
            missing += n;
        }
        Multiset<Row> out;
        out[MetricRow("customer", "missing_references",
                      static_cast<double>(missing))] = 1;
        return out;
      },
      GenOrder, GenCustomer, options);
}

// Orders and customers as products of one dataflow.
struct Sides {
  Worker worker;
  Graph& graph = worker.NewDataflow("references");
  RowCollection orders = NewInput<Row>(graph).second;
  RowCollection customers = NewInput<Row>(graph).second;
  Table child = *Table::FromProduct("s.orders", orders, Orders());
  Table parent = *Table::FromProduct("s.customers", customers, Customers());
};

TEST(ReferencesTest, TheCountsLineageNamesBothSides) {
  Sides sides;
  const Table& child = sides.child;
  const Table& parent = sides.parent;
  Table missing = *MissingReferences(child, {"customer"}, parent, {"id"});
  EXPECT_EQ(missing.UpstreamProducts(),
            (std::vector<std::string>{"s.customers", "s.orders"}));
  const ColumnSource parent_key{{"s.customers", "id"}, TransformKind::kJoinKey};
  const std::vector<ColumnSource>& wide = missing.table_sources();
  EXPECT_NE(std::find(wide.begin(), wide.end(), parent_key), wide.end());
  // Not the parent's other columns.
  for (const ColumnSource& s : wide) {
    EXPECT_FALSE(s.from.product == "s.customers" && s.from.column != "id");
  }
  EXPECT_EQ(missing.InfluencedBy(parent, {"nope"}, TransformKind::kJoinKey)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ReferencesTest, BadKeysAreRefused) {
  Sides sides;
  const Table& child = sides.child;
  const Table& parent = sides.parent;
  EXPECT_EQ(MissingReferences(child, {"nope"}, parent, {"id"}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      MissingReferences(child, {"customer"}, parent, {"name"}).status().code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(MissingReferences(child, {"customer", "id"}, parent, {"id"})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  Worker other;
  auto [c_in, c] = NewInput<Row>(other.NewDataflow("elsewhere"));
  Table far = *Table::FromProduct("s.customers", c, Customers());
  EXPECT_EQ(MissingReferences(child, {"customer"}, far, {"id"}).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace diffmesh
