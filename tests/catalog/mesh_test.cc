// Mesh: sources from files with exact diffs and quarantine, publishing with
// version rules, the catalog and its search, lineage and its closure
// (against a from-scratch walk while products are retired and published at
// random), data versions read "as of".
#include "catalog/mesh.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <queue>
#include <random>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "engine/check.h"
#include "engine/graph.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/status_matchers.h"
#include "tests/temp_dir.h"

namespace diffmesh {
namespace {

using ::diffmesh::testing::IsOk;
using ::diffmesh::testing::StatusIs;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

using ::diffmesh::testing::TempDir;

template <class T>
T Must(absl::StatusOr<T> v) {
  DM_CHECK_MSG(v.ok(), v.status().ToString().c_str());
  return *std::move(v);
}

ProductDescriptor Describe(const std::string& id, Tier tier = Tier::kRaw,
                           std::string description = "") {
  ProductDescriptor d;
  d.id = id;
  d.owner = "team-" + id.substr(0, id.find('.'));
  d.tier = tier;
  d.description = std::move(description);
  return d;
}

Row R(int64_t id, const std::string& region, int64_t amount) {
  return {Value(id), Value(region), Value(amount)};
}

const char kOrders[] =
    "id,region,amount\n"
    "1,north,10\n"
    "2,south,250\n"
    "3,north,300\n"
    "4,east,5\n";

struct Retail {
  TempDir dir;
  Worker worker;
  std::unique_ptr<Mesh> mesh;
  std::string orders_file;
  Table orders, filtered, big, by_region, narrower;

