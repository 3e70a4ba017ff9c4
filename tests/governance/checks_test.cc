#include "governance/checks.h"

#include <map>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "catalog/csv_writer.h"
#include "engine/graph.h"
#include "engine/input.h"
#include "engine/probe.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "operators/inspect.h"
#include "operators/map.h"
#include "re2/re2.h"
#include "tests/governance/checks_oracle.h"
#include "tests/operators/oracle.h"

namespace diffmesh {

// For the oracle's messages (found by argument-dependent lookup).
std::string Show(const Row& row) { return RowDebugString(row); }

namespace {

using testing::FromScratch;
using testing::GenRow;
using ::testing::HasSubstr;
using testing::kContract;
using testing::Multiset;
using testing::ProductSchema;

AttachedContract TestContract() {
  absl::StatusOr<DataContract> c = ParseContract(kContract, "test.yaml");
  DM_CHECK_MSG(c.ok(), c.status().ToString().c_str());
  absl::StatusOr<AttachedContract> a = Attach(*c, ProductSchema());
  DM_CHECK_MSG(a.ok(), a.status().ToString().c_str());
  return *a;
}

TEST(ChecksOracle, VerdictsAtEveryTimeMatchAFromScratchEvaluation) {
  const AttachedContract contract = TestContract();
  testing::OracleOptions options;
  options.rounds = 14;
  options.max_updates_per_round = 5;
  testing::CheckAgainstOracle<uint64_t, Row, Row, Row>(
      "checks",
      [&](const RowCollection& rows, const RowCollection&) {
        Table table = *Table::FromProduct("test.p", rows, ProductSchema());
        absl::StatusOr<Table> verdicts = Checks(table, contract);
        EXPECT_TRUE(verdicts.ok()) << verdicts.status();
        // `since` depends on history: ChecksTest.SinceIsWhenTheOutcomeBegan
        // checks it.
        return Map(verdicts->rows(), [](const Row& v) {
          Row out;
          for (int c = 0; c < 7; ++c) out.push_back(v[c]);
          return out;
        });
      },
      [&](const Multiset<Row>& rows, const Multiset<Row>&) {
        return FromScratch(rows, contract);
      },
      GenRow, GenRow, options);
}

TEST(ChecksTest, SinceIsWhenTheOutcomeBegan) {
  absl::StatusOr<DataContract> c = ParseContract(R"(apiVersion: v3.1.0
kind: DataContract
id: since
version: 1.0.0
status: active
schema:
  - name: p
    quality:
      - metric: rowCount
        mustBeLessThan: 3
)",
                                                 "since.yaml");
  ASSERT_TRUE(c.ok()) << c.status();
  AttachedContract contract = *Attach(*c, ProductSchema());
  Worker worker;
  Graph& graph = worker.NewDataflow("since");
  auto [input, rows] = NewInput<Row>(graph);
  Table table = *Table::FromProduct("test.p", rows, ProductSchema());
  std::map<Row, int64_t> verdicts;
  auto out =
      Inspect(Checks(table, contract)->rows(),
              [&](const Row& v, uint64_t, int64_t r) { verdicts[v] += r; });
  auto probe = ProbeFrontier(out.stream);
  // (passed, observed, since) of the one verdict after each time.
  auto step = [&](uint64_t t, int64_t add) {
    std::mt19937_64 rng(t);
    for (int64_t i = 0; i < add; ++i) input.UpdateAt(GenRow(rng), t, 1);
    input.AdvanceTo(t + 1);
    worker.StepWhile([&] { return probe.LessThan(t + 1); });
    std::vector<Row> live;
    for (const auto& [v, n] : verdicts) {
      if (n != 0) live.push_back(v);
    }
    EXPECT_EQ(live.size(), 1u);
    return std::tuple(live[0][4].as_bool(), live[0][5].as_double(),
                      live[0][7].as_int64());
  };
  EXPECT_EQ(step(0, 1), std::tuple(true, 1.0, int64_t{0}));
  EXPECT_EQ(step(1, 1), std::tuple(true, 2.0, int64_t{0}));   // still passes
  EXPECT_EQ(step(2, 1), std::tuple(false, 3.0, int64_t{2}));  // fails from 2
  EXPECT_EQ(step(3, 2), std::tuple(false, 5.0, int64_t{2}));  // still failing
  EXPECT_EQ(step(4, 0), std::tuple(false, 5.0, int64_t{2}));
}

TEST(ChecksTest, AttachRefusesWhatTheProductCannotHold) {
  absl::StatusOr<DataContract> c = ParseContract(kContract, "test.yaml");
  ASSERT_TRUE(c.ok());
  const Schema missing({{"k", ValueType::kInt64}, {"s", ValueType::kString}});
  absl::Status s = Attach(*c, missing).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("property 'x' is not a column of the product"));
  const Schema wrong({{"k", ValueType::kString},
                      {"s", ValueType::kString},
                      {"x", ValueType::kDouble}});
  s = Attach(*c, wrong).status();
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("property 'k' is integer but the column is string"));
  EXPECT_EQ(Attach(*c, ProductSchema(), "other").status().code(),
            absl::StatusCode::kNotFound);
  // The text rule is kept, not enforced: no verdict for it.
  const AttachedContract a = TestContract();
  int enforced = 0;
  for (const QualityRule& r : a.contract.rules) enforced += r.enforced;
  EXPECT_EQ(enforced, static_cast<int>(a.contract.rules.size()) - 1);
}

}  // namespace
}  // namespace diffmesh
