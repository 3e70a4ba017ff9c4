// HoldWhileFailing: a product's rows held back while a blocking check
// fails.
//
// Oracle: random row changes and random verdicts on 1-4 workers; at every
// time t the held rows are the product's rows as of the latest time t' <= t
// at which no error verdict failed (none before it). And in a mesh: a
// product downstream of a held product never sees a version that failed.
#include "governance/gate.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "catalog/csv_writer.h"
#include "catalog/mesh.h"
#include "engine/graph.h"
#include "engine/input.h"
#include "engine/probe.h"
#include "engine/runtime.h"
#include "gmock/gmock.h"
#include "governance/checks.h"
#include "gtest/gtest.h"
#include "operators/inspect.h"
#include "tests/governance/demo_mesh.h"
#include "tests/operators/oracle.h"
#include "tests/status_matchers.h"
#include "tests/temp_dir.h"

namespace diffmesh {
namespace {

using ::diffmesh::testing::Contract;
using ::diffmesh::testing::Describe;
using ::diffmesh::testing::IsOk;
using ::diffmesh::testing::kFlightsContract;
using ::diffmesh::testing::Must;
using ::diffmesh::testing::StatusIs;
using ::diffmesh::testing::TempDir;
using testing::Multiset;

const Schema& RowsSchema() {
  static const Schema* schema = new Schema({{"k", ValueType::kInt64}});
  return *schema;
}

Row Verdict(const std::string& check, const std::string& severity,
            bool passed) {
  Row row;
  row.AppendString(check);
  row.AppendNull();
  row.AppendString("rowCount");
  row.AppendString(severity);
  row.AppendBool(passed);
  row.AppendDouble(0);
  row.AppendString("");
  row.AppendInt64(0);
  return row;
}

std::string Show(const Multiset<Row>& m) {
  std::string s = "{";
  for (const auto& [row, n] : m) {
    s += RowDebugString(row) + ":" + std::to_string(n) + " ";
  }
  return s + "}";
}

// One seed on `layout`; false after the first mismatch.
bool RunSeed(uint64_t seed, const testing::WorkerLayout& layout) {
  const std::string where =
      "hold on " + layout.Name() +
      "; reproduce with DIFFMESH_SEED=" + std::to_string(seed);
  constexpr uint64_t kRounds = 14;
  std::mutex mu;
  std::vector<Update<Row, uint64_t, int64_t>> output;
  bool ok = true;
  absl::Status status = testing::RunOnLayout(layout, [&](Worker& worker) {
    std::mt19937_64 rng(seed * 104729 + 3);
    Graph& graph = worker.NewDataflow("hold");
    auto [rows_in, rows] = NewInput<Row>(graph);
    auto [verdicts_in, verdicts] = NewInput<Row>(graph);
    Table product = Must(Table::FromProduct("t.p", rows, RowsSchema()));
    Table checks = Must(Table::FromProduct("t.c", verdicts, VerdictSchema()));
    Table held = Must(HoldWhileFailing(product, checks));
    auto out = Inspect(held.rows(), [&](const Row& r, uint64_t t, int64_t n) {
      std::lock_guard<std::mutex> lock(mu);
      output.push_back({r, t, n});
    });
    auto probe = ProbeStream(out.stream);
    // What was sent, by time; the verdicts present (to retract some).
    std::map<uint64_t, Multiset<Row>> sent_rows, sent_verdicts;
    Multiset<Row> live_rows, live_verdicts;
    std::map<Row, uint64_t> last;  // each record's latest change
    uint64_t generated = 0;
    const char* severities[] = {"error", "warning"};
    for (uint64_t round = 0; round < kRounds; ++round) {
      const int n = static_cast<int>(rng() % 6);
      for (int i = 0; i < n; ++i) {
        const bool verdict = rng() % 3 == 0;
        Multiset<Row>& live = verdict ? live_verdicts : live_rows;
        Row d = verdict ? Verdict("c" + std::to_string(rng() % 3),
                                  severities[rng() % 2], rng() % 2 == 0)
                        : Row{Value(static_cast<int64_t>(rng() % 5))};
        int64_t diff = 1;
        if (!live.empty() && rng() % 3 == 0) {
          auto it = live.begin();
          std::advance(it, rng() % live.size());
          d = it->first;
          diff = -1;
        }
        // Now and then a change for a later time; a retraction no earlier
        // than the record's last change, so no count goes negative.
        uint64_t t = round + (rng() % 4 == 0 ? rng() % 3 : 0);
        if (diff < 0) t = std::max(t, last[d]);
        last[d] = std::max(last[d], t);
        live[d] += diff;
        if (live[d] == 0) live.erase(d);
        (verdict ? sent_verdicts : sent_rows)[t][d] += diff;
        if (generated++ % worker.peers() ==
            static_cast<uint64_t>(worker.index())) {
          (verdict ? verdicts_in : rows_in).UpdateAt(d, t, diff);
        }
      }
      rows_in.AdvanceTo(round + 1);
      verdicts_in.AdvanceTo(round + 1);
      if (!worker.StepWhile([&] { return probe.LessThan(round + 1); })) {
        ADD_FAILURE() << "stalled: " << where;
        ok = false;
        return;
      }
      if (worker.index() != 0) continue;
      std::lock_guard<std::mutex> lock(mu);
      for (uint64_t t = 0; t <= round; ++t) {
        // The latest passing time t' <= t and the rows as of it.
        Multiset<Row> want;
        for (uint64_t at = 0; at <= t; ++at) {
          Multiset<Row> rows_at, verdicts_at;
          for (const auto& [when, m] : sent_rows) {
            if (when <= at)
              for (const auto& [r, k] : m) rows_at[r] += k;
          }
          for (const auto& [when, m] : sent_verdicts) {
            if (when <= at)
              for (const auto& [r, k] : m) verdicts_at[r] += k;
          }
          int64_t failing = 0;
          for (const auto& [v, k] : verdicts_at) {
            if (v[3].as_string() == "error" && !v[4].as_bool()) failing += k;
          }
          if (failing == 0) want = testing::DropZeros(rows_at);
        }
        Multiset<Row> got;
        for (const auto& u : output) {
          if (u.time <= t) got[u.data] += u.diff;
        }
        got = testing::DropZeros(got);
        if (got != want) {
          ADD_FAILURE() << "mismatch at time " << t << " after round " << round
                        << "\n  got:  " << Show(got)
                        << "\n  want: " << Show(want) << "\n  " << where;
          ok = false;
          return;
        }
      }
    }
  });
  EXPECT_THAT(status, IsOk());
  return ok && status.ok();
}

TEST(HoldOracle, RowsAreThoseOfTheLatestPassingTime) {
  int64_t cases = 0;
  for (const testing::WorkerLayout& layout : testing::OracleWorkers()) {
    for (uint64_t seed : testing::OracleSeeds()) {
      if (!RunSeed(seed, layout)) return;
      ++cases;
    }
  }
  std::printf("[oracle] hold: %lld cases, 0 mismatches\n",
              static_cast<long long>(cases));
}

TEST(HoldTest, RefusesVerdictsWithoutSeverityAndPassed) {
  Worker worker;
  Graph& graph = worker.NewDataflow("hold");
  auto [rows_in, rows] = NewInput<Row>(graph);
  Table product = Must(Table::FromProduct("t.p", rows, RowsSchema()));
  absl::StatusOr<Table> held = HoldWhileFailing(product, product);
  EXPECT_THAT(held, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(held.status().message(), ::testing::HasSubstr("'severity'"));
}

// A product downstream of the held one never holds a row of a version
// that failed, and catches up at once when the data is fixed.
TEST(HoldTest, DownstreamNeverSeesAFailedVersion) {
  TempDir dir;
  const std::string file = dir.Write("orders.csv", "id,delay\n1,10\n2,20\n");
  Worker worker;
  auto mesh = Must(Mesh::Open(worker, {}));
  Table orders =
      Must(mesh->Source(Describe("sales.orders", "team", Tier::kRaw),
                        {.path = file,
                         .schema = Schema({{"id", ValueType::kInt64},
                                           {"delay", ValueType::kInt64}})}));
  AttachedContract contract =
      Must(Attach(Contract(kFlightsContract), orders.schema()));
  Table verdicts = Must(Checks(orders, contract));
  Table held = Must(HoldWhileFailing(orders, verdicts));
  Must(mesh->Publish(verdicts,
                     Describe("sales.orders_checks", "team", Tier::kRaw)));
  Table checked = Must(mesh->Publish(
      held, Describe("sales.orders_checked", "team", Tier::kRaw)));
  Table big = Must(checked.Filter({"delay"}, [](const Row& in) {
    return in[0].is_null() || in[0].as_int64() >= 15;
  }));
  Must(mesh->Publish(big, Describe("sales.big_orders", "team", Tier::kRaw)));
  ASSERT_THAT(mesh->Refresh().status(), IsOk());
  auto delays = [&](const std::string& id) {
    std::vector<std::string> out;
    for (const Row& r : Must(mesh->Read(id))) out.push_back(RowDebugString(r));
    return out;
  };
  EXPECT_EQ(delays("sales.big_orders").size(), 1u);
  // A null delay: the check fails; the held products keep version 1.
  dir.Write("orders.csv", "id,delay\n1,10\n2,20\n3,\n4,40\n");
  ASSERT_THAT(mesh->Refresh().status(), IsOk());
  EXPECT_EQ(Must(mesh->Read("sales.orders")).size(), 4u);
  EXPECT_EQ(Must(mesh->Read("sales.orders_checked")).size(), 2u);
  EXPECT_EQ(delays("sales.big_orders").size(), 1u);
  EXPECT_EQ(mesh->DataVersions("sales.big_orders").size(), 1u);
  dir.Write("orders.csv", "id,delay\n1,10\n2,20\n3,\n4,40\n5,50\n");
  ASSERT_THAT(mesh->Refresh().status(), IsOk());
  EXPECT_EQ(mesh->DataVersions("sales.big_orders").size(), 1u);
  // Fixed: everything since the last passing version, in one version.
  dir.Write("orders.csv", "id,delay\n1,10\n2,20\n3,30\n4,40\n5,50\n");
  ASSERT_THAT(mesh->Refresh().status(), IsOk());
  EXPECT_EQ(Must(mesh->Read("sales.orders_checked")).size(), 5u);
  EXPECT_EQ(delays("sales.big_orders").size(), 4u);
  const std::vector<DataVersion> versions =
      mesh->DataVersions("sales.big_orders");
  ASSERT_EQ(versions.size(), 2u);
  // No version of the downstream product ever held the null delay.
  for (const DataVersion& v : versions) {
    for (const Row& r : Must(mesh->ReadAsOf("sales.big_orders", v.number))) {
      EXPECT_FALSE(r[1].is_null()) << RowDebugString(r);
    }
  }
}

}  // namespace
}  // namespace diffmesh
