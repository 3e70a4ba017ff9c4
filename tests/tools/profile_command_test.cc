#include "tools/cli/profile_command.h"

#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/temp_dir.h"

namespace diffmesh {
namespace {

using Json = nlohmann::json;

std::vector<Json> Lines(const std::string& text) {
  std::vector<Json> docs;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    docs.push_back(Json::parse(line));
  }
  return docs;
}

class ProfileCommandTest : public ::testing::Test {
 protected:
  absl::Status Run(ProfileArgs args) {
    out_.str("");
    progress_.str("");
    absl::StatusOr<ProfileOutcome> outcome = RunProfile(args, out_, progress_);
    if (outcome.ok()) outcome_ = *outcome;
    return outcome.status();
  }
  ProfileOutcome outcome_;
  testing::TempDir dir_;
  std::ostringstream out_, progress_;
};

TEST_F(ProfileCommandTest, PrintsTheProfileAndThenOnlyWhatChanged) {
  const std::string v1 = dir_.Write("v1.csv",
                                    "id,region,amount\n"
                                    "1,north,10\n"
                                    "2,south,250.5\n"
                                    "3,north,\n"
                                    "x,broken\n");
  const std::string v2 = dir_.Write("v2.csv",
                                    "id,region,amount\n"
                                    "1,north,10\n"
                                    "2,south,250.5\n"
                                    "3,north,\n"
                                    "x,broken\n"
                                    "4,east,7\n");
  const std::string v3 = dir_.Write("v3.csv",
                                    "id,region,amount\n"
                                    "1,north,10\n");
  ASSERT_TRUE(Run({.file = v1, .then = {v2, v3}}).ok());
  std::vector<Json> docs = Lines(out_.str());
  ASSERT_EQ(docs.size(), 3u) << out_.str();

  const Json& first = docs[0];
  EXPECT_EQ(first["version"], 0);
  EXPECT_EQ(first["file"], v1);
  // Every record is a row or quarantined: none is dropped.
  EXPECT_EQ(first["rows"], 3);
  EXPECT_EQ(first["quarantined"], 1);
  const Json& amount = first["columns"]["amount"];
  EXPECT_EQ(amount["type"], "double");
  EXPECT_EQ(amount["nulls"], 1);
  EXPECT_EQ(amount["distinct"], 2);
  EXPECT_EQ(amount["min"], 10.0);
  EXPECT_EQ(amount["max"], 250.5);
  EXPECT_EQ(amount["mean"], 130.25);
  EXPECT_EQ(amount["p50"], 10.0);
  EXPECT_EQ(first["columns"]["region"]["max"], "south");
  EXPECT_FALSE(first["columns"]["region"].contains("mean"));
  EXPECT_EQ(first["columns"]["id"]["min"], 1);
  EXPECT_TRUE(first["columns"]["id"]["min"].is_number_integer());
  EXPECT_EQ(first["checks"], Json::array());

  // An appended row: only what it changed.
  const Json& second = docs[1];
  EXPECT_EQ(second["version"], 1);
  EXPECT_EQ(second["rows"], 4);
  EXPECT_FALSE(second.contains("quarantined"));
  EXPECT_EQ(second["columns"]["amount"]["min"], 7.0);
  EXPECT_FALSE(second["columns"]["amount"].contains("max"));
  EXPECT_FALSE(second["columns"]["amount"].contains("nulls"));
  EXPECT_EQ(second["columns"]["region"]["distinct"], 3);

  // Rows retracted: what no longer applies is null.
  const Json& third = docs[2];
  EXPECT_EQ(third["rows"], 1);
  EXPECT_EQ(third["quarantined"], 0);
  EXPECT_TRUE(third["columns"]["amount"]["stddev"].is_null());
  EXPECT_EQ(third["columns"]["amount"]["max"], 10.0);
  // Progress goes elsewhere, and says what was read.
  EXPECT_NE(progress_.str().find("3 rows, 1 quarantined"), std::string::npos)
      << progress_.str();
  EXPECT_NE(progress_.str().find("version 1"), std::string::npos);
}

// Versions of a file past 2 MiB: an append is read as one; an edit near
// the start or before the old end that also grows the file is not taken
// for an append (the rows are those of the file).
TEST_F(ProfileCommandTest, LargeVersionsAreAppendsOnlyWhenTheyExtend) {
  std::string text = "id,region,amount\n";
  const int n = 150000;
  for (int i = 0; i < n; ++i) {
    text += std::to_string(i) + ",north," + std::to_string(i % 1000) + "\n";
  }
  ASSERT_GT(text.size(), size_t{2} << 20);
  const std::string v1 = dir_.Write("v1.csv", text);
  // Near the old end: order n-1's amount becomes 5000, one row more.
  std::string edited_tail = text;
  const size_t last = edited_tail.rfind(",999\n");
  ASSERT_NE(last, std::string::npos);
  edited_tail.replace(last, 5, ",5000\n");
  edited_tail += "150000,south,1\n";
  const std::string v2 = dir_.Write("v2.csv", edited_tail);
  // A true append to it.
  const std::string v3 = dir_.Write("v3.csv", edited_tail + "150001,east,2\n");
  // Near the start: order 1's amount becomes 7000, one row more.
  std::string edited_head = edited_tail + "150001,east,2\n";
  const size_t first = edited_head.find("\n1,north,1\n");
  ASSERT_NE(first, std::string::npos);
  edited_head.replace(first, 11, "\n1,north,7000\n");
  edited_head += "150002,east,3\n";
  const std::string v4 = dir_.Write("v4.csv", edited_head);
  ASSERT_TRUE(Run({.file = v1, .then = {v2, v3, v4}}).ok());
  std::vector<Json> docs = Lines(out_.str());
  ASSERT_EQ(docs.size(), 4u);
  EXPECT_EQ(docs[0]["rows"], n);
  EXPECT_EQ(docs[0]["columns"]["amount"]["max"], 999);
  EXPECT_EQ(docs[1]["rows"], n + 1);
  EXPECT_EQ(docs[1]["columns"]["amount"]["max"], 5000);
  EXPECT_EQ(docs[2]["rows"], n + 2);
  EXPECT_EQ(docs[2]["columns"]["region"]["distinct"], 3);
  EXPECT_EQ(docs[3]["rows"], n + 3);
  EXPECT_EQ(docs[3]["columns"]["amount"]["max"], 7000);
}

TEST_F(ProfileCommandTest, JsonFilesAndTheTableFormat) {
  const std::string file =
      dir_.Write("movies.json",
                 R"([{"title": "A", "gross": 10, "rating": 7.5},
          {"title": "B", "gross": null, "rating": 6},
          {"title": "C", "gross": 30, "rating": null}])");
  ASSERT_TRUE(Run({.file = file, .format = "table"}).ok());
  const std::string table = out_.str();
  EXPECT_NE(table.find("version 0: " + file + ", 3 rows, 0 quarantined"),
            std::string::npos)
      << table;
  EXPECT_NE(table.find("gross"), std::string::npos);
  ASSERT_TRUE(Run({.file = file}).ok());
  const Json doc = Json::parse(out_.str());
  EXPECT_EQ(doc["columns"]["gross"]["mean"], 20.0);
  EXPECT_EQ(doc["columns"]["gross"]["nulls"], 1);
  EXPECT_EQ(doc["columns"]["rating"]["max"], 7.5);
}

