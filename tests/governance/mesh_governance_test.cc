// MeshGovernance: checks, violations, tiers, classification and access of
// a live mesh, as products of the mesh, moving with its data and policy.
#include "governance/mesh_governance.h"

#include <algorithm>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/match.h"
#include "catalog/csv_writer.h"
#include "engine/check.h"
#include "engine/graph.h"
#include "engine/runtime.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/governance/checks_oracle.h"
#include "tests/governance/demo_mesh.h"
#include "tests/status_matchers.h"
#include "tests/temp_dir.h"

namespace diffmesh {
namespace {

using ::diffmesh::testing::IsOk;
using ::diffmesh::testing::StatusIs;
using ::diffmesh::testing::TempDir;
using ::testing::HasSubstr;

using testing::Contract;
using testing::Declare;
using testing::Demo;
using testing::Describe;
using testing::K;
using testing::kDelaysContract;
using testing::kFlightsContract;
using testing::Must;

TEST(MeshGovernance, TiersChecksClassificationAndAccessAreProducts) {
  Demo d;
  ASSERT_THAT(d.mesh->Advance(), IsOk());
  auto tiers = d.Rows("tiers", 1);
  EXPECT_EQ(tiers[K("ops.flights")], "curated|curated|null");
  EXPECT_EQ(tiers[K("ops.delays")], "authoritative|authoritative|null");
  EXPECT_EQ(tiers[K("crm.customers")], "raw|raw|null");
  EXPECT_THAT(d.Rows("violations"), ::testing::IsEmpty());
  EXPECT_EQ(d.Rows("checks").size(), 2u);
  // (product, column, metric, value, text)
  bool max_seen = false;
  for (const Row& r : Must(d.mesh->Read("governance.metrics"))) {
    if (r[0].as_string() == "ops.flights" && r[1].as_string() == "delay" &&
        r[2].as_string() == "max") {
      EXPECT_EQ(r[3].as_double(), 30);
      max_seen = true;
    }
  }
  EXPECT_TRUE(max_seen);
  EXPECT_THAT(d.gov->Profile("ops.flights"),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  auto tags = d.Rows("classification", 3);
  EXPECT_TRUE(tags.count(K("crm.customers", "email")));
  EXPECT_TRUE(tags.count(K("crm.emails", "email")));
  EXPECT_FALSE(tags.count(K("crm.contacts", "email")));  // masked
  // No governance product holds a tag: verdicts count, they do not copy.
  for (const auto& [key, rest] : tags) {
    EXPECT_FALSE(absl::StartsWith(key.first, "governance.")) << key.first;
  }
  EXPECT_EQ(d.Access("ana", "crm.emails", "email"), "mask");
  EXPECT_EQ(d.Access("ana", "crm.emails", "id"), "allow");
  EXPECT_EQ(d.Access("bob", "crm.emails", "email"), "allow");
  EXPECT_EQ(d.Access("ana", "crm.contacts", "email"), "allow");
  EXPECT_EQ(d.Access("cy", "crm.emails", "id"), "deny");
  // The flights contract's role grants analysts its product.
  EXPECT_EQ(d.Access("ana", "ops.flights", "delay"), "allow");
  EXPECT_EQ(d.Access("ana", "ops.delays", "origin"), "deny");
}

TEST(MeshGovernance, ViolationsAndTiersMoveWithTheData) {
  Demo d;
  ASSERT_THAT(d.mesh->Advance(), IsOk());
  const auto delays_before = Must(d.mesh->Read("ops.delays"));
  // An unknown airport: the delays check fails, its product is held and
  // drops to curated; a null delay: the flights check fails (flights is
  // not held: it was attached, not published checked).
  d.dir.Write(
      "flights.csv",
      "id,origin,delay\n1,JFK,10\n2,LAX,30\n3,JFK,20\n4,XXX,5\n5,SFO,\n");
  ASSERT_THAT(d.mesh->Refresh().status(), IsOk());
  auto violations = d.Rows("violations");
  ASSERT_EQ(violations.size(), 2u);
  EXPECT_THAT(violations[K("ops.delays", "known_airport")],
              HasSubstr("error|1.0|= 0"));
  EXPECT_TRUE(violations.count(K("ops.flights", "delay_known")));
  EXPECT_EQ(d.Rows("tiers", 1)[K("ops.delays")],
            "authoritative|curated|error check known_airport fails");
  EXPECT_EQ(Must(d.mesh->Read("ops.delays")), delays_before);
  EXPECT_EQ(Must(d.mesh->Read("ops.flights")).size(), 5u);
  // Fixed: the violations are retracted, the tier recovers, the held
  // product catches up.
  d.dir.Write("flights.csv",
              "id,origin,delay\n1,JFK,10\n2,LAX,30\n3,JFK,20\n4,SFO,5\n");
  ASSERT_THAT(d.mesh->Refresh().status(), IsOk());
  EXPECT_THAT(d.Rows("violations"), ::testing::IsEmpty());
  EXPECT_EQ(d.Rows("tiers", 1)[K("ops.delays")],
            "authoritative|authoritative|null");
  EXPECT_EQ(Must(d.mesh->Read("ops.delays")).size(), 3u);
}

TEST(MeshGovernance, PolicyAndTagsChangeDecisionsLive) {
  Demo d;
  ASSERT_THAT(d.mesh->Advance(), IsOk());
  EXPECT_EQ(d.Access("ana", "crm.emails", "email"), "mask");
  ASSERT_THAT(d.gov->AddClearance("ana", "pii"), IsOk());
  ASSERT_THAT(d.mesh->Advance(), IsOk());
  EXPECT_EQ(d.Access("ana", "crm.emails", "email"), "allow");
  ASSERT_THAT(d.gov->RemoveRole("ana", "analyst"), IsOk());
  ASSERT_THAT(d.mesh->Advance(), IsOk());
  EXPECT_EQ(d.Access("ana", "crm.emails", "email"), "deny");
  // A tag taken away at the source: no longer carried downstream.
  ProductDescriptor untagged = Must(d.mesh->Descriptor("crm.customers"));
  untagged.schema = Schema({{"id", ValueType::kInt64},
                            {"email", ValueType::kString},
                            {"country", ValueType::kString}});
  ASSERT_THAT(d.mesh->UpdateDescriptor(untagged), IsOk());
  ASSERT_THAT(d.mesh->Advance(), IsOk());
  EXPECT_FALSE(d.Rows("classification", 3).count(K("crm.emails", "email")));
  // The policy refuses what changes nothing.
  EXPECT_THAT(d.gov->RemoveRole("ana", "analyst"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(d.gov->Grant("analyst", "crm.*"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(MeshGovernance, DeclaringAfterPublishOrAdvanceIsRefused) {
  Demo d;
  EXPECT_THAT(d.gov->Attach("crm.customers", Contract(kFlightsContract)),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(d.gov->Publish(),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  ASSERT_THAT(d.mesh->Advance(), IsOk());
  EXPECT_THAT(MeshGovernance::Open(*d.mesh).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST(MeshGovernance, AttachRefusesAContractThatDoesNotFit) {
  TempDir dir;
  Worker worker;
  auto mesh = Must(Mesh::Open(worker, {}));
  auto gov = Must(MeshGovernance::Open(*mesh));
  Must(mesh->Source(Describe("a.b", "o", Tier::kRaw),
                    {.path = dir.Write("b.csv", "x\n1\n")}));
  absl::Status attached = gov->Attach("a.b", Contract(kFlightsContract));
  EXPECT_THAT(attached, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(attached.message(), HasSubstr("delay"));
  EXPECT_THAT(gov->Attach("a.none", Contract(kFlightsContract)),
              StatusIs(absl::StatusCode::kNotFound));
}

std::vector<std::string> Emails(const MeshSnapshot::VisibleRows& seen) {
  std::vector<std::string> out;
  const int at = *seen.schema.FieldIndex("email");
  for (const Row& r : seen.rows) out.push_back(std::string(r[at].as_string()));
  return out;
}

TEST(MeshGovernance, ReadsForAPrincipalFollowTheDecisions) {
  Demo d;
  ASSERT_THAT(d.mesh->Advance(), IsOk());
  std::shared_ptr<const MeshSnapshot> s = d.mesh->Snapshot();
  auto ana = Must(s->ReadAs("ana", "crm.emails"));
  EXPECT_EQ(Emails(ana), (std::vector<std::string>{"***", "***"}));
  auto bob = Must(s->ReadAs("bob", "crm.emails"));
  EXPECT_EQ(Emails(bob), (std::vector<std::string>{"a@x.org", "b@y.org"}));
  EXPECT_THAT(s->ReadAs("cy", "crm.emails").status(),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(s->ReadAs("", "crm.emails").status(),
              StatusIs(absl::StatusCode::kPermissionDenied));
  // As of a version: under today's decisions.
  auto old = Must(s->ReadAs("ana", "crm.emails", 1));
  EXPECT_EQ(Emails(old), (std::vector<std::string>{"***", "***"}));
  // The owner's own reads are not filtered.
  EXPECT_EQ(Must(d.mesh->Read("crm.emails")).size(), 2u);
  ASSERT_THAT(d.gov->RemoveRole("ana", "analyst"), IsOk());
  ASSERT_THAT(d.mesh->Advance(), IsOk());
  EXPECT_THAT(d.mesh->Snapshot()->ReadAs("ana", "crm.emails").status(),
              StatusIs(absl::StatusCode::kPermissionDenied));
  // The snapshot taken before keeps its decisions.
  EXPECT_TRUE(s->ReadAs("ana", "crm.emails").ok());
}

TEST(MeshGovernance, APrincipalsSubscriptionStopsWhenAccessChanges) {
  Demo d;
  ASSERT_THAT(d.mesh->Advance(), IsOk());
  auto sub = Must(d.mesh->Subscribe({.id = "crm.emails", .principal = "ana"}));
  d.dir.Write("customers.csv",
              "id,email,country\n1,a@x.org,NL\n2,b@y.org,DE\n3,c@z.org,FR\n");
  ASSERT_THAT(d.mesh->Refresh().status(), IsOk());
  MeshEvents events = Must(sub->TryNext());
  ASSERT_EQ(events.events.size(), 1u);
  EXPECT_EQ(events.events[0].row(),
            (Row{Value(int64_t{3}), Value(std::string("***"))}));
  // Cleared for pii at the next time: the subscription ends there.
  ASSERT_THAT(d.gov->AddClearance("ana", "pii"), IsOk());
  ASSERT_THAT(d.mesh->Advance(), IsOk());
  const uint64_t changed = d.mesh->time() - 1;
  absl::StatusOr<MeshEvents> next = sub->TryNext();
  EXPECT_THAT(next.status(), StatusIs(absl::StatusCode::kAborted));
  EXPECT_THAT(next.status().message(),
              HasSubstr("changed at time " + std::to_string(changed)));
  // Again from a snapshot: the emails in clear, and what follows.
  std::shared_ptr<const MeshSnapshot> s = d.mesh->Snapshot();
  EXPECT_EQ(Emails(Must(s->ReadAs("ana", "crm.emails"))),
            (std::vector<std::string>{"a@x.org", "b@y.org", "c@z.org"}));
  auto again = Must(d.mesh->Subscribe(
      {.id = "crm.emails", .from = s->time() + 1, .principal = "ana"}));
  d.dir.Write("customers.csv", "id,email,country\n1,a@x.org,NL\n");
  ASSERT_THAT(d.mesh->Refresh().status(), IsOk());
  MeshEvents gone = Must(again->TryNext());
  ASSERT_EQ(gone.events.size(), 2u);
  EXPECT_EQ(gone.events[0].diff, -1);
  EXPECT_EQ(gone.events[0].row()[1].as_string(), "b@y.org");
  // A resume from before the change is refused.
  EXPECT_THAT(
      d.mesh
          ->Subscribe({.id = "crm.emails", .from = changed, .principal = "ana"})
          .status(),
      StatusIs(absl::StatusCode::kAborted));
  EXPECT_THAT(d.mesh->Subscribe({.principal = "ana"}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(
      d.mesh->Subscribe({.id = "crm.emails", .principal = "cy"}).status(),
      StatusIs(absl::StatusCode::kPermissionDenied));
}

constexpr char kFreshContract[] = R"(apiVersion: v3.1.0
kind: DataContract
id: events
version: 1.0.0
status: active
schema:
  - name: events
    properties:
      - name: at
        logicalType: timestamp
slaProperties:
  - property: latency
    value: 1
    unit: h
    element: events.at
  - property: retention
    value: 1
    unit: y
)";

TEST(MeshGovernance, FreshnessFollowsTheClockAndTheNewestValue) {
  TempDir dir;
  const std::string file =
      dir.Write("events.csv", "id,at\n1,2026-12-01T10:00:00Z\n");
  const int64_t ten = 1796119200000000;            // 2026-12-01T10:00:00Z
  int64_t now = ten + 30 * 60 * int64_t{1000000};  // half an hour later
  Worker worker;
  auto mesh = Must(Mesh::Open(worker, {}));
  auto gov = Must(MeshGovernance::Open(*mesh, {.clock = [&] { return now; }}));
  Must(mesh->Source(Describe("ops.events", "ops", Tier::kRaw),
                    {.path = file,
                     .schema = Schema({{"id", ValueType::kInt64},
                                       {"at", ValueType::kTimestamp}})}));
  Must(
      gov->Attach("ops.events", Must(ParseContract(kFreshContract, "e.yaml"))));
  Must(gov->Publish());
  auto check = [&] {
    for (const Row& r : Must(mesh->Read("governance.checks"))) {
      if (r[3].as_string() == "freshness") return r;
    }
    return Row();
  };
  ASSERT_THAT(mesh->Refresh().status(), IsOk());
  Row verdict = check();
  ASSERT_EQ(verdict.size(), 9u);
  EXPECT_EQ(verdict[1].as_string(), "events.at.freshness");
  EXPECT_TRUE(verdict[5].as_bool());
  EXPECT_DOUBLE_EQ(verdict[6].as_double(), 0.5);  // hours
  EXPECT_EQ(verdict[7].as_string(), "<= 1 h");
  // Two hours on: stale, a violation since this time.
  now = ten + 2 * 3600 * int64_t{1000000};
  ASSERT_THAT(mesh->Advance(), IsOk());
  const uint64_t stale_at = mesh->time() - 1;
  verdict = check();
  EXPECT_FALSE(verdict[5].as_bool());
  EXPECT_DOUBLE_EQ(verdict[6].as_double(), 2.0);
  EXPECT_EQ(verdict[8].as_int64(), static_cast<int64_t>(stale_at));
  EXPECT_EQ(Must(mesh->Read("governance.violations")).size(), 1u);
  // A newer event: fresh again.
  dir.Write("events.csv",
            "id,at\n1,2026-12-01T10:00:00Z\n2,2026-12-01T11:45:00Z\n");
  ASSERT_THAT(mesh->Refresh().status(), IsOk());
  verdict = check();
  EXPECT_TRUE(verdict[5].as_bool());
  EXPECT_DOUBLE_EQ(verdict[6].as_double(), 0.25);
  EXPECT_TRUE(Must(mesh->Read("governance.violations")).empty());
  // The age is kept in hundredths of the unit (36 s of an hour): a second
  // later the checks have no new version; a minute later they have.
  const size_t versions = mesh->DataVersions("governance.checks").size();
  now += 1000000;
  ASSERT_THAT(mesh->Advance(), IsOk());
  EXPECT_EQ(mesh->DataVersions("governance.checks").size(), versions);
  now += 60 * 1000000;
  ASSERT_THAT(mesh->Advance(), IsOk());
  EXPECT_DOUBLE_EQ(check()[6].as_double(), 0.27);
  EXPECT_GT(mesh->DataVersions("governance.checks").size(), versions);
}

// Retention on a timestamp column: rows older than the period should be
// gone.
constexpr char kRetentionContract[] = R"(apiVersion: v3.1.0
kind: DataContract
id: events
version: 1.0.0
status: active
schema:
  - name: events
    properties:
      - name: at
        logicalType: timestamp
slaProperties:
  - property: retention
    value: 2
    unit: days
    element: at
)";

TEST(MeshGovernance, RetentionFollowsTheOldestValue) {
  TempDir dir;
  const std::string file = dir.Write(
      "events.csv", "id,at\n1,2026-11-28T10:00:00Z\n2,2026-12-01T10:00:00Z\n");
  const int64_t day = 86400 * int64_t{1000000};
  const int64_t ten = 1796119200000000;  // 2026-12-01T10:00:00Z
  int64_t now = ten + day / 2;
  Worker worker;
  auto mesh = Must(Mesh::Open(worker, {}));
  auto gov = Must(MeshGovernance::Open(*mesh, {.clock = [&] { return now; }}));
  Must(mesh->Source(Describe("ops.events", "ops", Tier::kRaw),
                    {.path = file,
                     .schema = Schema({{"id", ValueType::kInt64},
                                       {"at", ValueType::kTimestamp}})}));
  Must(gov->Attach("ops.events",
                   Must(ParseContract(kRetentionContract, "e.yaml"))));
  Must(gov->Publish());
  auto check = [&] {
    for (const Row& r : Must(mesh->Read("governance.checks"))) {
      if (r[3].as_string() == "retention") return r;
    }
    return Row();
  };
  // The oldest event is three and a half days old: kept too long.
  ASSERT_THAT(mesh->Refresh().status(), IsOk());
  Row verdict = check();
  ASSERT_EQ(verdict.size(), 9u);
  EXPECT_EQ(verdict[1].as_string(), "events.at.retention");
  EXPECT_FALSE(verdict[5].as_bool());
  EXPECT_DOUBLE_EQ(verdict[6].as_double(), 3.5);  // days
  EXPECT_EQ(verdict[7].as_string(), "<= 2 days");
  EXPECT_EQ(Must(mesh->Read("governance.violations")).size(), 1u);
  // It is removed: the oldest moves back to the next one.
  dir.Write("events.csv", "id,at\n2,2026-12-01T10:00:00Z\n");
  ASSERT_THAT(mesh->Refresh().status(), IsOk());
  verdict = check();
  EXPECT_TRUE(verdict[5].as_bool());
  EXPECT_DOUBLE_EQ(verdict[6].as_double(), 0.5);
  EXPECT_TRUE(Must(mesh->Read("governance.violations")).empty());
  // Time passes: that one too.
  now = ten + 3 * day;
  ASSERT_THAT(mesh->Advance(), IsOk());
  EXPECT_FALSE(check()[5].as_bool());
  // No rows: nothing is kept too long.
  dir.Write("events.csv", "id,at\n");
  ASSERT_THAT(mesh->Refresh().status(), IsOk());
  verdict = check();
  EXPECT_TRUE(verdict[5].as_bool());
  EXPECT_EQ(verdict[6].as_double(), 0);
}

// Retention of the data set: how long the product's data versions are
// kept (Mesh::SetRetention), while the contract is attached.
TEST(MeshGovernance, DataSetRetentionBoundsTheRetainedVersions) {
  TempDir dir;
  std::string text = "id,at\n";
  const std::string file = dir.Write("events.csv", text);
  absl::Time now = absl::FromUnixSeconds(1'796'119'200);
  Worker worker;
  auto mesh = Must(Mesh::Open(worker, {.clock = [&] { return now; }}));
  auto gov = Must(MeshGovernance::Open(*mesh));
  Must(mesh->Source(Describe("ops.events", "ops", Tier::kRaw),
                    {.path = file,
                     .schema = Schema({{"id", ValueType::kInt64},
                                       {"at", ValueType::kTimestamp}})}));
  std::string yaml = kRetentionContract;
  yaml.replace(yaml.find("value: 2\n    unit: days\n    element: at"),
               std::string("value: 2\n    unit: days\n    element: at").size(),
               "value: 1\n    unit: h");
  Must(gov->Attach("ops.events", Must(ParseContract(yaml, "e.yaml"))));
  Must(gov->Publish());
  auto add_event = [&](int i) {
    absl::StrAppend(&text, i, ",2026-12-01T10:00:00Z\n");
    dir.Write("events.csv", text);
    return mesh->Refresh().status();
  };
  for (int i = 0; i < 6; ++i) {
    now += absl::Minutes(25);
    ASSERT_THAT(add_event(i), IsOk());
    // Versions closed 0, 25 and 50 minutes ago at most.
    const std::vector<DataVersion> v = mesh->DataVersions("ops.events");
    EXPECT_LE(v.size(), 3u) << i;
    EXPECT_GE(v.front().closed, now - absl::Hours(1)) << i;
  }
  // Detached: versions are kept as many as the mesh keeps.
  Must(gov->Detach("ops.events"));
  for (int i = 6; i < 12; ++i) {
    now += absl::Minutes(25);
    ASSERT_THAT(add_event(i), IsOk());
  }
  EXPECT_EQ(mesh->DataVersions("ops.events").size(), 9u);
}

TEST(MeshGovernance, FreshnessRulesRefuseWhatTheyCannotCheck) {
  TempDir dir;
  Worker worker;
  auto mesh = Must(Mesh::Open(worker, {}));
  auto gov = Must(MeshGovernance::Open(*mesh));
  Must(mesh->Source(Describe("ops.events", "ops", Tier::kRaw),
                    {.path = dir.Write("e.csv", "id,at\n1,x\n"),
                     .schema = Schema({{"id", ValueType::kInt64},
                                       {"at", ValueType::kString}})}));
  auto attach = [&](const std::string& from, const std::string& to) {
    // The product's column is a string: so is the contract's property.
    std::string yaml = kFreshContract;
    const std::string ts = "logicalType: timestamp";
    yaml.replace(yaml.find(ts), ts.size(), "logicalType: string");
    if (!from.empty()) yaml.replace(yaml.find(from), from.size(), to);
    return gov->Attach("ops.events", Must(ParseContract(yaml, "e.yaml")));
  };
  absl::Status not_timestamp = attach("", "");
  EXPECT_THAT(not_timestamp, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(not_timestamp.message(), HasSubstr("not a timestamp column"));
  EXPECT_THAT(not_timestamp.message(), HasSubstr("slaProperties[0]"));
  absl::Status unit = attach("unit: h", "unit: fortnight");
  EXPECT_THAT(unit, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(unit.message(), HasSubstr("unknown unit 'fortnight'"));
  absl::Status value =
      attach("value: 1\n    unit: h", "value: soon\n    unit: h");
  EXPECT_THAT(value.message(), HasSubstr("not a positive number"));
}

// The flights contract, tightened: a limit on the rows, and the analysts'
// read role dropped.
constexpr char kStrictFlightsContract[] = R"(apiVersion: v3.1.0
kind: DataContract
id: flights_strict
version: 1.0.0
status: active
schema:
  - name: flights
    properties:
      - name: delay
        logicalType: integer
        quality:
          - id: delay_known
            metric: nullValues
            mustBe: 0
    quality:
      - id: few_flights
        metric: rowCount
        mustBeLessThan: 3
)";

TEST(MeshGovernance, AContractTightenedWhileRunningTakesEffectAtTheNextTime) {
  Demo d;
  ASSERT_THAT(d.mesh->Advance(), IsOk());
  EXPECT_EQ(d.Access("ana", "ops.flights", "delay"), "allow");
  const auto checks_before = d.Rows("checks");
  ASSERT_THAT(d.gov->Replace("ops.flights", Contract(kStrictFlightsContract)),
              IsOk());
  EXPECT_EQ(d.gov->ContractOf("ops.flights"), "flights_strict");
  // Nothing moves before the Advance.
  EXPECT_EQ(d.Rows("checks"), checks_before);
  const uint64_t replaced_at = d.mesh->time();
  ASSERT_THAT(d.mesh->Advance(), IsOk());
  auto checks = d.Rows("checks");
  ASSERT_EQ(checks.size(), 3u);
  EXPECT_THAT(checks[K("ops.flights", "few_flights")],
              HasSubstr("|rowCount|error|false|3.0|< 3|"));
  EXPECT_THAT(checks[K("ops.flights", "few_flights")],
              ::testing::EndsWith("|" + std::to_string(replaced_at)));
  EXPECT_TRUE(checks.count(K("ops.flights", "delay_known")));
  EXPECT_TRUE(checks.count(K("ops.delays", "known_airport")));
  auto violations = d.Rows("violations");
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_TRUE(violations.count(K("ops.flights", "few_flights")));
  // The old contract's role made the grant; the new one has none.
  EXPECT_EQ(d.Access("ana", "ops.flights", "delay"), "deny");

  // Kept live from the data: two flights pass, a null delay fails.
  d.dir.Write("flights.csv", "id,origin,delay\n1,JFK,10\n2,LAX,\n");
  ASSERT_THAT(d.mesh->Refresh().status(), IsOk());
  violations = d.Rows("violations");
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_TRUE(violations.count(K("ops.flights", "delay_known")));

  // Detached: its verdicts go, and with them its tier.
  ASSERT_THAT(d.gov->Detach("ops.flights"), IsOk());
  ASSERT_THAT(d.mesh->Advance(), IsOk());
  checks = d.Rows("checks");
  EXPECT_EQ(checks.size(), 1u);
  EXPECT_TRUE(checks.count(K("ops.delays", "known_airport")));
  EXPECT_THAT(d.Rows("violations"), ::testing::IsEmpty());
  EXPECT_EQ(d.Rows("tiers", 1)[K("ops.flights")],
            "curated|raw|no data contract attached");
  EXPECT_EQ(d.gov->ContractOf("ops.flights"), std::nullopt);

  // Attached again while running: the original contract and its grant.
  ASSERT_THAT(d.gov->Attach("ops.flights", Contract(kFlightsContract)), IsOk());
  ASSERT_THAT(d.mesh->Advance(), IsOk());
  checks = d.Rows("checks");
  EXPECT_EQ(checks.size(), 2u);
  EXPECT_THAT(checks[K("ops.flights", "delay_known")],
              HasSubstr("|false|1.0|"));
  EXPECT_EQ(d.Rows("tiers", 1)[K("ops.flights")], "curated|curated|null");
  EXPECT_EQ(d.Access("ana", "ops.flights", "delay"), "allow");
}

TEST(MeshGovernance, ContractChangesThatCannotBeAreRefusedAndChangeNothing) {
  Demo d;
  ASSERT_THAT(d.mesh->Advance(), IsOk());
  const auto checks = d.Rows("checks");
  // Held by its checks: the hold is built into its rows.
  absl::Status held = d.gov->Replace("ops.delays", Contract(kFlightsContract));
  EXPECT_THAT(held, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(held.message(), HasSubstr("held by its contract's checks"));
  EXPECT_THAT(d.gov->Detach("ops.delays"),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(d.gov->Replace("crm.customers", Contract(kFlightsContract)),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(d.gov->Detach("crm.customers"),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(d.gov->Attach("ops.flights", Contract(kFlightsContract)),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  // A contract that does not fit the product: named, and nothing changes.
  std::string yaml = kDelaysContract;
  yaml.replace(yaml.find("name: origin"), 12, "name: gate");
  absl::Status misfit =
      d.gov->Replace("ops.flights", Must(ParseContract(yaml, "gate.yaml")));
  EXPECT_THAT(misfit, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(misfit.message(),
              HasSubstr("replace the contract of ops.flights"));
  EXPECT_THAT(misfit.message(), HasSubstr("gate"));
  EXPECT_EQ(d.gov->ContractOf("ops.flights"), "flights");
  ASSERT_THAT(d.mesh->Advance(), IsOk());
  EXPECT_EQ(d.Rows("checks"), checks);
}

// A mesh with its governance and one source, t.p, read from p.csv in
// `dir` (testing::ProductSchema()).
struct GovernedP {
  Worker worker;
  std::unique_ptr<Mesh> mesh;
  std::unique_ptr<MeshGovernance> gov;
  explicit GovernedP(const TempDir& dir)
      : mesh(Must(Mesh::Open(worker, {}))),
        gov(Must(MeshGovernance::Open(*mesh))) {
    Must(mesh->Source(
        Describe("t.p", "owner", Tier::kCurated),
        {.path = dir.path() + "/p.csv", .schema = testing::ProductSchema()}));
  }
};

// A contract attached while running: the checks product's lineage gains
// the product it now checks (product and column edges, upstream), from
// that time on.
TEST(MeshGovernance,
     AContractAttachedWhileRunningAddsItsLineageAndDetachedTakesIt) {
  TempDir dir;
  std::mt19937_64 rng(3);
  std::vector<Row> rows;
  for (int i = 0; i < 5; ++i) rows.push_back(testing::GenRow(rng));
  dir.Write("p.csv", WriteCsv(testing::ProductSchema(), rows));
  GovernedP governed(dir);
  Mesh* mesh = governed.mesh.get();
  MeshGovernance* gov = governed.gov.get();
  Must(gov->Publish());
  Must(mesh->Advance());
  const ColumnRef p{"t.p", ""};
  const ColumnRef checks{"governance.checks", ""};
  auto reaches = [&] {
    const std::vector<ColumnRef> down = mesh->Downstream(p);
    return std::find(down.begin(), down.end(), checks) != down.end();
  };
  EXPECT_FALSE(reaches());
  Must(gov->Attach("t.p", Must(ParseContract(testing::kContract, "c.yaml"))));
  Must(mesh->Advance());
  EXPECT_TRUE(reaches());
  const std::vector<std::string> upstream =
      Must(mesh->Descriptor("governance.checks")).upstream;
  EXPECT_NE(std::find(upstream.begin(), upstream.end(), "t.p"), upstream.end());
  // Column edges too: some column of t.p feeds a column of the checks.
  bool column_edge = false;
  for (const LineageEdge& e : mesh->Lineage()) {
    column_edge =
        column_edge || (e.from.product == "t.p" && !e.from.column.empty() &&
                        e.to.product == "governance.checks");
  }
  EXPECT_TRUE(column_edge);
  // Attached again (replaced): nothing new to add, nothing breaks.
  Must(gov->Replace("t.p", Must(ParseContract(testing::kContract, "c.yaml"))));
  Must(mesh->Advance());
  EXPECT_TRUE(reaches());
  // Detached: the checks no longer come from t.p, and neither does their
  // lineage; attached again, it is back.
  Must(gov->Detach("t.p"));
  Must(mesh->Advance());
  EXPECT_FALSE(reaches());
  const std::vector<std::string> after =
      Must(mesh->Descriptor("governance.checks")).upstream;
  EXPECT_EQ(std::find(after.begin(), after.end(), "t.p"), after.end());
  for (const LineageEdge& e : mesh->Lineage()) {
    EXPECT_FALSE(e.from.product == "t.p" && e.to.product == "governance.checks")
        << e.ToString();
  }
  Must(gov->Attach("t.p", Must(ParseContract(testing::kContract, "c.yaml"))));
  Must(mesh->Advance());
  EXPECT_TRUE(reaches());
}

// A product's contract attached, replaced and detached at random times
// over random changes of its rows: at every time, its verdicts are those
// of its contract of that time computed from its rows, its violations the
// failing ones, and its tier says whether it is under contract.
void CheckContractsSwappedWhileRunning(uint64_t seed) {
  SCOPED_TRACE(::testing::Message() << "seed " << seed);
  std::mt19937_64 rng(seed);
  TempDir dir;
  auto write = [&] {
    std::vector<Row> rows;
    const size_t n = rng() % 9;
    for (size_t i = 0; i < n; ++i) rows.push_back(testing::GenRow(rng));
    dir.Write("p.csv", WriteCsv(testing::ProductSchema(), rows));
  };
  write();
  std::string tightened = testing::kContract;
  tightened.replace(tightened.find("version: 1.0.0"), 14, "version: 1.1.0");
  tightened.replace(tightened.find("[2, 6]"), 6, "[2, 3]");
  tightened.replace(tightened.find("[a, b, 'N/A']"), 13, "[a]");
  const std::string loose = R"(apiVersion: v3.1.0
kind: DataContract
id: loose
version: 1.0.0
status: active
schema:
  - name: p
    properties:
      - name: s
        quality:
          - metric: nullValues
            mustBeLessThan: 50
            unit: percent
)";
  const std::vector<DataContract> contracts = {
      Must(ParseContract(testing::kContract, "c.yaml")),
      Must(ParseContract(tightened, "c.yaml")),
      Must(ParseContract(loose, "c.yaml"))};

  GovernedP governed(dir);
  Mesh* mesh = governed.mesh.get();
  MeshGovernance* gov = governed.gov.get();
  std::optional<size_t> current = 0;
  Must(gov->Attach("t.p", contracts[0]));
  Must(gov->Publish());
  uint64_t since_floor = 0;
  for (int round = 0; round < 24; ++round) {
    SCOPED_TRACE(::testing::Message() << "round " << round);
    if (round > 0) {
      const int op = static_cast<int>(rng() % 4);
      const size_t pick = rng() % contracts.size();
      if (op == 0 && current) {
        ASSERT_THAT(gov->Replace("t.p", contracts[pick]), IsOk());
        current = pick;
        since_floor = mesh->time();
      } else if (op == 1) {
        if (current) {
          ASSERT_THAT(gov->Detach("t.p"), IsOk());
          current.reset();
        } else {
          ASSERT_THAT(gov->Attach("t.p", contracts[pick]), IsOk());
          current = pick;
          since_floor = mesh->time();
        }
      }
      if (rng() % 3 != 0) write();
    }
    ASSERT_THAT(mesh->Refresh().status(), IsOk());
    testing::Multiset<Row> rows;
    for (const Row& r : Must(mesh->Read("t.p"))) rows[r] += 1;
    testing::Multiset<Row> expected;
    if (current) {
      expected = testing::FromScratch(
          rows, Must(Attach(contracts[*current], testing::ProductSchema())));
    }
    testing::Multiset<Row> got;
    std::map<std::string, int64_t> failing, violations;
    for (const Row& v : Must(mesh->Read("governance.checks"))) {
      if (v[0].as_string() != "t.p") continue;
      Row out;
      for (int c = 1; c < 8; ++c) out.push_back(v[c]);
      got[out] += 1;
      EXPECT_GE(static_cast<uint64_t>(v[8].as_int64()), since_floor);
      EXPECT_LT(static_cast<uint64_t>(v[8].as_int64()), mesh->time());
    }
    EXPECT_EQ(got, expected);
    for (const auto& [v, n] : expected) {
      if (!v[4].as_bool()) failing[ValueText(v[0])] += n;
    }
    for (const Row& v : Must(mesh->Read("governance.violations"))) {
      if (v[0].as_string() == "t.p") violations[ValueText(v[1])] += 1;
    }
    EXPECT_EQ(violations, failing);
    for (const Row& t : Must(mesh->Read("governance.tiers"))) {
      if (t[0].as_string() != "t.p") continue;
      EXPECT_EQ(t[2].as_string(), current ? "curated" : "raw");
    }
  }
}

TEST(MeshGovernanceOracle, ContractsSwappedWhileRunningMatchTheirRules) {
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    CheckContractsSwappedWhileRunning(seed);
    if (::testing::Test::HasFailure()) break;
  }
}

// Every governance product, as text, after each step of a run on
// `workers` workers.
std::vector<std::map<std::string, std::vector<std::string>>> RunOn(
    int workers) {
  TempDir dir;
  const std::string flights = dir.Write(
      "flights.csv", "id,origin,delay\n1,JFK,10\n2,LAX,30\n3,JFK,20\n");
  const std::string customers = dir.Write(
      "customers.csv", "id,email,country\n1,a@x.org,NL\n2,b@y.org,DE\n");
  MeshGroup group;
  std::vector<std::map<std::string, std::vector<std::string>>> steps;
  absl::Status status = Runtime::Execute(workers, [&](Worker& worker) {
    auto mesh = Must(Mesh::Open(worker, {.group = &group}));
    auto gov = Must(MeshGovernance::Open(*mesh));
    Declare(mesh.get(), gov.get(), flights, customers);
    auto record = [&] {
      if (worker.index() != 0) return;
      std::map<std::string, std::vector<std::string>> now;
      for (const char* name : {"metrics", "checks", "violations", "tiers",
                               "classification", "access"}) {
        for (const Row& r : Must(mesh->Read(gov->ProductId(name)))) {
          now[name].push_back(RowDebugString(r));
        }
      }
      for (const Row& r : Must(mesh->Read("ops.delays"))) {
        now["ops.delays"].push_back(RowDebugString(r));
      }
      steps.push_back(std::move(now));
    };
    Must(mesh->Refresh().status());
    record();
    // Every worker edits nothing itself: worker 0 reads the files.
    if (worker.index() == 0) {
      dir.Write("flights.csv",
                "id,origin,delay\n1,JFK,10\n2,LAX,30\n4,XXX,5\n5,SFO,\n");
    }
    Must(mesh->Refresh().status());
    record();
    Must(gov->AddClearance("ana", "pii"));
    Must(gov->Revoke("analyst", "crm.*"));
    Must(mesh->Advance());
    record();
    // A contract tightened while running, then the data it checks.
    Must(gov->Replace("ops.flights", Contract(kStrictFlightsContract)));
    Must(mesh->Advance());
    record();
    if (worker.index() == 0) {
      dir.Write("flights.csv", "id,origin,delay\n1,JFK,10\n2,LAX,\n");
    }
    Must(mesh->Refresh().status());
    record();
  });
  EXPECT_THAT(status, IsOk());
  return steps;
}

TEST(MeshGovernance, SeveralWorkersAgreeWithOne) {
  const auto one = RunOn(1);
  ASSERT_EQ(one.size(), 5u);
  EXPECT_FALSE(one[1].at("violations").empty());
  EXPECT_NE(one[3].at("checks"), one[2].at("checks"));
  for (int workers : {2, 3}) {
    const auto many = RunOn(workers);
    ASSERT_EQ(many.size(), one.size());
    for (size_t step = 0; step < one.size(); ++step) {
      EXPECT_EQ(many[step], one[step])
          << "step " << step << " on " << workers << " workers";
    }
  }
}

}  // namespace
}  // namespace diffmesh
