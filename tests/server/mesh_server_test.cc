// The read API over HTTP on a loopback port, with bearer tokens.
#include "server/mesh_server.h"

#include <string>

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

  // The server reads the latest snapshot: a change shows up.
  demo.dir.Write("flights.csv", "id,origin,delay\n1,XXX,10\n");
  ASSERT_THAT(demo.mesh->Refresh().status(), IsOk());
  auto violations = client.Get("/api/violations");
  ASSERT_TRUE(violations);
  EXPECT_EQ(Json::parse(violations->body)["violations"].size(), 1u);
  server->Stop();
  EXPECT_FALSE(client.Get("/api/products"));
}

TEST(MeshServer, APortInUseIsAClearError) {
  Demo demo;
  auto first = Must(MeshServer::Start(demo.mesh->Reader(), {.port = 0}));
  auto second =
      MeshServer::Start(demo.mesh->Reader(), {.port = first->port()});
  EXPECT_THAT(second.status(), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(MeshServer::Start(demo.mesh->Reader(), {.threads = 0}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace diffmesh
