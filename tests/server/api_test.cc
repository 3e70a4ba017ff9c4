// The read API answered from a governed mesh's snapshot.
#include "server/api.h"

#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/governance/demo_mesh.h"
#include "tests/status_matchers.h"

namespace diffmesh {
namespace {

using ::diffmesh::testing::Demo;
using ::diffmesh::testing::IsOk;
using ::testing::HasSubstr;
using Json = nlohmann::json;

struct Answer {
  int status;
  Json body;
};

Answer Get(const MeshSnapshot& s, const std::string& path,
           std::map<std::string, std::string> params = {},
           const std::string& principal = "") {
  ApiResponse r = HandleApi(
      s, {.path = path, .params = std::move(params), .principal = principal});
  return {r.status, Json::parse(r.body)};
}

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_THAT(demo.mesh->Advance(), IsOk()); }
  std::shared_ptr<const MeshSnapshot> Snapshot() {
    return demo.mesh->Snapshot();
  }
  Demo demo;
};

TEST_F(ApiTest, ProductsAndSearch) {
  Answer all = Get(*Snapshot(), "/api/products");
  ASSERT_EQ(all.status, 200);
  std::vector<std::string> ids;
  for (const Json& p : all.body["products"]) ids.push_back(p["id"]);
  EXPECT_THAT(ids, ::testing::Contains("ops.delays"));
  EXPECT_THAT(ids, ::testing::Contains("governance.tiers"));
  Answer found = Get(*Snapshot(), "/api/products", {{"q", "delays"}});
  ASSERT_EQ(found.body["products"].size(), 1u);
  const Json& delays = found.body["products"][0];
  EXPECT_EQ(delays["id"], "ops.delays");
  EXPECT_EQ(delays["tier"]["declared"], "authoritative");
  EXPECT_EQ(delays["tier"]["held"], "authoritative");
}

TEST_F(ApiTest, AProductWithTierSchemaVersionsAndChecks) {
  Answer a = Get(*Snapshot(), "/api/products/ops.delays");
  ASSERT_EQ(a.status, 200);
  EXPECT_EQ(a.body["owner"], "ops-team");
  EXPECT_EQ(a.body["upstream"], Json::array({"ops.flights"}));
  EXPECT_EQ(a.body["schema"][0]["name"], "origin");
  EXPECT_EQ(a.body["versions"].size(), 1u);
  ASSERT_EQ(a.body["checks"].size(), 1u);
  EXPECT_EQ(a.body["checks"][0]["check"], "known_airport");
  EXPECT_EQ(a.body["checks"][0]["passed"], true);
  EXPECT_EQ(a.body["contract"],
            Json({{"contract", "delays"}, {"version", "1.0.0"}}));
  EXPECT_TRUE(Get(*Snapshot(), "/api/products/crm.customers")
                  .body["contract"]
                  .is_null());
  // A failing check: the tier says why.
  demo.dir.Write("flights.csv", "id,origin,delay\n1,XXX,10\n");
  ASSERT_THAT(demo.mesh->Refresh().status(), IsOk());
  a = Get(*Snapshot(), "/api/products/ops.delays");
  EXPECT_EQ(a.body["tier"]["held"], "curated");
  EXPECT_EQ(a.body["tier"]["reason"], "error check known_airport fails");
  Answer v = Get(*Snapshot(), "/api/violations");
  ASSERT_EQ(v.status, 200);
  ASSERT_EQ(v.body["violations"].size(), 1u);
  EXPECT_EQ(v.body["violations"][0]["product"], "ops.delays");
  EXPECT_EQ(v.body["violations"][0]["observed"], 1.0);
}

// "name{labels}" -> value, from the Prometheus text; each family's HELP
// and TYPE come before its samples.
std::map<std::string, std::string> Samples(const std::string& text) {
  std::map<std::string, std::string> out;
  std::set<std::string> typed;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    if (absl::StartsWith(line, "# TYPE ")) {
      std::vector<std::string> f = absl::StrSplit(line, ' ');
      typed.insert(f[2]);
      continue;
    }
    if (absl::StartsWith(line, "#")) continue;
    const size_t space = line.rfind(' ');
    const std::string name(line.substr(0, space));
    std::string family = name.substr(0, name.find('{'));
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      if (absl::EndsWith(family, suffix) && !typed.count(family)) {
        family = family.substr(0, family.size() - strlen(suffix));
      }
    }
    EXPECT_TRUE(typed.count(family)) << "no TYPE before " << line;
    out[name] = std::string(line.substr(space + 1));
  }
  return out;
}

