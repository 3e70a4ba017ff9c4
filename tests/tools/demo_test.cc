// The demo mesh (tools/demo): its products against the same numbers
// computed directly from the replayed flights and the routes, at several
// steps, across a restart, after a step cut off halfway; its governance
// and access decisions; and the sample reader's errors. Generated data
// only: the tests never use the network.
#include <cmath>
#include <deque>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "catalog/csv_writer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/status_matchers.h"
#include "tests/temp_dir.h"
#include "tools/demo/demo_mesh.h"

namespace diffmesh::demo {
namespace {

using ::diffmesh::testing::IsOk;
using ::diffmesh::testing::StatusIs;
using ::diffmesh::testing::TempDir;
using ::testing::HasSubstr;

// product rows as "key|key -> values", values as text (means to 6 digits).
std::map<std::string, std::string> Rows(Mesh& mesh, const std::string& id,
                                        size_t keys) {
  std::map<std::string, std::string> out;
  absl::StatusOr<std::vector<Row>> rows = mesh.Read(id);
  EXPECT_THAT(rows.status(), IsOk()) << id;
  if (!rows.ok()) return out;
  for (const Row& r : *rows) {
    std::string key, value;
    for (size_t i = 0; i < r.size(); ++i) {
      std::string text;
      if (r[i].is_null()) {
        text = "null";
      } else if (r[i].type() == ValueType::kDouble) {
        text = absl::StrFormat("%.6f", r[i].as_double());
      } else {
        text = ValueText(r[i]);
      }
      std::string& into = i < keys ? key : value;
      into += (into.empty() ? "" : "|") + text;
    }
    out[key] = value;
  }
  return out;
}

// The flights the first `steps` steps leave (a multiset of log fields).
std::map<std::vector<std::string>, int64_t> Flights(
    const std::vector<ReplayStep>& replay, size_t steps) {
  std::map<std::vector<std::string>, int64_t> out;
  for (size_t s = 0; s < steps; ++s) {
    for (absl::string_view line :
         absl::StrSplit(replay[s].records, '\n', absl::SkipEmpty())) {
      std::vector<std::string> f = absl::StrSplit(line, ',');
      int64_t diff = 0;
      EXPECT_TRUE(absl::SimpleAtoi(f[0], &diff)) << line;
      f.erase(f.begin());
      if ((out[f] += diff) == 0) out.erase(f);
    }
  }
  return out;
}

// (origin -> flights|on_time|mean_delay) or (destination -> arrivals|mean)
// over the flights with a known delay, computed directly.
std::map<std::string, std::string> PerAirport(
    const std::map<std::vector<std::string>, int64_t>& flights, int column,
    bool with_on_time) {
  struct Acc {
    int64_t n = 0, on_time = 0, sum = 0;
  };
  std::map<std::string, Acc> acc;
  for (const auto& [f, n] : flights) {
    if (f[1].empty()) continue;  // unknown delay
    const int64_t delay = std::stoll(f[1]);
    Acc& a = acc[f[column]];
    a.n += n;
    a.on_time += delay <= 15 ? n : 0;
    a.sum += delay * n;
  }
  std::map<std::string, std::string> out;
  for (const auto& [k, a] : acc) {
    const std::string mean =
        absl::StrFormat("%.6f", static_cast<double>(a.sum) / a.n);
    out[k] = with_on_time ? absl::StrCat(a.n, "|", a.on_time, "|", mean)
                          : absl::StrCat(a.n, "|", mean);
  }
  return out;
}

// airport -> hops from ORD, by breadth-first search over the routes.
std::map<std::string, std::string> Hops(const std::string& routes_csv) {
  std::map<std::string, std::set<std::string>> next;
  bool header = true;
  for (absl::string_view line :
       absl::StrSplit(routes_csv, '\n', absl::SkipEmpty())) {
    if (header) {
      header = false;
      continue;
    }
    std::vector<std::string> f = absl::StrSplit(line, ',');
    next[f[0]].insert(f[1]);
  }
  std::map<std::string, std::string> out;
  if (next.count("ORD") == 0) return out;
  std::deque<std::pair<std::string, int>> queue = {{"ORD", 0}};
  out["ORD"] = "0";
  while (!queue.empty()) {
    auto [at, d] = queue.front();
    queue.pop_front();
    for (const std::string& to : next[at]) {
      if (out.emplace(to, std::to_string(d + 1)).second) {
        queue.push_back({to, d + 1});
      }
    }
  }
  return out;
}

void ExpectMatches(DemoMesh& demo, const Sample& sample) {
  const std::vector<ReplayStep> replay = Replay(sample.flights);
  const auto flights = Flights(replay, demo.steps_done());
  EXPECT_EQ(Rows(demo.mesh(), "operations.on_time", 1),
            PerAirport(flights, 3, true))
      << "at step " << demo.steps_done();
  if (demo.steps_done() >= kArrivalsStep) {
    EXPECT_EQ(Rows(demo.mesh(), "operations.arrivals", 1),
              PerAirport(flights, 4, false))
        << "at step " << demo.steps_done();
  }
  // Every record of the log is a row: none quarantined.
  EXPECT_EQ(demo.mesh().QuarantineCount("operations.flights_raw"), 0);
  int64_t raw = 0;
  for (const auto& [f, n] : flights) raw += n;
  absl::StatusOr<std::vector<Row>> rows =
      demo.mesh().Read("operations.flights_raw");
  ASSERT_THAT(rows.status(), IsOk());
  EXPECT_EQ(static_cast<int64_t>(rows->size()), raw);
}

// operations.flights_raw's verdicts: check -> (passed, observed).
std::map<std::string, std::string> FlightsChecks(Mesh& mesh) {
  std::map<std::string, std::string> out;
  absl::StatusOr<std::vector<Row>> checks = mesh.Read("governance.checks");
  EXPECT_THAT(checks.status(), IsOk());
  if (!checks.ok()) return out;
  // (product, check, property, metric, severity, passed, observed, ...)
  for (const Row& r : *checks) {
    if (r[0].as_string() != "operations.flights_raw") continue;
    out[std::string(r[1].as_string())] =
        absl::StrCat(r[5].as_bool(), "|", r[6].as_double());
  }
  return out;
}

// The tightened contract's verdicts, from the product's rows.
void ExpectTightenedVerdicts(Mesh& mesh,
                             const std::map<std::string, std::string>& got) {
  absl::StatusOr<std::vector<Row>> rows = mesh.Read("operations.flights_raw");
  ASSERT_THAT(rows.status(), IsOk());
  ASSERT_FALSE(rows->empty());
  // (date, delay, distance, origin, destination)
  double nulls = 0, long_delays = 0;
  for (const Row& r : *rows) {
    if (r[1].is_null()) {
      ++nulls;
    } else if (std::abs(r[1].as_int64()) > 99) {
      ++long_delays;
    }
  }
  const double n = static_cast<double>(rows->size());
  auto verdict = [&](double percent) {
    return absl::StrCat(percent < 1, "|", percent);
  };
  EXPECT_EQ(got.at("delay_mostly_known"), verdict(100 * nulls / n));
  EXPECT_EQ(got.at("long_delays_rare"), verdict(100 * long_delays / n));
  // The generated sample leaves 1 in 40 delays unknown: a violation.
  EXPECT_TRUE(absl::StartsWith(got.at("delay_mostly_known"), "0|"));
}

TEST(DemoMeshTest, ProductsMatchADirectComputationAcrossARestart) {
  TempDir dir;
  const Sample sample = GenerateSample(7, 3000);
  const std::vector<ReplayStep> replay = Replay(sample.flights);
  ASSERT_GT(replay.size(), 60u);
  std::map<std::string, std::string> tightened;
  {
    auto demo = DemoMesh::Open(dir.path(), sample);
    ASSERT_THAT(demo.status(), IsOk());
    EXPECT_FALSE((*demo)->restored());
    EXPECT_GT((*demo)->loaded_rows(), 0);
    EXPECT_EQ(Rows((*demo)->mesh(), "network.reachable", 1),
              Hops(sample.routes_csv));
    for (size_t s = 1; s <= 30; ++s) {
      absl::StatusOr<StepReport> r = (*demo)->Next();
      ASSERT_THAT(r.status(), IsOk());
      EXPECT_EQ(r->step, s);
      EXPECT_EQ(r->product_added, s == kArrivalsStep);
      if (s % 5 == 0 || s == kArrivalsStep) ExpectMatches(**demo, sample);
    }
    // Corrections and retractions happened on the way.
    int corrected = 0, retracted = 0;
    for (size_t s = 0; s < 30; ++s) {
      corrected += replay[s].corrected;
      retracted += replay[s].retracted;
    }
    EXPECT_GT(corrected, 0);
    EXPECT_GT(retracted, 0);
  }
  // A step cut off halfway (the program stopped while appending).
  const std::string log = dir.path() + "/live/flights.changes.csv";
  {
    std::ofstream out(log, std::ios::app | std::ios::binary);
    out << replay[30].records.substr(0, replay[30].records.size() / 2);
  }
  {
    auto demo = DemoMesh::Open(dir.path(), sample);
    ASSERT_THAT(demo.status(), IsOk());
    EXPECT_TRUE((*demo)->restored());
    EXPECT_EQ((*demo)->steps_done(), 30u);
    ExpectMatches(**demo, sample);
    EXPECT_EQ(FlightsChecks((*demo)->mesh()).count("long_delays_rare"), 0u);
    for (size_t s = 31; s <= 38; ++s) {
      absl::StatusOr<StepReport> r = (*demo)->Next();
      ASSERT_THAT(r.status(), IsOk());
      EXPECT_EQ(r->contract_tightened, s == kTightenStep);
    }
    ExpectMatches(**demo, sample);
    tightened = FlightsChecks((*demo)->mesh());
    ExpectTightenedVerdicts((*demo)->mesh(), tightened);
  }
  {
    // Restored past the tightening: the tightened contract from the start.
    auto demo = DemoMesh::Open(dir.path(), sample);
    ASSERT_THAT(demo.status(), IsOk());
    EXPECT_EQ(FlightsChecks((*demo)->mesh()), tightened);
  }
  // Another sample cannot continue this one's log.
  EXPECT_THAT(DemoMesh::Open(dir.path(), GenerateSample(8, 3000)).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST(DemoMeshTest, GovernanceAndAccess) {
  TempDir dir;
  auto demo = DemoMesh::Open(dir.path(), GenerateSample(3, 2000));
  ASSERT_THAT(demo.status(), IsOk());
  ASSERT_THAT((*demo)->Next().status(), IsOk());
  Mesh& mesh = (*demo)->mesh();
  MeshGovernance& gov = (*demo)->governance();
  // The movies' contract fails on missing IMDB ratings.
  std::set<std::string> failing;
  absl::StatusOr<std::vector<Row>> violations =
      mesh.Read(gov.ProductId("violations"));
  ASSERT_THAT(violations.status(), IsOk());
  for (const Row& r : *violations) {
    failing.insert(absl::StrCat(r[0].as_string(), "/", r[1].as_string()));
  }
  EXPECT_TRUE(failing.count("entertainment.movies_raw/imdb_rating_known"))
      << absl::StrJoin(failing, ", ");
  for (const std::string& f : failing) {
    EXPECT_THAT(f, ::testing::Not(HasSubstr("operations.on_time")));
    EXPECT_THAT(f, ::testing::Not(HasSubstr("operations.flights/")));
  }
  // The authoritative product passes its checks and keeps its tier.
  const auto tiers = Rows(mesh, gov.ProductId("tiers"), 1);
  ASSERT_TRUE(tiers.count("operations.on_time"));
  EXPECT_THAT(tiers.at("operations.on_time"),
              ::testing::StartsWith("authoritative|authoritative|"));
  // Email: hidden from the analyst, clear for the steward; no crm product
  // at all for an anonymous reader, public domains for everyone.
  std::shared_ptr<const MeshSnapshot> shot = mesh.Snapshot();
  const MeshSnapshot& snap = *shot;
  auto ana = snap.ReadAs("ana", "crm.customers_raw");
  ASSERT_THAT(ana.status(), IsOk());
  auto sam = snap.ReadAs("sam", "crm.customers_raw");
  ASSERT_THAT(sam.status(), IsOk());
  ASSERT_FALSE(ana->rows.empty());
  EXPECT_EQ(ana->schema.FieldIndex("email"), std::nullopt);
  EXPECT_EQ(ana->schema.fields().size(), 3u);
  ASSERT_EQ(sam->schema.FieldIndex("email"), std::optional<int>(2));
  EXPECT_THAT(ValueText(sam->rows[0][2]), HasSubstr("@example.org"));
  EXPECT_THAT(snap.ReadAs("", "crm.customers_raw").status(),
              StatusIs(absl::StatusCode::kPermissionDenied));
  auto anon = snap.ReadAs("", "network.reachable");
  ASSERT_THAT(anon.status(), IsOk());
  EXPECT_FALSE(anon->rows.empty());
  // crm.customers carries no pii: the masked email is readable by ana.
  auto masked = snap.ReadAs("ana", "crm.customers");
  ASSERT_THAT(masked.status(), IsOk());
  EXPECT_THAT(ValueText(masked->rows[0][2]), HasSubstr("***@example.org"));
}

TEST(SampleTest, BadFlightsAreCountedOrRefusedWithTheFile) {
  absl::Status bad = ParseFlights("{\"date\": 1}", "f.json").status();
  EXPECT_THAT(bad, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(bad.message(), HasSubstr("f.json"));
  absl::StatusOr<Sample> s = ParseFlights(
      R"([{"date":"2001/01/01 00:47","delay":3,"distance":10,"origin":"A","destination":"B"},
          {"date":"2001/01/01 00:40","delay":"late","distance":10,"origin":"A","destination":"B"},
          7])",
      "f.json");
  ASSERT_THAT(s.status(), IsOk());
  EXPECT_EQ(s->flights.size(), 1u);
  EXPECT_EQ(s->skipped_flights, 2);
  EXPECT_THAT(s->first_skip_reason, HasSubstr("f.json: record 2: 'delay'"));
  absl::Status missing = ReadSample("/nonexistent-dir").status();
  EXPECT_THAT(missing, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(missing.message(), HasSubstr("airports.csv"));
}

}  // namespace
}  // namespace diffmesh::demo