  explicit Retail(MeshOptions options = {}) {
    orders_file = dir.Write("orders.csv", kOrders);
    mesh = Must(Mesh::Open(worker, options));
    orders = Must(mesh->Source(
        Describe("sales.orders", Tier::kRaw, "Orders as exported by the shop"),
        {.path = orders_file}));
    filtered = Must(orders.Filter(
        {"amount"}, [](const Row& in) { return in[0].as_int64() >= 100; }));
    big = Must(
        mesh->Publish(filtered, Describe("sales.big_orders", Tier::kCurated,
                                         "Orders of at least 100")));
    Table grouped =
        Must(orders.GroupBy({"region"})
                 .Aggregate({Count("orders"), Sum("amount", "revenue")}));
    by_region = Must(
        mesh->Publish(grouped, Describe("finance.revenue", Tier::kAuthoritative,
                                        "Revenue per region")));
    narrower = Must(orders.Select({"id", "amount"}));  // never published
  }
};

TEST(Mesh, SourcePublishReadAndCatalog) {
  Retail r;
  ASSERT_THAT(r.mesh->Advance(), IsOk());
  EXPECT_THAT(Must(r.mesh->Read("sales.big_orders")),
              ElementsAre(R(2, "south", 250), R(3, "north", 300)));
  EXPECT_THAT(
      Must(r.mesh->Read("finance.revenue")),
      ElementsAre(Row{Value("east"), Value(int64_t{1}), Value(int64_t{5})},
                  Row{Value("north"), Value(int64_t{2}), Value(int64_t{310})},
                  Row{Value("south"), Value(int64_t{1}), Value(int64_t{250})}));
  std::vector<ProductDescriptor> catalog = r.mesh->Catalog();
  ASSERT_EQ(catalog.size(), 3u);
  EXPECT_EQ(catalog[0].id, "finance.revenue");
  EXPECT_THAT(catalog[0].upstream, ElementsAre("sales.orders"));
  EXPECT_EQ(catalog[0].schema.fields()[2].name, "revenue");
  EXPECT_EQ(catalog[2].id, "sales.orders");
  EXPECT_EQ(catalog[2].schema.fields()[0].type, ValueType::kInt64);
  EXPECT_TRUE(catalog[2].upstream.empty());

  // Search: ids, words of descriptions, column names; every word must match.
  EXPECT_THAT(r.mesh->Search("revenue"), ElementsAre("finance.revenue"));
  EXPECT_THAT(
      r.mesh->Search("ORDERS"),
      ElementsAre("finance.revenue", "sales.big_orders", "sales.orders"));
  EXPECT_THAT(r.mesh->Search("orders exported"), ElementsAre("sales.orders"));
  EXPECT_THAT(r.mesh->Search("sales reg"),
              ElementsAre("sales.big_orders", "sales.orders"));
  EXPECT_THAT(r.mesh->Search("nothing-like-this"), IsEmpty());
}

TEST(Mesh, LineageIsRecordedAutomatically) {
  Retail r;
  ASSERT_THAT(r.mesh->Advance(), IsOk());
  std::vector<std::string> edges;
  for (const LineageEdge& e : r.mesh->Lineage()) edges.push_back(e.ToString());
  EXPECT_THAT(
      edges, UnorderedElementsAre(
                 "sales.orders -> sales.big_orders (direct)",
                 "sales.orders.id -> sales.big_orders.id (direct)",
                 "sales.orders.region -> sales.big_orders.region (direct)",
                 "sales.orders.amount -> sales.big_orders.amount (direct)",
                 "sales.orders.amount -> sales.big_orders.id (filter)",
                 "sales.orders.amount -> sales.big_orders.region (filter)",
                 "sales.orders.amount -> sales.big_orders.amount (filter)",
                 "sales.orders -> finance.revenue (direct)",
                 "sales.orders.region -> finance.revenue.region (direct)",
                 "sales.orders.region -> finance.revenue.orders (aggregate)",
                 "sales.orders.amount -> finance.revenue.revenue (aggregate)"));
  EXPECT_THAT(r.mesh->Downstream({"sales.orders", "amount"}),
              ElementsAre(ColumnRef{"finance.revenue", "revenue"},
                          ColumnRef{"sales.big_orders", "amount"},
                          ColumnRef{"sales.big_orders", "id"},
                          ColumnRef{"sales.big_orders", "region"}));
  EXPECT_THAT(r.mesh->Upstream({"finance.revenue", "orders"}),
              ElementsAre(ColumnRef{"sales.orders", "region"}));
  EXPECT_THAT(r.mesh->Downstream({"sales.orders", ""}),
              ElementsAre(ColumnRef{"finance.revenue", ""},
                          ColumnRef{"sales.big_orders", ""}));
}

TEST(Mesh, EditedFileGivesTheExactDiff) {
  Retail r;
  ASSERT_THAT(r.mesh->Advance(), IsOk());
  r.mesh->TakeChanges();
  // Row 2 changes amount, row 4 leaves, row 5 arrives; rows 1, 3 stay.
  r.dir.Write("orders.csv",
              "id,region,amount\n"
              "1,north,10\n"
              "2,south,90\n"
              "3,north,300\n"
              "5,west,700\n");
  RefreshReport report = Must(r.mesh->Refresh());
  EXPECT_EQ(report.rows_inserted, 2);
  EXPECT_EQ(report.rows_retracted, 2);
  EXPECT_THAT(report.files_changed, ElementsAre(r.orders_file));
  std::vector<std::string> product_changes;
  for (const MeshChange& c : r.mesh->TakeChanges()) {
    if (c.stream.rfind("product ", 0) == 0) {
      product_changes.push_back(c.stream + " " + std::to_string(c.diff) + " " +
                                c.text);
    }
  }
  EXPECT_THAT(product_changes,
              ElementsAre("product finance.revenue -1 (\"east\", 1, 5)",
                          "product finance.revenue -1 (\"south\", 1, 250)",
                          "product finance.revenue 1 (\"south\", 1, 90)",
                          "product finance.revenue 1 (\"west\", 1, 700)",
                          "product sales.big_orders -1 (2, \"south\", 250)",
                          "product sales.big_orders 1 (5, \"west\", 700)",
                          "product sales.orders -1 (2, \"south\", 250)",
                          "product sales.orders -1 (4, \"east\", 5)",
                          "product sales.orders 1 (2, \"south\", 90)",
                          "product sales.orders 1 (5, \"west\", 700)"));
  // An unchanged file gives no change at all.
  report = Must(r.mesh->Refresh());
  EXPECT_EQ(report.rows_inserted + report.rows_retracted, 0);
  EXPECT_THAT(r.mesh->TakeChanges(), IsEmpty());
}

// The "source <id>" changes of a change feed, as "diff text".
std::vector<std::string> SourceChanges(Mesh& mesh, const std::string& id) {
  std::vector<std::string> out;
  for (const MeshChange& c : mesh.TakeChanges()) {
    if (c.stream == "source " + id) {
      out.push_back(absl::StrCat(c.diff, " ", c.text));
    }
  }
  return out;
}

// Rows of every product of a mesh, by id.
std::map<std::string, std::vector<Row>> AllRows(const Mesh& mesh) {
  std::map<std::string, std::vector<Row>> all;
  for (const ProductDescriptor& d : mesh.Catalog()) {
    all[d.id] = Must(mesh.Read(d.id));
  }
  return all;
}

// A source whose file vanishes or cannot be read keeps its last rows while
// the other sources go on; its status and the change feed say why; it
// recovers when its file reads again, and the mesh then equals one built
// from scratch on the same files.
TEST(Mesh, AFailingSourceKeepsItsRowsAndTheOthersGoOn) {
  TempDir dir;
  const std::string orders = dir.Write("orders.csv", kOrders);
  const std::string regions =
      dir.Write("regions.csv", "region,manager\nnorth,ada\nsouth,bob\n");
  auto declare = [&](Mesh* mesh) {
    Table o = Must(mesh->Source(Describe("sales.orders"), {.path = orders}));
    Table r = Must(mesh->Source(Describe("org.regions"), {.path = regions}));
    Must(mesh->Publish(Must(o.Join(r, {"region"})),
                       Describe("sales.managed", Tier::kCurated)));
  };
  Worker worker;
  auto mesh = Must(Mesh::Open(worker, {}));
  declare(mesh.get());
  ASSERT_THAT(mesh->Advance(), IsOk());
  const std::vector<Row> regions_before = Must(mesh->Read("org.regions"));
  ASSERT_EQ(regions_before.size(), 2u);
  EXPECT_TRUE(Must(mesh->SourceStatusOf("org.regions")).status.ok());
  mesh->TakeChanges();

  // The regions file vanishes; an order changes.
  std::filesystem::remove(regions);
  dir.Write("orders.csv", "id,region,amount\n1,north,11\n2,south,250\n");
  const uint64_t failed_at = mesh->time();
  RefreshReport report = Must(mesh->Refresh());
  ASSERT_EQ(report.failing_sources.size(), 1u);
  const SourceStatus& failing = report.failing_sources[0];
  EXPECT_EQ(failing.id, "org.regions");
  EXPECT_THAT(failing.status, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(std::string(failing.status.message()), HasSubstr(regions));
  EXPECT_EQ(failing.since, failed_at);
  EXPECT_EQ(failing.failed_polls, 1);
  EXPECT_EQ(Must(mesh->Read("org.regions")), regions_before);
  EXPECT_THAT(Must(mesh->Read("sales.orders")),
              ElementsAre(R(1, "north", 11), R(2, "south", 250)));
  EXPECT_EQ(Must(mesh->Read("sales.managed")).size(), 2u);
  EXPECT_THAT(SourceChanges(*mesh, "org.regions"),
              ElementsAre("-1 ok", HasSubstr("1 failing: NOT_FOUND: source "
                                             "org.regions: ")));
  EXPECT_TRUE(Must(mesh->SourceStatusOf("sales.orders")).status.ok());

  // Still gone: the same status, one more failed poll, no change.
  report = Must(mesh->Refresh());
  EXPECT_EQ(report.failing_sources.size(), 1u);
  SourceStatus status = Must(mesh->SourceStatusOf("org.regions"));
  EXPECT_EQ(status.failed_polls, 2);
  EXPECT_EQ(status.since, failed_at);
  EXPECT_THAT(SourceChanges(*mesh, "org.regions"), IsEmpty());

  // A directory where the file was: another error, another change.
  std::filesystem::create_directory(regions);
  report = Must(mesh->Refresh());
  ASSERT_EQ(report.failing_sources.size(), 1u);
  EXPECT_NE(report.failing_sources[0].status.code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(Must(mesh->Read("org.regions")), regions_before);
  EXPECT_THAT(SourceChanges(*mesh, "org.regions"), ::testing::SizeIs(2));

  // The file is back, changed: the source recovers with the exact diff.
  std::filesystem::remove(regions);
  dir.Write("regions.csv", "region,manager\nnorth,cy\nsouth,bob\n");
  const uint64_t recovered_at = mesh->time();
  report = Must(mesh->Refresh());
  EXPECT_THAT(report.failing_sources, IsEmpty());
  EXPECT_EQ(report.rows_inserted, 1);
  EXPECT_EQ(report.rows_retracted, 1);
  status = Must(mesh->SourceStatusOf("org.regions"));
  EXPECT_TRUE(status.status.ok());
  EXPECT_EQ(status.since, recovered_at);
  EXPECT_EQ(status.failed_polls, 0);
  EXPECT_THAT(SourceChanges(*mesh, "org.regions"),
              ElementsAre(HasSubstr("-1 failing: "), "1 ok"));

  Worker fresh_worker;
  auto fresh = Must(Mesh::Open(fresh_worker, {}));
  declare(fresh.get());
  ASSERT_THAT(fresh->Advance(), IsOk());
  EXPECT_EQ(AllRows(*mesh), AllRows(*fresh));
  EXPECT_THAT(mesh->SourceStatusOf("sales.managed"),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(mesh->SourceStatuses().size(), 2u);
}

// A file truncated past the shrink guard keeps the product's rows until
// the source is told to take it as it is.
TEST(Mesh, AShrunkFileIsHeldUntilAccepted) {
  TempDir dir;
  std::string text = "id,region,amount\n";
  for (int i = 0; i < 40; ++i) absl::StrAppend(&text, i, ",north,", i, "\n");
  const std::string file = dir.Write("orders.csv", text);
  Worker worker;
  auto mesh = Must(Mesh::Open(worker, {}));
  Must(mesh->Source(Describe("sales.orders"),
                    {.path = file, .shrink_guard_bytes = 100}));
  ASSERT_THAT(mesh->Advance(), IsOk());
  ASSERT_EQ(Must(mesh->Read("sales.orders")).size(), 40u);
  dir.Write("orders.csv", "id,region,amount\n1,north,1\n");
  Must(mesh->Refresh());
  EXPECT_EQ(Must(mesh->Read("sales.orders")).size(), 40u);
  EXPECT_EQ(mesh->QuarantineCount("sales.orders"), 1);
  EXPECT_THAT(mesh->AcceptSourceFiles("nothing.here"),
              StatusIs(absl::StatusCode::kNotFound));
  ASSERT_THAT(mesh->AcceptSourceFiles("sales.orders"), IsOk());
  RefreshReport report = Must(mesh->Refresh());
  EXPECT_EQ(report.rows_retracted, 39);
  EXPECT_THAT(Must(mesh->Read("sales.orders")), ElementsAre(R(1, "north", 1)));
  EXPECT_EQ(mesh->QuarantineCount("sales.orders"), 0);
}

TEST(Mesh, BadRowsAreQuarantinedWithLinesAndLeaveWhenFixed) {
  TempDir dir;
  std::string file = dir.Write("customers.csv",
                               "id,email\n"
                               "1,ada@example.org\n"
                               "x,bob@example.org\n"
                               "3,\"unterminated\n");
  Worker worker;
  auto mesh = Must(Mesh::Open(worker, {}));
  Schema schema(
      {{"id", ValueType::kInt64, false}, {"email", ValueType::kString}});
  ProductDescriptor d = Describe("crm.customers");
  d.schema = schema;
  Must(mesh->Source(d, {.path = file}));
  ASSERT_THAT(mesh->Advance(), IsOk());
  EXPECT_THAT(Must(mesh->Read("crm.customers")),
              ElementsAre(Row{Value(int64_t{1}), Value("ada@example.org")}));
  std::vector<Row> q = mesh->Quarantine("crm.customers");
  ASSERT_EQ(mesh->QuarantineCount("crm.customers"), 2);
  EXPECT_EQ(q[0][0], Value(file));
  EXPECT_EQ(q[0][1], Value(int64_t{3}));
  EXPECT_THAT(q[0][2].as_string(), HasSubstr("'id'"));
  EXPECT_EQ(q[1][1], Value(int64_t{4}));
  // Fix line 3; the quarantine loses it, the product gains the row.
  dir.Write("customers.csv",
            "id,email\n"
            "1,ada@example.org\n"
            "2,bob@example.org\n"
            "3,\"unterminated\n");
  Must(mesh->Refresh());
  EXPECT_EQ(mesh->QuarantineCount("crm.customers"), 1);
  EXPECT_EQ(Must(mesh->Read("crm.customers")).size(), 2u);
}

TEST(Mesh, JsonLinesDirectorySource) {
  TempDir dir;
  dir.Write("a.jsonl",
            "{\"sku\":\"p1\",\"qty\":2}\n{\"sku\":\"p2\",\"qty\":1}\n");
  dir.Write("b.jsonl", "{\"sku\":\"p3\",\"qty\":7}\n");
  dir.Write("ignored.csv", "sku,qty\nzz,1\n");
  Worker worker;
  auto mesh = Must(Mesh::Open(worker, {}));
  Must(mesh->Source(Describe("stock.levels"),
                    {.path = dir.path(), .format = SourceFormat::kJsonLines}));
  ASSERT_THAT(mesh->Advance(), IsOk());
  EXPECT_EQ(Must(mesh->Read("stock.levels")).size(), 3u);
  std::filesystem::remove(dir.path() + "/a.jsonl");
  dir.Write("c.jsonl", "{\"sku\":\"p4\",\"qty\":\"many\"}\n");
  RefreshReport report = Must(mesh->Refresh());
  EXPECT_EQ(report.rows_retracted, 2);
  EXPECT_EQ(report.quarantine_changes, 1);
  EXPECT_THAT(Must(mesh->Read("stock.levels")),
              ElementsAre(Row{Value("p3"), Value(int64_t{7})}));
  EXPECT_EQ(mesh->QuarantineCount("stock.levels"), 1);
}

TEST(Mesh, SourceErrorsNameThePath) {
  TempDir dir;
  Worker worker;
  auto mesh = Must(Mesh::Open(worker, {}));
  auto missing =
      mesh->Source(Describe("a.b"), {.path = dir.path() + "/no.csv"});
  EXPECT_THAT(missing, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("no.csv"));
  std::string odd = dir.Write("data.xml", "<x/>");
  EXPECT_THAT(mesh->Source(Describe("a.b"), {.path = odd}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  std::string ok = dir.Write("ok.csv", "x\n1\n");
  auto bad_id = mesh->Source(Describe("NoDomain"), {.path = ok});
  EXPECT_THAT(bad_id, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(bad_id.status().message()), HasSubstr("domain.name"));
}

TEST(Mesh, VersionsAreImmutableAndCompatible) {
  Retail r;
  ASSERT_THAT(r.mesh->Advance(), IsOk());
  r.mesh->TakeChanges();
  const Table& filtered = r.filtered;
  const Table& narrower = r.narrower;
  // Same version, other schema: refused.
  ProductDescriptor d =
      Describe("sales.big_orders", Tier::kCurated, "Orders of at least 100");
  auto same_version = r.mesh->Publish(narrower, d);
  EXPECT_THAT(same_version, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(std::string(same_version.status().message()),
              HasSubstr("immutable"));
  d.version = {1, 1};
  auto dropped = r.mesh->Publish(narrower, d);
  EXPECT_THAT(dropped, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(std::string(dropped.status().message()),
              HasSubstr("field 'region' was removed; a breaking change needs "
                        "version 2.0"));
  // A metadata update under the same version: retraction + insertion.
  d.version = {1, 0};
  d.description = "Orders of 100 or more";
  ASSERT_THAT(r.mesh->Publish(filtered, d).status(), IsOk());
  ASSERT_THAT(r.mesh->Advance(), IsOk());
  std::vector<std::string> catalog_changes;
  for (const MeshChange& c : r.mesh->TakeChanges()) {
    if (c.stream == "catalog")
      catalog_changes.push_back(std::to_string(c.diff));
  }
  EXPECT_THAT(catalog_changes, UnorderedElementsAre("-1", "1"));
  EXPECT_THAT(r.mesh->Search("more"), ElementsAre("sales.big_orders"));
  // A compatible minor version (same columns) and then an older one.
  d.version = {1, 2};
  ASSERT_THAT(r.mesh->Publish(filtered, d).status(), IsOk());
  d.version = {1, 1};
  EXPECT_THAT(r.mesh->Publish(filtered, d),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  ASSERT_THAT(r.mesh->Advance(), IsOk());
  EXPECT_EQ(r.mesh->Catalog()[1].VersionedId(), "sales.big_orders@1.2");
}

TEST(Mesh, PublishRefusals) {
  Retail r;
  // Non-null in the descriptor, but a derived column may be null.
  Table derived = Must(r.orders.Derive("double", ValueType::kInt64, {"amount"},
                                       [](const Row& in) { return in[0]; }));
  ProductDescriptor strict = Describe("sales.doubled");
  Schema schema = derived.schema();
  std::vector<Field> fields = schema.fields();
  fields.back().nullable = false;
  strict.schema = Schema(fields);
  auto refused = r.mesh->Publish(derived, strict);
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(refused.status().message()),
              HasSubstr("double:int64 not null"));
  // Another table under a product that is already computed.
  ProductDescriptor big =
      Describe("sales.big_orders", Tier::kCurated, "Orders of at least 100");
  big.version = {2, 0};
  auto other = r.mesh->Publish(r.narrower, big);
  EXPECT_THAT(other, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(std::string(other.status().message()),
              HasSubstr("computed by another table"));
  // An older version that exists, after a newer one.
  big.version = {1, 3};
  ASSERT_THAT(r.mesh->Publish(r.filtered, big).status(), IsOk());
  big.version = {1, 0};
  auto older = r.mesh->Publish(r.filtered, big);
  EXPECT_THAT(older, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(std::string(older.status().message()),
              HasSubstr("older than the published 1.3"));
}

TEST(Mesh, SourceSchemasMustAgreeAndFilesFitTheirFormat) {
  TempDir dir;
  Worker worker;
  auto mesh = Must(Mesh::Open(worker, {}));
  std::string file = dir.Write("t.csv", "a\n1\n");
  ProductDescriptor d = Describe("a.t");
  d.schema = Schema({{"a", ValueType::kInt64}});
  auto differ = mesh->Source(
      d, {.path = file, .schema = Schema({{"a", ValueType::kString}})});
  EXPECT_THAT(differ, StatusIs(absl::StatusCode::kInvalidArgument));
  std::string json_in_csv = dir.Write("j.csv", "[{\"a\": 1}]\n");
  auto wrong = mesh->Source(d, {.path = json_in_csv});
  EXPECT_THAT(wrong, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(wrong.status().message()), HasSubstr("j.csv"));
}

TEST(Mesh, SearchFindsNonAsciiWords) {
  TempDir dir;
  Worker worker;
  auto mesh = Must(Mesh::Open(worker, {}));
  Must(mesh->Source(Describe("shop.menu", Tier::kRaw, "Café prices"),
                    {.path = dir.Write("m.csv", "item,prix\ncrème,3\n")}));
  ASSERT_THAT(mesh->Advance(), IsOk());
  EXPECT_THAT(mesh->Search("café"), ElementsAre("shop.menu"));
  EXPECT_THAT(mesh->Search("caf"), ElementsAre("shop.menu"));
  EXPECT_THAT(mesh->Search("cafe"), IsEmpty());
}

TEST(Mesh, RetireRetractsCatalogLineageAndClosure) {
  Retail r;
  ASSERT_THAT(r.mesh->Advance(), IsOk());
  ASSERT_THAT(r.mesh->Retire("sales.big_orders"), IsOk());
  EXPECT_THAT(r.mesh->Retire("sales.big_orders"),
              StatusIs(absl::StatusCode::kNotFound));
  ASSERT_THAT(r.mesh->Advance(), IsOk());
  EXPECT_EQ(r.mesh->Catalog().size(), 2u);
  for (const LineageEdge& e : r.mesh->Lineage()) {
    EXPECT_NE(e.to.product, "sales.big_orders") << e.ToString();
  }
  EXPECT_THAT(r.mesh->Downstream({"sales.orders", "amount"}),
              ElementsAre(ColumnRef{"finance.revenue", "revenue"}));
  EXPECT_THAT(r.mesh->Read("sales.big_orders"),
              StatusIs(absl::StatusCode::kNotFound));
  // Published again (its table is still computed): back everywhere.
  ASSERT_THAT(r.mesh
                  ->Publish(r.big, Describe("sales.big_orders", Tier::kCurated,
                                            "Orders of at least 100"))
                  .status(),
              IsOk());
  ASSERT_THAT(r.mesh->Advance(), IsOk());
  EXPECT_EQ(r.mesh->Downstream({"sales.orders", "amount"}).size(), 4u);
}

TEST(Mesh, ReadAsOfDataVersions) {
  Retail r(MeshOptions{.retained_versions = 2});
  ASSERT_THAT(r.mesh->Advance(), IsOk());  // version 1
  r.dir.Write("orders.csv", std::string(kOrders) + "6,south,120\n");
  Must(r.mesh->Refresh());  // version 2
  Must(r.mesh->Refresh());  // no change
  r.dir.Write("orders.csv", "id,region,amount\n3,north,300\n");
  Must(r.mesh->Refresh());  // version 3
  std::vector<DataVersion> versions = r.mesh->DataVersions("sales.big_orders");
  ASSERT_EQ(versions.size(), 2u);
  EXPECT_EQ(versions[0].number, 2);
  EXPECT_EQ(versions[1].number, 3);
  EXPECT_THAT(
      Must(r.mesh->ReadAsOf("sales.big_orders", 2)),
      ElementsAre(R(2, "south", 250), R(3, "north", 300), R(6, "south", 120)));
  EXPECT_THAT(Must(r.mesh->ReadAsOf("sales.big_orders", 3)),
              ElementsAre(R(3, "north", 300)));
  auto gone = r.mesh->ReadAsOf("sales.big_orders", 1);
  EXPECT_THAT(gone, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(std::string(gone.status().message()),
              HasSubstr("retained: 2 to 3"));
}

// A source whose rows the mesh does not keep: the tables built on it are
// computed as usual (and kept), its own rows are not readable, its
// quarantine is.
TEST(Mesh, ASourceWhoseRowsAreNotKeptFeedsItsTables) {
  TempDir dir;
  const std::string file =
      dir.Write("orders.csv", std::string(kOrders) + "5,north\n");
  Worker worker;
  auto mesh = Must(Mesh::Open(worker, {}));
  Table orders = Must(mesh->Source(Describe("sales.orders"),
                                   {.path = file, .keep_rows = false}));
  Must(mesh->Publish(
      Must(orders.Filter(
          {"amount"}, [](const Row& in) { return in[0].as_int64() >= 100; })),
      Describe("sales.big_orders")));
  ASSERT_THAT(mesh->Advance(), IsOk());
  EXPECT_THAT(Must(mesh->Read("sales.big_orders")),
              ElementsAre(R(2, "south", 250), R(3, "north", 300)));
  for (const absl::Status& s :
       {mesh->Read("sales.orders").status(),
        mesh->Snapshot()->Count("sales.orders", R(1, "north", 10)).status(),
        mesh->ReadAsOf("sales.orders", 1).status(),
        mesh->Use("sales.orders").status()}) {
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition));
    EXPECT_THAT(std::string(s.message()), HasSubstr("not kept"));
  }
  EXPECT_TRUE(mesh->DataVersions("sales.orders").empty());
  EXPECT_EQ(mesh->QuarantineCount("sales.orders"), 1);
}

// A product's retention lets go of the versions that closed longer ago,
// by the mesh's clock, keeping its newest; lifted, versions pile up again
// to retained_versions.
TEST(Mesh, RetentionLetsGoOfVersionsOlderThanItsAge) {
  absl::Time now = absl::FromUnixSeconds(1'000'000);
  Retail r(MeshOptions{.retained_versions = 16, .clock = [&] { return now; }});
  EXPECT_THAT(r.mesh->SetRetention("sales.big_orders", absl::ZeroDuration()),
              StatusIs(absl::StatusCode::kInvalidArgument));
  ASSERT_THAT(r.mesh->SetRetention("sales.big_orders", absl::Seconds(10)),
              IsOk());
  ASSERT_THAT(r.mesh->Advance(), IsOk());
  std::string text = kOrders;
  for (int round = 0; round < 12; ++round) {
    now += absl::Seconds(3);
    absl::StrAppend(&text, 100 + round, ",south,", 200 + round, "\n");
    r.dir.Write("orders.csv", text);
    Must(r.mesh->Refresh());
    const std::vector<DataVersion> versions =
        r.mesh->DataVersions("sales.big_orders");
    ASSERT_FALSE(versions.empty());
    EXPECT_EQ(versions.back().closed, now);
    for (const DataVersion& v : versions) {
      EXPECT_GE(v.closed, now - absl::Seconds(10)) << "round " << round;
    }
    // Closed 0, 3, 6 and 9 seconds ago.
    if (round >= 3) EXPECT_EQ(versions.size(), 4u) << "round " << round;
  }
  // Only the newest is left when nothing changed for longer.
  now += absl::Minutes(1);
  ASSERT_THAT(r.mesh->Advance(), IsOk());
  std::vector<DataVersion> versions = r.mesh->DataVersions("sales.big_orders");
  ASSERT_EQ(versions.size(), 1u);
  EXPECT_THAT(r.mesh->ReadAsOf("sales.big_orders", versions[0].number - 1),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(r.mesh->ReadAsOf("sales.big_orders", versions[0].number), IsOk());
  // Other products keep retained_versions.
  EXPECT_EQ(r.mesh->DataVersions("sales.orders").size(), 13u);
  ASSERT_THAT(r.mesh->SetRetention("sales.big_orders", std::nullopt), IsOk());
  for (int round = 0; round < 3; ++round) {
    now += absl::Minutes(1);
    absl::StrAppend(&text, 200 + round, ",south,", 300 + round, "\n");
    r.dir.Write("orders.csv", text);
    Must(r.mesh->Refresh());
  }
  EXPECT_EQ(r.mesh->DataVersions("sales.big_orders").size(), 4u);
}

// Under random edits (rows added, removed, repeated) with few versions
// retained, so the history is settled into runs again and again: Read is
// the file's rows now and ReadAsOf(v) the rows when version v was made,
// for every retained version.
TEST(Mesh, ReadAsOfEqualsEveryRetainedVersionUnderRandomEdits) {
  for (uint64_t seed = 0; seed < 4; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    TempDir dir;
    std::vector<Row> lines;  // the file's rows, in file order
    auto write = [&] {
      std::string text = "id,region,amount\n";
      for (const Row& row : lines) {
        absl::StrAppend(&text, row[0].as_int64(), ",", row[1].as_string(), ",",
                        row[2].as_int64(), "\n");
      }
      return dir.Write("orders.csv", text);
    };
    lines = {R(1, "north", 10)};
    const std::string file = write();
    Worker worker;
    auto mesh = Must(Mesh::Open(worker, {.retained_versions = 3}));
    Must(mesh->Source(Describe("sales.orders"), {.path = file}));
    std::map<int, std::vector<Row>> at_version;
    auto sorted_lines = [&] {
      std::vector<Row> rows = lines;
      std::sort(rows.begin(), rows.end());
      return rows;
    };
    for (int round = 0; round < 40; ++round) {
      if (round > 0) {
        const int edits = 1 + static_cast<int>(rng() % 4);
        for (int e = 0; e < edits; ++e) {
          if (!lines.empty() && rng() % 3 == 0) {
            lines.erase(lines.begin() +
                        static_cast<ptrdiff_t>(rng() % lines.size()));
          } else {
            // Few distinct rows, so rows repeat and cancel across runs.
            lines.push_back(R(static_cast<int64_t>(rng() % 6),
                              rng() % 2 ? "north" : "south",
                              static_cast<int64_t>(rng() % 3)));
          }
        }
        write();
      }
      Must(mesh->Refresh());
      const std::vector<DataVersion> versions =
          mesh->DataVersions("sales.orders");
      if (!versions.empty() && !at_version.contains(versions.back().number)) {
        at_version[versions.back().number] = sorted_lines();
      }
      ASSERT_EQ(Must(mesh->Read("sales.orders")), sorted_lines())
          << "round " << round;
      ASSERT_LE(versions.size(), 3u);
      for (const DataVersion& v : versions) {
        ASSERT_EQ(Must(mesh->ReadAsOf("sales.orders", v.number)),
                  at_version[v.number])
            << "round " << round << ", version " << v.number;
      }
    }
  }
}

// ---- lineage closure oracle -------------------------------------------------

// Every node reachable from `start` along `next`, sorted.
std::vector<ColumnRef> Walk(std::map<ColumnRef, std::set<ColumnRef>>& next,
                            const ColumnRef& start) {
  std::set<ColumnRef> seen;
  std::queue<ColumnRef> todo;
  todo.push(start);
  while (!todo.empty()) {
    ColumnRef at = todo.front();
    todo.pop();
    for (const ColumnRef& n : next[at]) {
      if (seen.insert(n).second) todo.push(n);
    }
  }
  return {seen.begin(), seen.end()};
}

// A random mesh of products over columns a, b: each product is a union of
// two earlier ones (direct edges) or a derivation of one (a := a + b). At
// random, products are retired and published again; after every step the
// closure must equal a walk over the edges of the active products, computed
// here from how the products were built.
TEST(MeshClosureOracle, RandomRetireAndPublish) {
  for (uint64_t seed = 0; seed < 12; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    TempDir dir;
    std::string file = dir.Write("base.csv", "a,b\n1,2\n3,4\n");
    Worker worker;
    auto mesh = Must(Mesh::Open(worker, {}));
    const int n = 9;
    std::vector<Table> tables;
    std::vector<std::string> ids;
    std::vector<std::set<std::pair<ColumnRef, ColumnRef>>> expected(n);
    tables.push_back(Must(mesh->Source(Describe("m.p0"), {.path = file})));
    ids.push_back("m.p0");
    for (int i = 1; i < n; ++i) {
      const std::string id = "m.p" + std::to_string(i);
      const int j = static_cast<int>(rng() % i);
      Table t;
      auto& edges = expected[i];
      edges.insert({{ids[j], ""}, {id, ""}});
      if (i >= 2 && rng() % 2 == 0) {
        int k = static_cast<int>(rng() % i);
        if (k == j) k = (k + 1) % i;
        t = Must(tables[j].Union(tables[k]));
        edges.insert({{ids[k], ""}, {id, ""}});
        for (const char* c : {"a", "b"}) {
          edges.insert({{ids[j], c}, {id, c}});
          edges.insert({{ids[k], c}, {id, c}});
        }
      } else {
        t = Must(tables[j].Derive("c", ValueType::kInt64, {"a", "b"},
                                  [](const Row& in) { return in[0]; }));
        t = Must(Must(t.Select({"c", "b"})).Rename("c", "a"));
        edges.insert({{ids[j], "a"}, {id, "a"}});
        edges.insert({{ids[j], "b"}, {id, "a"}});
        edges.insert({{ids[j], "b"}, {id, "b"}});
      }
      tables.push_back(Must(mesh->Publish(t, Describe(id))));
      ids.push_back(id);
    }
    std::vector<bool> active(n, true);
    for (int step = 0; step < 25; ++step) {
      if (step > 0) {
        for (int changes = 1 + rng() % 2; changes > 0; --changes) {
          int i = 1 + static_cast<int>(rng() % (n - 1));
          if (active[i]) {
            ASSERT_THAT(mesh->Retire(ids[i]), IsOk());
          } else {
            ASSERT_THAT(mesh->Publish(tables[i], Describe(ids[i])).status(),
                        IsOk());
          }
          active[i] = !active[i];
        }
      }
      ASSERT_THAT(mesh->Advance(), IsOk());
      std::map<ColumnRef, std::set<ColumnRef>> out;
      std::set<ColumnRef> nodes;
      for (int i = 0; i < n; ++i) {
        if (!active[i]) continue;
        for (const auto& [from, to] : expected[i]) {
          out[from].insert(to);
          nodes.insert(from);
          nodes.insert(to);
        }
      }
      std::map<ColumnRef, std::set<ColumnRef>> into;
      for (const auto& [from, tos] : out) {
        for (const ColumnRef& to : tos) into[to].insert(from);
      }
      for (const ColumnRef& start : nodes) {
        ASSERT_EQ(mesh->Downstream(start), Walk(out, start))
            << "from " << start.ToString() << " at step " << step;
        ASSERT_EQ(mesh->Upstream(start), Walk(into, start))
            << "into " << start.ToString() << " at step " << step;
      }
      // Nothing reaches a retired product.
      for (int i = 1; i < n; ++i) {
        if (!active[i]) {
          EXPECT_THAT(mesh->Upstream({ids[i], "a"}), IsEmpty());
        }
      }
    }
  }
}

// Multiplicities beyond 64 bits (a join of two rows present 2^40 times
// each) are an error of the Advance, not undefined behaviour.
TEST(Mesh, AMultiplicityOverflowIsOutOfRange) {
  TempDir dir;
  Worker worker;
  auto mesh = Must(Mesh::Open(worker, {}));
  const std::string twice = "diff,k,v\n1099511627776,1,a\n";
  Table a = Must(mesh->Source(Describe("t.a"),
                              {.path = dir.Write("a.changes.csv", twice)}));
  Table b = Must(mesh->Source(Describe("t.b"),
                              {.path = dir.Write("b.changes.csv", twice)}));
  Table joined = Must(a.JoinOn(Must(b.Rename("v", "w")), {{"k", "k"}}));
  ASSERT_THAT(mesh->Publish(joined, Describe("t.joined")), IsOk());
  absl::Status advanced = mesh->Advance();
  EXPECT_THAT(advanced, StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(std::string(advanced.message()), HasSubstr("overflowed"));
  // Reported once, for the time it happened.
  EXPECT_THAT(mesh->Advance(), IsOk());
}

}  // namespace
}  // namespace diffmesh
