// MeshGovernance: checks, violations, tiers, classification and access of
// a live mesh, as products of the mesh, moving with its data and policy.
#include "governance/mesh_governance.h"

#include <map>
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
  });
  EXPECT_THAT(status, IsOk());
  return steps;
}

TEST(MeshGovernance, SeveralWorkersAgreeWithOne) {
  const auto one = RunOn(1);
  ASSERT_EQ(one.size(), 3u);
  EXPECT_FALSE(one[1].at("violations").empty());
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