TEST_F(ApiTest, MetricsTellRowsViolationsSourcesAndRounds) {
  auto m = Samples(MetricsText(*Snapshot(), {.event_clients = 3}));
  EXPECT_EQ(m["diffmesh_mesh_time"], absl::StrCat(Snapshot()->time()));
  EXPECT_EQ(m["diffmesh_products"], absl::StrCat(Snapshot()->Catalog().size()));
  EXPECT_EQ(m["diffmesh_product_rows{product=\"ops.flights\"}"], "3");
  EXPECT_EQ(m["diffmesh_product_rows{product=\"ops.delays\"}"], "2");
  EXPECT_EQ(m["diffmesh_violations_open{severity=\"error\"}"], "0");
  EXPECT_EQ(m["diffmesh_source_up{source=\"ops.flights\"}"], "1");
  EXPECT_EQ(m["diffmesh_sse_clients"], "3");
  // One round per Advance so far; every round falls in some bucket.
  EXPECT_EQ(m["diffmesh_round_duration_seconds_count"], "1");
  EXPECT_EQ(m["diffmesh_round_duration_seconds_bucket{le=\"+Inf\"}"], "1");

  // A check fails: it is counted by product and severity.
  demo.dir.Write("flights.csv", "id,origin,delay\n1,XXX,10\n");
  ASSERT_THAT(demo.mesh->Refresh().status(), IsOk());
  m = Samples(MetricsText(*Snapshot(), {}));
  EXPECT_EQ(m["diffmesh_product_rows{product=\"ops.flights\"}"], "1");
  EXPECT_EQ(m["diffmesh_violations_open{severity=\"error\"}"], "1");
  EXPECT_EQ(
      m["diffmesh_check_failures{product=\"ops.delays\",severity=\"error\"}"],
      "1");
  EXPECT_EQ(m["diffmesh_round_duration_seconds_count"], "2");

  // The file vanishes: the source is down, keeps its rows, says why.
  std::filesystem::remove(demo.flights_file);
  ASSERT_THAT(demo.mesh->Refresh().status(), IsOk());
  m = Samples(MetricsText(*Snapshot(), {}));
  EXPECT_EQ(m["diffmesh_source_up{source=\"ops.flights\"}"], "0");
  EXPECT_EQ(m["diffmesh_source_failed_polls{source=\"ops.flights\"}"], "1");
  EXPECT_EQ(m["diffmesh_product_rows{product=\"ops.flights\"}"], "1");
  Answer a = Get(*Snapshot(), "/api/products/ops.flights");
  EXPECT_EQ(a.body["source"]["state"], "failing");
  EXPECT_EQ(a.body["source"]["failed_polls"], 1);
  EXPECT_EQ(a.body["source"]["error"]["code"], "NOT_FOUND");
  EXPECT_TRUE(
      Get(*Snapshot(), "/api/products/ops.delays").body["source"].is_null());
  demo.dir.Write("flights.csv", "id,origin,delay\n1,JFK,10\n");
  ASSERT_THAT(demo.mesh->Refresh().status(), IsOk());
  m = Samples(MetricsText(*Snapshot(), {}));
  EXPECT_EQ(m["diffmesh_source_up{source=\"ops.flights\"}"], "1");
  EXPECT_EQ(m["diffmesh_violations_open{severity=\"error\"}"], "0");
  EXPECT_EQ(
      Get(*Snapshot(), "/api/products/ops.flights").body["source"]["state"],
      "ok");
}

