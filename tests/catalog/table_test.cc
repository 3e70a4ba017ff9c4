// Row operators against from-scratch evaluation at every time (random rows
// with nulls, retractions, 1-4 workers), their recorded column lineage, and
// their errors.
#include <cstdint>
#include <map>
#include <random>
#include <string>

#include "catalog/row.h"

namespace diffmesh::testing {
inline std::string Show(const Row& row) { return RowDebugString(row); }
}  // namespace diffmesh::testing

#include "catalog/shared_arrangements.h"
#include "catalog/table.h"
#include "engine/check.h"
#include "engine/graph.h"
#include "engine/input.h"
#include "engine/probe.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "operators/inspect.h"
#include "tests/operators/oracle.h"
#include "tests/status_matchers.h"

namespace diffmesh {
namespace {

using ::diffmesh::testing::CheckAgainstOracle;
using ::diffmesh::testing::IsOk;
using ::diffmesh::testing::Multiset;
using ::diffmesh::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const Schema& LeftSchema() {
  static const Schema* s = new Schema({{"k", ValueType::kInt64},
                                       {"g", ValueType::kString},
                                       {"v", ValueType::kInt64},
                                       {"d", ValueType::kDouble}});
  return *s;
}
const Schema& RightSchema() {
  static const Schema* s =
      new Schema({{"k", ValueType::kInt64}, {"x", ValueType::kString}});
  return *s;
}

// Small domains with nulls, so keys collide, groups shrink to nothing and
// null keys appear.
Row GenLeft(std::mt19937_64& rng) {
  auto maybe = [&](Value v) { return rng() % 5 == 0 ? Value() : v; };
  return {maybe(Value(static_cast<int64_t>(rng() % 4))),
          maybe(Value(std::string(1, static_cast<char>('a' + rng() % 3)))),
          maybe(Value(static_cast<int64_t>(rng() % 9) - 3)),
          maybe(Value(static_cast<double>(rng() % 4)))};
}
Row GenRight(std::mt19937_64& rng) {
  return {rng() % 5 == 0 ? Value() : Value(static_cast<int64_t>(rng() % 4)),
          Value(std::string(1, static_cast<char>('x' + rng() % 2)))};
}

Table Must(absl::StatusOr<Table> t) {
  DM_CHECK_MSG(t.ok(), t.status().ToString().c_str());
  return *std::move(t);
}

Table Left(const RowCollection& rows) {
  return Must(Table::FromProduct("shop.left", rows, LeftSchema()));
}
Table Right(const RowCollection& rows) {
  return Must(Table::FromProduct("shop.right", rows, RightSchema()));
}

testing::OracleOptions Options() {
  testing::OracleOptions o;
  o.max_updates_per_round = 8;
  return o;
}

// ---- shared arrangements ----------------------------------------------------

// A join on a product's own rows records its arrangement once per
// dataflow; a second join on the same keys uses it; a table over other
// rows (WithRows) or derived from them records nothing.
TEST(TableShared, OnlyAProductsOwnRowsShareTheirJoinAndGroupArrangements) {
  Worker worker;
  Graph& graph = worker.NewDataflow("t");
  auto [l_in, l] = NewInput<Row>(graph);
  auto [r_in, r] = NewInput<Row>(graph);
  auto shared = std::make_shared<SharedArrangements>(&graph);
  Table left = Must(Table::FromProduct("shop.left", l, LeftSchema(), shared));
  Table right = Right(r);
  const SharedArrangements::Key key{"shop.left", {0}, std::nullopt};
  const SharedArrangements::Key rest{
      "shop.left", {0}, std::vector<int>{1, 2, 3}};

  // Over other rows (a hold, say) or derived: not the product's rows.
  auto [held_in, held] = NewInput<Row>(graph);
  Must(left.WithRows(held).Join(right, {"k"}));
  Table filtered = Must(left.Filter({"v"}, [](const Row&) { return true; }));
  Must(filtered.Join(right, {"k"}));
  EXPECT_FALSE(shared->Find(key, &graph).has_value());

  Must(left.Join(right, {"k"}));
  const auto made = shared->Find(key, &graph);
  ASSERT_TRUE(made.has_value());
  Must(left.Join(right, {"k"}));  // the same arrangement serves it
  EXPECT_EQ(shared->Find(key, &graph)->trace, made->trace);
  // As the right side, other value columns: another arrangement.
  EXPECT_FALSE(shared->Find(rest, &graph).has_value());
  Must(right.Join(left, {"k"}));
  EXPECT_TRUE(shared->Find(rest, &graph).has_value());

  // A group by's input: keyed alike but with its null keys, valued by the
  // aggregates' inputs; one per (keys, inputs), as joins.
  const SharedArrangements::Key grouped{"shop.left",
                                        {0},
                                        std::vector<int>{},
                                        /*null_keys=*/true};
  const SharedArrangements::Key summed{"shop.left",
                                       {0},
                                       std::vector<int>{2},
                                       /*null_keys=*/true};
  Must(filtered.GroupBy({"k"}).Aggregate({Count("n")}));
  EXPECT_FALSE(shared->Find(grouped, &graph).has_value());
  Must(left.GroupBy({"k"}).Aggregate({Count("n")}));
  const auto group_made = shared->Find(grouped, &graph);
  ASSERT_TRUE(group_made.has_value());
  EXPECT_NE(group_made->trace, made->trace);
  Must(left.GroupBy({"k"}).Aggregate({Count("rows")}));
  EXPECT_EQ(shared->Find(grouped, &graph)->trace, group_made->trace);
  EXPECT_FALSE(shared->Find(summed, &graph).has_value());
  Must(left.GroupBy({"k"}).Aggregate({Sum("v", "total")}));
  EXPECT_TRUE(shared->Find(summed, &graph).has_value());
  EXPECT_EQ(shared->imports(), 0);
}

// ---- filter, derive, mask, select -----------------------------------------

bool KeepV(const Value& v) { return !v.is_null() && v.as_int64() % 3 != 0; }
Value DeriveW(const Value& v, const Value& k) {
  return Value(v.as_int64() * 10 + (k.is_null() ? 0 : k.as_int64()));
}
Value MaskG(const Value& g) {
  return g.is_null() ? Value()
                     : Value("#" + std::to_string(g.as_string().size()));
}

TEST(TableOracle, FilterDeriveMaskSelect) {
  CheckAgainstOracle<uint64_t, Row, Row, Row>(
      "filter-derive-mask-select",
      [](const RowCollection& a, const RowCollection&) {
        Table t = Left(a);
        t = Must(t.Filter({"v"}, [](const Row& in) { return KeepV(in[0]); }));
        t = Must(t.Derive("w", ValueType::kInt64, {"v", "k"},
                          [](const Row& in) { return DeriveW(in[0], in[1]); }));
        t = Must(t.Mask("g", MaskG));
        return Must(t.Select({"w", "g", "k"})).rows();
      },
      [](const Multiset<Row>& a, const Multiset<Row>&) {
        Multiset<Row> out;
        for (const auto& [r, m] : a) {
          if (!KeepV(r[2])) continue;
          out[{DeriveW(r[2], r[0]), MaskG(r[1]), r[0]}] += m;
        }
        return out;
      },
      GenLeft, GenRight, Options());
}

// ---- join ------------------------------------------------------------------

TEST(TableOracle, JoinSkipsNullKeys) {
  CheckAgainstOracle<uint64_t, Row, Row, Row>(
      "join",
      [](const RowCollection& a, const RowCollection& b) {
        return Must(Left(a).Join(Right(b), std::vector<std::string>{"k"}))
            .rows();
      },
      [](const Multiset<Row>& a, const Multiset<Row>& b) {
        Multiset<Row> out;
        for (const auto& [l, ml] : a) {
          for (const auto& [r, mr] : b) {
            if (l[0].is_null() || r[0].is_null() || !(l[0] == r[0])) continue;
            Row joined = l;
            joined.push_back(r[1]);
            out[joined] += ml * mr;
          }
        }
        return out;
      },
      GenLeft, GenRight, Options());
}

// ---- group_by + aggregate
// ----------------------------------------------------

TEST(TableOracle, GroupByAggregates) {
  CheckAgainstOracle<uint64_t, Row, Row, Row>(
      "aggregate",
      [](const RowCollection& a, const RowCollection&) {
        return Must(Left(a).GroupBy({"g"}).Aggregate(
                        {Count("n"), CountColumn("v", "nv"), Sum("v", "sv"),
                         Min("v", "minv"), Max("d", "maxd"), Mean("d", "meand"),
                         Sum("d", "sd")}))
            .rows();
      },
      [](const Multiset<Row>& a, const Multiset<Row>&) {
        struct Acc {
          int64_t n = 0, nv = 0, sv = 0, nd = 0;
          double sd = 0;
          std::optional<Value> minv, maxd;
        };
        std::map<Value, Acc> groups;
        for (const auto& [r, m] : a) {
          Acc& acc = groups[r[1]];
          acc.n += m;
          if (!r[2].is_null()) {
            acc.nv += m;
            acc.sv += r[2].as_int64() * m;
            if (!acc.minv || r[2] < *acc.minv) acc.minv = r[2];
          }
          if (!r[3].is_null()) {
            acc.nd += m;
            acc.sd += r[3].as_double() * static_cast<double>(m);
            if (!acc.maxd || *acc.maxd < r[3]) acc.maxd = r[3];
          }
        }
        Multiset<Row> out;
        for (const auto& [g, acc] : groups) {
          out[{g, Value(acc.n), Value(acc.nv), acc.nv ? Value(acc.sv) : Value(),
               acc.minv.value_or(Value()), acc.maxd.value_or(Value()),
               acc.nd ? Value(acc.sd / static_cast<double>(acc.nd)) : Value(),
               acc.nd ? Value(acc.sd) : Value()}] += 1;
        }
        return out;
      },
      GenLeft, GenRight, Options());
}

// ---- union, rename, and an aggregate over a join ---------------------------

TEST(TableOracle, UnionOfRenamed) {
  CheckAgainstOracle<uint64_t, Row, Row, Row>(
      "union",
      [](const RowCollection& a, const RowCollection& b) {
        Table left = Must(Left(a).Select({"k", "g"}));
        Table right = Must(Right(b).Rename("x", "g"));
        return Must(left.Union(right)).rows();
      },
      [](const Multiset<Row>& a, const Multiset<Row>& b) {
        Multiset<Row> out;
        for (const auto& [r, m] : a) out[{r[0], r[1]}] += m;
        for (const auto& [r, m] : b) out[r] += m;
        return out;
      },
      GenLeft, GenRight, Options());
}

TEST(TableOracle, AggregateOverJoin) {
  CheckAgainstOracle<uint64_t, Row, Row, Row>(
      "join-aggregate",
      [](const RowCollection& a, const RowCollection& b) {
        Table joined =
            Must(Left(a).Join(Right(b), std::vector<std::string>{"k"}));
        return Must(joined.GroupBy({"x", "k"}).Aggregate({Sum("v", "s")}))
            .rows();
      },
      [](const Multiset<Row>& a, const Multiset<Row>& b) {
        std::map<Row, std::pair<int64_t, int64_t>> groups;  // (non-null, sum)
        for (const auto& [l, ml] : a) {
          for (const auto& [r, mr] : b) {
            if (l[0].is_null() || r[0].is_null() || !(l[0] == r[0])) continue;
            auto& g = groups[{r[1], l[0]}];
            if (!l[2].is_null()) {
              g.first += ml * mr;
              g.second += l[2].as_int64() * ml * mr;
            }
          }
        }
        Multiset<Row> out;
        for (const auto& [key, g] : groups) {
          out[{key[0], key[1], g.first ? Value(g.second) : Value()}] += 1;
        }
        return out;
      },
      GenLeft, GenRight, Options());
}

// ---- lineage
// -----------------------------------------------------------------

ColumnSource Src(const std::string& product, const std::string& column,
                 TransformKind kind) {
  return {{product, column}, kind};
}

struct Fixture {
  Worker worker;
  Graph& graph = worker.NewDataflow("t");
  std::pair<InputHandle<Row>, RowCollection> left_in = NewInput<Row>(graph);
  std::pair<InputHandle<Row>, RowCollection> right_in = NewInput<Row>(graph);
  Table left = Left(left_in.second);
  Table right = Right(right_in.second);
};

TEST(TableLineage, EveryOperationRecordsItsKind) {
  Fixture f;
  Table t = Must(f.left.Filter({"v"}, [](const Row&) { return true; }));
  t = Must(t.Derive("w", ValueType::kInt64, {"v", "k"},
                    [](const Row& in) { return in[0]; }));
  t = Must(t.Mask("g", MaskG));
  t = Must(t.Join(f.right, std::vector<std::string>{"k"}));
  t = Must(t.Rename("x", "region"));
  const auto& cols = t.column_sources();
  ASSERT_EQ(t.schema().size(), 6u);  // k g v d w region
  using K = TransformKind;
  EXPECT_THAT(cols[0], ElementsAre(Src("shop.left", "k", K::kDirect),
                                   Src("shop.right", "k", K::kDirect)));
  EXPECT_THAT(cols[1], ElementsAre(Src("shop.left", "g", K::kMasking)));
  EXPECT_THAT(cols[4], ElementsAre(Src("shop.left", "k", K::kDerived),
                                   Src("shop.left", "v", K::kDerived)));
  EXPECT_THAT(cols[5], ElementsAre(Src("shop.right", "x", K::kDirect)));
  EXPECT_THAT(t.table_sources(),
              ElementsAre(Src("shop.left", "k", K::kJoinKey),
                          Src("shop.left", "v", K::kFilter),
                          Src("shop.right", "k", K::kJoinKey)));
  EXPECT_THAT(t.UpstreamProducts(), ElementsAre("shop.left", "shop.right"));

  // Aggregates take the aggregate kind; masking survives a derivation.
  Table g =
      Must(t.GroupBy({"region"})
               .Aggregate({Count("n"), Max("g", "top_g"), Sum("w", "total")}));
  EXPECT_THAT(g.column_sources()[0],
              ElementsAre(Src("shop.right", "x", K::kDirect)));
  EXPECT_THAT(g.column_sources()[1],
              ElementsAre(Src("shop.right", "x", K::kAggregate)));
  EXPECT_THAT(g.column_sources()[2],
              ElementsAre(Src("shop.left", "g", K::kMasking)));
  EXPECT_THAT(g.column_sources()[3],
              ElementsAre(Src("shop.left", "k", K::kAggregate),
                          Src("shop.left", "v", K::kAggregate)));
  EXPECT_EQ(g.schema().fields()[1].type, ValueType::kInt64);
  EXPECT_FALSE(g.schema().fields()[1].nullable);
  EXPECT_EQ(g.schema().fields()[3].type, ValueType::kInt64);
}

TEST(TableLineage, ComposeKinds) {
  using K = TransformKind;
  EXPECT_EQ(ComposeKinds(K::kDirect, K::kDerived), K::kDerived);
  EXPECT_EQ(ComposeKinds(K::kDerived, K::kDirect), K::kDerived);
  EXPECT_EQ(ComposeKinds(K::kMasking, K::kAggregate), K::kMasking);
  EXPECT_EQ(ComposeKinds(K::kAggregate, K::kMasking), K::kMasking);
  EXPECT_EQ(ComposeKinds(K::kDerived, K::kAggregate), K::kAggregate);
}

// ---- errors
// ------------------------------------------------------------------

TEST(TableErrors, NamedColumnsAndTypes) {
  Fixture f;
  auto unknown = f.left.Select({"k", "nope"});
  EXPECT_THAT(unknown, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(unknown.status().message()),
              HasSubstr("no column 'nope' (columns: k, g, v, d)"));
  EXPECT_THAT(f.left.Select({"k", "k"}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(f.left.Rename("k", "g"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  auto bad_join = f.left.JoinOn(f.right, {{"g", "k"}});
  EXPECT_THAT(bad_join, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(bad_join.status().message()),
              HasSubstr("key 'g' is string but 'k' is int64"));
  // A self-join: the right side's g, v, d clash with the left's.
  auto clash = f.left.Join(f.left, {"k"});
  EXPECT_THAT(clash, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(clash.status().message()), HasSubstr("rename"));
  EXPECT_THAT(f.left.Union(f.right),
              StatusIs(absl::StatusCode::kInvalidArgument));
  auto sum_string = f.left.GroupBy({"k"}).Aggregate({Sum("g", "s")});
  EXPECT_THAT(std::string(sum_string.status().message()),
              HasSubstr("'g' is string, not numeric"));
  EXPECT_THAT(f.left.Derive("k", ValueType::kInt64, {"v"},
                            [](const Row& in) { return in[0]; }),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(f.left.Filter({"v"}, nullptr),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(TableErrors, WrongTypedResultsGoToQuarantine) {
  Fixture f;
  Table t =
      Must(f.left.Derive("w", ValueType::kInt64, {"g"}, [](const Row& in) {
        return in[0];  // a string where an int64 was declared
      }));
  ASSERT_TRUE(t.quarantine().has_value());
  Multiset<Row> rows, quarantine;
  auto watched = Inspect(
      t.rows(), [&](const Row& r, uint64_t, int64_t d) { rows[r] += d; });
  auto watched_q =
      Inspect(*t.quarantine(),
              [&](const Row& r, uint64_t, int64_t d) { quarantine[r] += d; });
  auto p1 = ProbeStream(watched.stream);
  auto p2 = ProbeStream(watched_q.stream);
  auto& in = f.left_in.first;
  in.Insert({Value(int64_t{1}), Value("a"), Value(), Value()});
  in.Insert({Value(int64_t{2}), Value(), Value(), Value()});
  in.AdvanceTo(1);
  ASSERT_TRUE(
      f.worker.StepWhile([&] { return p1.LessThan(1) || p2.LessThan(1); }));
  // The null result fits; the string does not and is explained.
  EXPECT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows.begin()->first[0], Value(int64_t{2}));
  ASSERT_EQ(quarantine.size(), 1u);
  const Row& q = quarantine.begin()->first;
  EXPECT_EQ(q[0], Value("derive 'w'"));
  EXPECT_THAT(q[2].as_string(), HasSubstr("returned \"a\", expects int64"));
  EXPECT_THAT(QuarantineSchema().Validate(q), IsOk());
}

// Runs `t` on rows inserted at time 0; returns its rows and quarantine.
std::pair<Multiset<Row>, Multiset<Row>> RunOnce(Fixture& f, const Table& t,
                                                const std::vector<Row>& left,
                                                const std::vector<Row>& right) {
  auto out = std::make_shared<std::pair<Multiset<Row>, Multiset<Row>>>();
  auto rows = Inspect(t.rows(), [out](const Row& r, uint64_t, int64_t d) {
    out->first[r] += d;
  });
  auto p1 = ProbeStream(rows.stream);
  Probe<uint64_t> p2 = p1;
  if (auto q = t.quarantine()) {
    auto watched = Inspect(
        *q, [out](const Row& r, uint64_t, int64_t d) { out->second[r] += d; });
    p2 = ProbeStream(watched.stream);
  }
  for (const Row& r : left) f.left_in.first.Insert(r);
  for (const Row& r : right) f.right_in.first.Insert(r);
  f.left_in.first.AdvanceTo(1);
  f.right_in.first.AdvanceTo(1);
  DM_CHECK(
      f.worker.StepWhile([&] { return p1.LessThan(1) || p2.LessThan(1); }));
  return *out;
}

TEST(TableJoin, RightSideWithOnlyKeyColumns) {
  Fixture f;
  Table keys = Must(f.right.Select({"k"}));
  Table t = Must(f.left.Join(keys, {"k"}));
  EXPECT_EQ(t.schema().size(), 4u);
  Row ada{Value(int64_t{1}), Value("a"), Value(int64_t{2}), Value(3.0)};
  auto [rows, quarantine] =
      RunOnce(f, t, {ada}, {{Value(int64_t{1}), Value("x")}});
  EXPECT_EQ(rows, (Multiset<Row>{{ada, 1}}));
}

TEST(TableErrors, SharedQuarantineCountsOnce) {
  Fixture f;
  Table d = Must(f.left.Derive("w", ValueType::kInt64, {"g"},
                               [](const Row& in) { return in[0]; }));
  Table both =
      Must(Must(d.Filter({"k"}, [](const Row&) {
             return true;
           })).Union(Must(d.Filter({"k"}, [](const Row&) { return true; }))));
  auto [rows, quarantine] =
      RunOnce(f, both,
              {{Value(int64_t{1}), Value("a"), Value(), Value()},
               {Value(int64_t{2}), Value(), Value(), Value()}},
              {});
  EXPECT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows.begin()->second, 2);  // through both filters
  ASSERT_EQ(quarantine.size(), 1u);
  EXPECT_EQ(quarantine.begin()->second, 1);  // refused once
}

TEST(TableErrors, NoOperatorsAfterTheDataflowRan) {
  Fixture f;
  f.worker.Step();
  EXPECT_THAT(f.left.Select({"k"}),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

}  // namespace
}  // namespace diffmesh