TEST_F(ProfileCommandTest, KeysCountTheirDuplicates) {
  const std::string v1 =
      dir_.Write("k1.csv", "a,b\n1,x\n1,x\n1,y\n2,x\n,x\n,x\n");
  const std::string v2 = dir_.Write("k2.csv", "a,b\n1,x\n1,y\n2,x\n,x\n,x\n");
  ASSERT_TRUE(Run({.file = v1, .then = {v2}, .keys = {"a", "b"}}).ok());
  std::vector<Json> docs = Lines(out_.str());
  ASSERT_EQ(docs.size(), 2u);
  // (1,x) twice: one duplicate; keys with a null are not counted.
  EXPECT_EQ(docs[0]["duplicates"], 1);
  EXPECT_EQ(docs[1]["duplicates"], 0);
  ASSERT_TRUE(Run({.file = v1, .keys = {"a"}}).ok());
  EXPECT_EQ(Json::parse(out_.str())["duplicates"], 2);
  absl::Status bad = Run({.file = v1, .keys = {"c"}});
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.message().find("--key c: no such column"), std::string::npos)
      << bad.message();
}

TEST_F(ProfileCommandTest, BadInputIsAClearError) {
  const std::string csv = dir_.Write("a.csv", "x\n1\n");
  const std::string json = dir_.Write("b.json", "[]");
  const std::string text = dir_.Write("c.txt", "x\n");
  absl::Status missing = Run({.file = dir_.path() + "/nope.csv"});
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.message().find("nope.csv"), std::string::npos);
  absl::Status mixed = Run({.file = csv, .then = {json}});
  EXPECT_EQ(mixed.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(mixed.message().find("same type"), std::string::npos);
  EXPECT_EQ(Run({.file = text}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Run({.file = csv, .format = "xml"}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(out_.str().empty());
}

TEST_F(ProfileCommandTest, AContractsChecksAreVerdictsThatFollowTheVersions) {
  const std::string v1 = dir_.Write("v1.csv",
                                    "id,unit\n"
                                    "1,kg\n"
                                    "2,pounds\n"
                                    "2,stone\n");
  const std::string v2 = dir_.Write("v2.csv",
                                    "id,unit\n"
                                    "1,kg\n"
                                    "2,pounds\n");
  const std::string contract = dir_.Write("c.yaml", R"(apiVersion: v3.1.0
kind: DataContract
id: units
version: 1.0.0
status: active
schema:
  - name: lines
    properties:
      - name: id
        logicalType: integer
        unique: true
      - name: unit
        logicalType: string
        quality:
          - metric: invalidValues
            arguments:
              validValues: [kg, pounds]
            mustBe: 0
            severity: warning
          - type: text
            description: Units as the supplier writes them.
    quality:
      - metric: rowCount
        mustBeGreaterThan: 0
)");
  ASSERT_TRUE(Run({.file = v1, .then = {v2}, .contract = contract}).ok());
  std::vector<Json> docs = Lines(out_.str());
  ASSERT_EQ(docs.size(), 2u);
  const Json& checks = docs[0]["checks"];
  ASSERT_EQ(checks.size(), 4u) << checks.dump();
  // Sorted by id; the text rule listed as not enforced.
  EXPECT_EQ(checks[0]["id"], "lines.id.unique");
  EXPECT_EQ(checks[0]["passed"], false);
  EXPECT_EQ(checks[0]["observed"], 1.0);
  EXPECT_EQ(checks[0]["expected"], "= 0");
  EXPECT_EQ(checks[0]["severity"], "error");
  EXPECT_EQ(checks[1]["id"], "lines.rowCount");
  EXPECT_EQ(checks[1]["passed"], true);
  EXPECT_EQ(checks[2]["id"], "lines.unit.invalidValues");
  EXPECT_EQ(checks[2]["passed"], false);
  EXPECT_EQ(checks[3]["enforced"], false);
  // The fix: only the checks that changed.
  const Json& fixed = docs[1]["checks"];
  ASSERT_EQ(fixed.size(), 3u) << fixed.dump();
  for (const Json& c : fixed) {
    EXPECT_EQ(c["passed"], true) << c.dump();
    // The row count only changed its observation: it has passed since 0.
    EXPECT_EQ(c["since_version"], c["id"] == "lines.rowCount" ? 0 : 1)
        << c.dump();
  }
  EXPECT_EQ(checks[1]["since_version"], 0);
  EXPECT_EQ(outcome_.failing_error_checks, 0);

  // Without the fix the error check fails at the last version.
  ASSERT_TRUE(Run({.file = v1, .contract = contract}).ok());
  EXPECT_EQ(outcome_.failing_error_checks, 1);

  // A contract the product cannot hold, or one with an error, is refused.
  const std::string wrong = dir_.Write("w.yaml", R"(apiVersion: v3.1.0
kind: DataContract
id: w
version: 1.0.0
status: active
schema:
  - name: lines
    properties:
      - name: id
        logicalType: string
)");
  absl::Status s = Run({.file = v1, .contract = wrong});
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("property 'id' is string but the column is int64"),
            std::string::npos)
      << s.message();
  const std::string typo = dir_.Write("t.yaml", R"(apiVersion: v3.1.0
kind: DataContract
id: t
version: 1.0.0
status: active
schema:
  - name: lines
    propertys: []
)");
  s = Run({.file = v1, .contract = typo});
  EXPECT_NE(
      s.message().find("unknown key 'propertys' (did you mean 'properties'?)"),
      std::string::npos)
      << s.message();
  EXPECT_EQ(Run({.file = v1, .contract = dir_.path() + "/none.yaml"}).code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace diffmesh