TEST_F(ApiTest, RowsFollowThePrincipalsAccess) {
  Answer ana = Get(*Snapshot(), "/api/products/crm.emails/rows", {}, "ana");
  ASSERT_EQ(ana.status, 200);
  EXPECT_EQ(ana.body["columns"], Json::array({"id", "email"}));
  EXPECT_EQ(ana.body["rows"][0], Json::array({1, "***"}));
  Answer bob = Get(*Snapshot(), "/api/products/crm.emails/rows",
                   {{"limit", "1"}}, "bob");
  EXPECT_EQ(bob.body["rows"], Json::array({Json::array({1, "a@x.org"})}));
  EXPECT_EQ(bob.body["total"], 2);
  EXPECT_EQ(bob.body["truncated"], true);
  Answer anonymous = Get(*Snapshot(), "/api/products/crm.emails/rows");
  EXPECT_EQ(anonymous.status, 403);
  EXPECT_EQ(anonymous.body["error"]["code"], "PERMISSION_DENIED");
  Answer old = Get(*Snapshot(), "/api/products/crm.emails/rows",
                   {{"as_of", "1"}}, "bob");
  EXPECT_EQ(old.status, 200);
  EXPECT_EQ(
      Get(*Snapshot(), "/api/products/crm.emails/rows", {{"as_of", "9"}}, "bob")
          .status,
      404);
}

TEST_F(ApiTest, LineageIsAMarquezShapedGraph) {
  Answer up = Get(*Snapshot(), "/api/lineage",
                  {{"node", "ops.delays"}, {"direction", "upstream"}});
  ASSERT_EQ(up.status, 200);
  std::map<std::string, Json> nodes;
  for (const Json& n : up.body["graph"]) nodes[n["id"]] = n;
  ASSERT_TRUE(nodes.count("dataset:ops.flights"));
  ASSERT_TRUE(nodes.count("dataset:ops.delays"));
  EXPECT_FALSE(nodes.count("dataset:crm.emails"));
  EXPECT_EQ(nodes["dataset:ops.delays"]["type"], "DATASET");
  EXPECT_EQ(nodes["dataset:ops.delays"]["inEdges"][0]["origin"],
            "dataset:ops.flights");
  EXPECT_EQ(nodes["dataset:ops.flights"]["outEdges"][0]["destination"],
            "dataset:ops.delays");
  // A column, downstream: the email goes to the copy and (masked) to the
  // contacts, one step.
  Answer column = Get(*Snapshot(), "/api/lineage",
                      {{"node", "crm.customers.email"},
                       {"direction", "downstream"},
                       {"depth", "1"}});
  ASSERT_EQ(column.status, 200);
  std::map<std::string, Json> fields;
  for (const Json& n : column.body["graph"]) fields[n["id"]] = n;
  EXPECT_TRUE(fields.count("datasetField:crm.emails:email"));
  ASSERT_TRUE(fields.count("datasetField:crm.contacts:email"));
  EXPECT_EQ(
      fields["datasetField:crm.contacts:email"]["inEdges"][0]["transformation"],
      "masking");
}

TEST_F(ApiTest, BadRequestsGetClearErrors) {
  auto status_of = [&](const std::string& path,
                       std::map<std::string, std::string> params = {}) {
    return Get(*Snapshot(), path, std::move(params)).status;
  };
  EXPECT_EQ(status_of("/api/products/no.such"), 404);
  EXPECT_EQ(status_of("/api/nothing"), 404);
  EXPECT_EQ(status_of("/elsewhere"), 404);
  EXPECT_EQ(status_of("/api/products/crm.emails/rows", {{"limit", "-1"}}), 400);
  EXPECT_EQ(status_of("/api/products/crm.emails/rows", {{"limit", "ten"}}),
            400);
  EXPECT_EQ(status_of("/api/lineage"), 400);
  EXPECT_EQ(status_of("/api/lineage",
                      {{"node", "ops.delays"}, {"direction", "sideways"}}),
            400);
  EXPECT_EQ(status_of("/api/lineage", {{"node", "ops.delays.nope"}}), 404);
  Answer limit =
      Get(*Snapshot(), "/api/products/crm.emails/rows", {{"limit", "ten"}});
  EXPECT_THAT(limit.body["error"]["message"].get<std::string>(),
              HasSubstr("limit"));
  ApiResponse post =
      HandleApi(*Snapshot(), {.method = "POST", .path = "/api/products"});
  EXPECT_EQ(post.status, 405);
  // Before the first closed time.
  EXPECT_EQ(Get(MeshSnapshot(MeshSnapshot::Parts{}), "/api/products").status,
            409);
}

}  // namespace
}  // namespace diffmesh
