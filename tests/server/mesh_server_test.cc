// The read API over HTTP on a loopback port, with bearer tokens.
#include "server/mesh_server.h"

#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
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

TEST(MeshServer, ServesTheApiWithTokens) {
  Demo demo;
  ASSERT_THAT(demo.mesh->Advance(), IsOk());
  auto server = Must(MeshServer::Start(
      demo.mesh->Reader(), {.port = 0, .tokens = {{"t-ana", "ana"}}}));
  ASSERT_GT(server->port(), 0);
  httplib::Client client("127.0.0.1", server->port());
  auto products = client.Get("/api/products?q=delays");
  ASSERT_TRUE(products);
  EXPECT_EQ(products->status, 200);
  EXPECT_EQ(products->get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(Json::parse(products->body)["products"][0]["id"], "ops.delays");

  auto anonymous = client.Get("/api/products/crm.emails/rows");
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 403);
  auto ana = client.Get("/api/products/crm.emails/rows",
                        {{"Authorization", "Bearer t-ana"}});
  ASSERT_TRUE(ana);
  EXPECT_EQ(ana->status, 200);
  EXPECT_EQ(Json::parse(ana->body)["rows"][0][1], "***");
  auto wrong = client.Get("/api/products/crm.emails/rows",
                          {{"Authorization", "Bearer nope"}});
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
  EXPECT_EQ(Json::parse(wrong->body)["error"]["code"], "UNAUTHENTICATED");

  auto post = client.Post("/api/products", "{}", "application/json");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 405);
  auto elsewhere = client.Get("/not/here");
  ASSERT_TRUE(elsewhere);
  EXPECT_EQ(elsewhere->status, 404);
  EXPECT_TRUE(Json::parse(elsewhere->body).contains("error"));

  auto metrics = client.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_TRUE(absl::StartsWith(metrics->get_header_value("Content-Type"),
                               "text/plain; version=0.0.4"));
  EXPECT_TRUE(absl::StrContains(metrics->body, "\ndiffmesh_sse_clients 0\n"));
  EXPECT_TRUE(absl::StrContains(
      metrics->body, "diffmesh_product_rows{product=\"ops.flights\"} 3\n"));

  // The server reads the latest snapshot: a change shows up.
  demo.dir.Write("flights.csv", "id,origin,delay\n1,XXX,10\n");
  ASSERT_THAT(demo.mesh->Refresh().status(), IsOk());
  auto violations = client.Get("/api/violations");
  ASSERT_TRUE(violations);
  EXPECT_EQ(Json::parse(violations->body)["violations"].size(), 1u);
  server->Stop();
  EXPECT_FALSE(client.Get("/api/products"));
}

TEST(MeshServer, ServesTheDashboardDirectory) {
  Demo demo;
  ASSERT_THAT(demo.mesh->Advance(), IsOk());
  EXPECT_THAT(MeshServer::Start(demo.mesh->Reader(),
                                {.port = 0, .dashboard_dir = demo.dir.path()})
                  .status(),
              StatusIs(absl::StatusCode::kNotFound));
  demo.dir.Write("index.html", "<title>mesh</title>");
  std::filesystem::create_directories(demo.dir.path() + "/node_modules/lib");
  demo.dir.Write("node_modules/lib/lib.js", "var lib = 1;");
  auto server = Must(MeshServer::Start(
      demo.mesh->Reader(), {.port = 0, .dashboard_dir = demo.dir.path()}));
  httplib::Client client("127.0.0.1", server->port());
  auto page = client.Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_EQ(page->body, "<title>mesh</title>");
  auto lib = client.Get("/vendor/lib/lib.js");
  ASSERT_TRUE(lib);
  EXPECT_EQ(lib->body, "var lib = 1;");
  // The API is still the API, and a missing file a JSON 404.
  auto products = client.Get("/api/products");
  ASSERT_TRUE(products);
  EXPECT_EQ(products->status, 200);
  auto missing = client.Get("/nothing.js");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_TRUE(Json::parse(missing->body).contains("error"));
}

TEST(MeshServer, APortInUseIsAClearError) {
  Demo demo;
  auto first = Must(MeshServer::Start(demo.mesh->Reader(), {.port = 0}));
  auto second = MeshServer::Start(demo.mesh->Reader(), {.port = first->port()});
  EXPECT_THAT(second.status(), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(MeshServer::Start(demo.mesh->Reader(), {.threads = 0}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

// The stream's events as (id, kind, data) from its text.
struct Sse {
  std::string id, kind;
  Json data;
};
std::vector<Sse> ParseSse(const std::string& text) {
  std::vector<Sse> out;
  for (absl::string_view block : absl::StrSplit(text, "\n\n")) {
    Sse e;
    for (absl::string_view line : absl::StrSplit(block, '\n')) {
      if (absl::ConsumePrefix(&line, "id: ")) e.id = std::string(line);
      if (absl::ConsumePrefix(&line, "event: ")) e.kind = std::string(line);
      if (absl::ConsumePrefix(&line, "data: ")) e.data = Json::parse(line);
    }
    if (!e.kind.empty()) out.push_back(std::move(e));
  }
  return out;
}

// Reads the stream until `done` holds for what came.
std::string Stream(int port, httplib::Headers headers,
                   std::function<bool(const std::string&)> done) {
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(10, 0);
  std::string text;
  client.Get("/api/events", headers, [&](const char* data, size_t n) {
    text.append(data, n);
    return !done(text);
  });
  return text;
}

TEST(MeshServer, EventsStreamAndResumeAfterADroppedConnection) {
  Demo demo;
  ASSERT_THAT(demo.mesh->Advance(), IsOk());
  auto server = Must(MeshServer::Start(demo.mesh->Reader(), {.port = 0}));
  const uint64_t changed_at = demo.mesh->time();
  std::string first;
  std::thread reader([&] {
    first = Stream(server->port(), {}, [](const std::string& t) {
      return absl::StrContains(t, "event: violations");
    });
  });
  // Wait for the stream to be open, then break a check.
  for (int i = 0; i < 200 && server->event_clients() == 0; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  demo.dir.Write("flights.csv", "id,origin,delay\n1,XXX,10\n");
  ASSERT_THAT(demo.mesh->Refresh().status(), IsOk());
  reader.join();
  std::vector<Sse> events = ParseSse(first);
  ASSERT_FALSE(events.empty());
  bool violation = false;
  for (const Sse& e : events) {
    EXPECT_EQ(e.data["time"], changed_at);
    violation = violation || (e.kind == "violations" &&
                              e.data["product"] == "governance.violations" &&
                              e.data["diff"] == 1);
  }
  EXPECT_TRUE(violation);
  // Dropped after the first event: a reconnect gets the rest of that time,
  // each once, ids in order.
  const std::string after = events[0].id;
  std::string rest_text = Stream(
      server->port(), {{"Last-Event-ID", after}}, [&](const std::string& t) {
        return ParseSse(t).size() + 1 >= events.size();
      });
  std::vector<Sse> rest = ParseSse(rest_text);
  ASSERT_EQ(rest.size() + 1, events.size());
  for (size_t i = 0; i < rest.size(); ++i) {
    EXPECT_EQ(rest[i].id, events[i + 1].id);
    EXPECT_EQ(rest[i].data, events[i + 1].data);
  }
  httplib::Client client("127.0.0.1", server->port());
  auto bad = client.Get("/api/events", {{"Last-Event-ID", "soon"}});
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
}

}  // namespace
}  // namespace diffmesh
