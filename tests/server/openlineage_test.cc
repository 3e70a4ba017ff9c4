// OpenLineage RunEvents of a governed mesh: checked against a validator
// written from the spec's definitions (RunEvent 2-0-2 and the facets'
// required fields, types, enum values and exact _schemaURLs), their
// values against the mesh, and the emitter against a local receiver.
#include "server/openlineage.h"

#include <chrono>
#include <fstream>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "nlohmann/json.hpp"
#include "tests/governance/demo_mesh.h"
#include "tests/status_matchers.h"

namespace diffmesh {
namespace {

using ::diffmesh::testing::Demo;
using ::diffmesh::testing::IsOk;
using ::diffmesh::testing::Must;
using ::diffmesh::testing::StatusIs;
using Json = nlohmann::json;

// Every way `e` breaks the spec, as "path: problem" lines (empty: valid).
std::vector<std::string> Validate(const Json& e) {
  std::vector<std::string> bad;
  auto need = [&](const Json& o, const std::string& path, const char* key,
                  bool (Json::*is)() const noexcept) {
    if (!o.is_object() || !o.contains(key)) {
      bad.push_back(path + "." + key + ": missing");
      return false;
    }
    if (!(o[key].*is)()) {
      bad.push_back(path + "." + key + ": wrong type");
      return false;
    }
    return true;
  };
  const std::regex uuid(
      "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
  const std::regex date_time(
      R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2}))");
  const std::regex uri("[a-zA-Z][a-zA-Z0-9+.-]*:.+");
  auto facet = [&](const Json& f, const std::string& path, const char* url) {
    if (need(f, path, "_producer", &Json::is_string) &&
        !std::regex_match(f["_producer"].get<std::string>(), uri)) {
      bad.push_back(path + "._producer: not a URI");
    }
    if (need(f, path, "_schemaURL", &Json::is_string) &&
        f["_schemaURL"] != url) {
      bad.push_back(path + "._schemaURL: " + f["_schemaURL"].dump());
    }
  };
  if (need(e, "", "eventType", &Json::is_string)) {
    static const std::set<std::string> kTypes = {"START", "RUNNING", "COMPLETE",
                                                 "ABORT", "FAIL",    "OTHER"};
    if (!kTypes.count(e["eventType"])) bad.push_back(".eventType: not in enum");
  }
  if (need(e, "", "eventTime", &Json::is_string) &&
      !std::regex_match(e["eventTime"].get<std::string>(), date_time)) {
    bad.push_back(".eventTime: not a date-time");
  }
  if (need(e, "", "producer", &Json::is_string) &&
      !std::regex_match(e["producer"].get<std::string>(), uri)) {
    bad.push_back(".producer: not a URI");
  }
  if (need(e, "", "schemaURL", &Json::is_string) &&
      e["schemaURL"] != kOpenLineageRunEventSchema) {
    bad.push_back(".schemaURL: " + e["schemaURL"].dump());
  }
  if (need(e, "", "run", &Json::is_object) &&
      need(e["run"], ".run", "runId", &Json::is_string) &&
      !std::regex_match(e["run"]["runId"].get<std::string>(), uuid)) {
    bad.push_back(".run.runId: not a UUID");
  }
  if (need(e, "", "job", &Json::is_object)) {
    need(e["job"], ".job", "namespace", &Json::is_string);
    need(e["job"], ".job", "name", &Json::is_string);
  }
  for (const char* side : {"inputs", "outputs"}) {
    if (!e.contains(side)) continue;
    if (!e[side].is_array()) {
      bad.push_back(std::string(".") + side + ": not an array");
      continue;
    }
    for (size_t i = 0; i < e[side].size(); ++i) {
      const Json& d = e[side][i];
      const std::string path = absl::StrCat(".", side, "[", i, "]");
      need(d, path, "namespace", &Json::is_string);
      need(d, path, "name", &Json::is_string);
      const Json facets = d.value("facets", Json::object());
      if (facets.contains("schema")) {
        const Json& f = facets["schema"];
        facet(f, path + ".facets.schema", kOpenLineageSchemaFacet);
        if (need(f, path + ".facets.schema", "fields", &Json::is_array)) {
          for (const Json& field : f["fields"]) {
            need(field, path + ".facets.schema.fields[]", "name",
                 &Json::is_string);
          }
        }
      }
      if (facets.contains("columnLineage")) {
        const Json& f = facets["columnLineage"];
        const std::string fp = path + ".facets.columnLineage";
        facet(f, fp, kOpenLineageColumnLineageFacet);
        if (need(f, fp, "fields", &Json::is_object)) {
          for (const auto& [name, field] : f["fields"].items()) {
            if (!need(field, fp + ".fields." + name, "inputFields",
                      &Json::is_array)) {
              continue;
            }
            for (const Json& in : field["inputFields"]) {
              const std::string ip = fp + ".fields." + name + ".inputFields[]";
              need(in, ip, "namespace", &Json::is_string);
              need(in, ip, "name", &Json::is_string);
              need(in, ip, "field", &Json::is_string);
              for (const Json& t : in.value("transformations", Json::array())) {
                if (need(t, ip, "type", &Json::is_string) &&
                    t["type"] != "DIRECT" && t["type"] != "INDIRECT") {
                  bad.push_back(ip + ".type: not DIRECT or INDIRECT");
                }
                if (t.contains("masking") && !t["masking"].is_boolean()) {
                  bad.push_back(ip + ".masking: not a boolean");
                }
              }
            }
          }
        }
      }
      const Json input_facets = d.value("inputFacets", Json::object());
      if (input_facets.contains("dataQualityMetrics")) {
        const Json& f = input_facets["dataQualityMetrics"];
        const std::string fp = path + ".inputFacets.dataQualityMetrics";
        facet(f, fp, kOpenLineageQualityMetricsFacet);
        if (f.contains("rowCount") && !f["rowCount"].is_number_integer()) {
          bad.push_back(fp + ".rowCount: not an integer");
        }
        if (need(f, fp, "columnMetrics", &Json::is_object)) {
          for (const auto& [name, c] : f["columnMetrics"].items()) {
            for (const char* k : {"nullCount", "distinctCount"}) {
              if (c.contains(k) && !c[k].is_number_integer()) {
                bad.push_back(fp + "." + name + "." + k + ": not an integer");
              }
            }
            for (const char* k : {"sum", "count", "min", "max"}) {
              if (c.contains(k) && !c[k].is_number()) {
                bad.push_back(fp + "." + name + "." + k + ": not a number");
              }
            }
          }
        }
      }
      if (input_facets.contains("dataQualityAssertions")) {
        const Json& f = input_facets["dataQualityAssertions"];
        const std::string fp = path + ".inputFacets.dataQualityAssertions";
        facet(f, fp, kOpenLineageQualityAssertionsFacet);
        if (need(f, fp, "assertions", &Json::is_array)) {
          for (const Json& a : f["assertions"]) {
            need(a, fp + ".assertions[]", "assertion", &Json::is_string);
            need(a, fp + ".assertions[]", "success", &Json::is_boolean);
          }
        }
      }
    }
  }
  return bad;
}

Json Only(const MeshSnapshot& s, const std::string& id) {
  std::vector<std::string> events = Must(RunEventsFor(s, id, 0));
  EXPECT_EQ(events.size(), 1u) << id;
  return events.empty() ? Json() : Json::parse(events[0]);
}

TEST(OpenLineage, EventsFollowTheSpecAndTheMesh) {
  Demo demo;
  ASSERT_THAT(demo.mesh->Advance(), IsOk());
  std::shared_ptr<const MeshSnapshot> s = demo.mesh->Snapshot();
  const Json delays = Only(*s, "ops.delays");
  EXPECT_THAT(Validate(delays), ::testing::IsEmpty()) << delays.dump(1);
  EXPECT_EQ(delays["eventType"], "COMPLETE");
  EXPECT_EQ(delays["job"]["name"], "ops.delays");
  ASSERT_EQ(delays["outputs"].size(), 1u);
  const Json& out = delays["outputs"][0];
  EXPECT_EQ(out["name"], "ops.delays");
  EXPECT_EQ(out["facets"]["schema"]["fields"][0]["name"], "origin");
  const Json& mean = out["facets"]["columnLineage"]["fields"]["mean_delay"];
  ASSERT_FALSE(mean.is_null()) << out.dump(1);
  bool aggregate_of_delay = false;
  for (const Json& in : mean["inputFields"]) {
    if (in["name"] == "ops.flights" && in["field"] == "delay") {
      aggregate_of_delay = in["transformations"][0]["type"] == "DIRECT" &&
                           in["transformations"][0]["subtype"] == "AGGREGATION";
    }
  }
  EXPECT_TRUE(aggregate_of_delay) << mean.dump(1);
  // The input: the profiled, checked flights.
  const Json* flights = nullptr;
  for (const Json& in : delays["inputs"]) {
    if (in["name"] == "ops.flights") flights = &in;
  }
  ASSERT_NE(flights, nullptr) << delays["inputs"].dump(1);
  const Json& metrics = (*flights)["inputFacets"]["dataQualityMetrics"];
  EXPECT_EQ(metrics["rowCount"], 3);
  EXPECT_EQ(metrics["columnMetrics"]["delay"]["nullCount"], 0);
  EXPECT_EQ(metrics["columnMetrics"]["delay"]["count"], 3);
  EXPECT_EQ(metrics["columnMetrics"]["delay"]["max"], 30.0);
  const Json& checks = (*flights)["inputFacets"]["dataQualityAssertions"];
  ASSERT_EQ(checks["assertions"].size(), 1u);
  EXPECT_EQ(checks["assertions"][0]["assertion"], "delay_known");
  EXPECT_EQ(checks["assertions"][0]["success"], true);
  EXPECT_EQ(checks["assertions"][0]["column"], "delay");

  // Masking: the masked email says so.
  const Json contacts = Only(*s, "crm.contacts");
  EXPECT_THAT(Validate(contacts), ::testing::IsEmpty());
  const Json& email =
      contacts["outputs"][0]["facets"]["columnLineage"]["fields"]["email"];
  EXPECT_EQ(email["inputFields"][0]["transformations"][0]["masking"], true);

  // The same version: the same run id; the next one: another.
  EXPECT_EQ(Only(*s, "ops.delays")["run"]["runId"], delays["run"]["runId"]);
  demo.dir.Write("flights.csv", "id,origin,delay\n1,JFK,10\n2,LAX,35\n");
  ASSERT_THAT(demo.mesh->Refresh().status(), IsOk());
  s = demo.mesh->Snapshot();
  std::vector<std::string> later = Must(RunEventsFor(*s, "ops.delays", 1));
  ASSERT_EQ(later.size(), 1u);
  EXPECT_NE(Json::parse(later[0])["run"]["runId"], delays["run"]["runId"]);
  EXPECT_EQ(Must(RunEventsFor(*s, "ops.delays", 2)).size(), 0u);
  EXPECT_THAT(RunEventsFor(*s, "no.such", 0).status(),
              StatusIs(absl::StatusCode::kNotFound));
  // The validator is not a rubber stamp.
  Json broken = delays;
  broken["outputs"][0]["facets"]["schema"]["_schemaURL"] = "x";
  broken["run"]["runId"] = "nope";
  EXPECT_EQ(Validate(broken).size(), 2u);
}

TEST(OpenLineage, TheEmitterWritesAndPostsEveryVersion) {
  // A local receiver.
  httplib::Server receiver;
  std::mutex mu;
  std::vector<std::string> received;
  receiver.Post("/api/v1/lineage",
                [&](const httplib::Request& req, httplib::Response& res) {
                  std::lock_guard<std::mutex> lock(mu);
                  received.push_back(req.body);
                  res.status = 201;
                });
  const int port = receiver.bind_to_any_port("127.0.0.1");
  std::thread serving([&] { receiver.listen_after_bind(); });
  while (!receiver.is_running()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }

  Demo demo;
  const std::string file = demo.dir.path() + "/openlineage.jsonl";
  EXPECT_THAT(
      OpenLineageEmitter::Start(demo.mesh->Reader(), {.url = "ftp://x/y"})
          .status(),
      StatusIs(absl::StatusCode::kInvalidArgument));
  auto emitter = Must(OpenLineageEmitter::Start(
      demo.mesh->Reader(),
      {.file = file,
       .url = absl::StrCat("http://127.0.0.1:", port, "/api/v1/lineage")}));
  ASSERT_THAT(demo.mesh->Advance(), IsOk());
  demo.dir.Write("flights.csv", "id,origin,delay\n1,JFK,10\n");
  ASSERT_THAT(demo.mesh->Refresh().status(), IsOk());
  emitter->Stop();
  // One event per data version of every product.
  std::shared_ptr<const MeshSnapshot> s = demo.mesh->Snapshot();
  size_t versions = 0;
  for (const ProductDescriptor& d : s->Catalog()) {
    versions += s->DataVersions(d.id).size();
  }
  std::ifstream in(file);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  EXPECT_EQ(lines.size(), versions);
  EXPECT_EQ(emitter->stats().events, static_cast<int64_t>(versions));
  EXPECT_EQ(emitter->stats().post_errors, 0) << emitter->stats().last_error;
  receiver.stop();
  serving.join();
  EXPECT_EQ(received, lines);
  std::set<std::string> runs;
  for (const std::string& line : lines) {
    const Json e = Json::parse(line);
    EXPECT_THAT(Validate(e), ::testing::IsEmpty()) << line;
    runs.insert(e["run"]["runId"]);
  }
  EXPECT_EQ(runs.size(), lines.size()) << "run ids repeat";
}

}  // namespace
}  // namespace diffmesh
