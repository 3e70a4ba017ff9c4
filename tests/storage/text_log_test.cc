// The text update-log format: accepted forms, and one test per kind of
// malformed line, each naming the file, line number and reason.
#include "storage/text_log.h"

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/status_matchers.h"

namespace diffmesh {
namespace {

using ::diffmesh::testing::IsOk;
using ::diffmesh::testing::StatusIs;
using ::testing::HasSubstr;

TEST(TextLogTest, ParsesCommentsBlanksSignsAndTabs) {
  auto log = ParseTextLog("# header\n\n3 +1 1 2\n0\t-2\t7 8\r\n  5 4 0 0  \n",
                          "g.log", 2);
  ASSERT_THAT(log, IsOk());
  std::vector<LogUpdate> want = {
      {3, 1, {1, 2}}, {0, -2, {7, 8}}, {5, 4, {0, 0}}};
  EXPECT_EQ(*log, want);
}

TEST(TextLogTest, AnyFieldCountWhenUnconstrained) {
  auto log = ParseTextLog("1 1\n2 1 5 6 7\n", "x", -1);
  ASSERT_THAT(log, IsOk());
  EXPECT_EQ((*log)[1].fields.size(), 3u);
}

void ExpectLineError(const std::string& text, const std::string& where,
                     const std::string& reason) {
  auto log = ParseTextLog(text, "bad.log", 2);
  EXPECT_THAT(log, StatusIs(absl::StatusCode::kInvalidArgument)) << text;
  EXPECT_THAT(log.status().message(), HasSubstr(where)) << text;
  EXPECT_THAT(log.status().message(), HasSubstr(reason)) << text;
}

TEST(TextLogTest, RejectsEachKindOfMalformedLine) {
  ExpectLineError("0 1 1 2\nx 1 1 2\n", "bad.log:2:", "TIME 'x'");
  ExpectLineError("-3 1 1 2\n", "bad.log:1:", "TIME '-3'");
  ExpectLineError("99999999999999999999 1 1 2\n", "bad.log:1:", "TIME");
  ExpectLineError("1 one 1 2\n", "bad.log:1:", "DIFF 'one'");
  ExpectLineError("1 +-1 1 2\n", "bad.log:1:", "DIFF '+-1'");
  ExpectLineError("1 ++1 1 2\n", "bad.log:1:", "DIFF '++1'");
  ExpectLineError("1 1 1 -2\n", "bad.log:1:", "FIELD 2 '-2'");
  ExpectLineError("1 1 1 4294967296\n", "bad.log:1:", "FIELD 2 '4294967296'");
  ExpectLineError("1 1 1\n", "bad.log:1:", "expected 2 FIELDs, found 1");
  ExpectLineError("\n\n1 1 1 2 3\n",
                  "bad.log:3:", "expected 2 FIELDs, found 3");
  ExpectLineError("7\n", "bad.log:1:", "expected TIME DIFF FIELD");
}

TEST(TextLogTest, MissingFileIsNotFound) {
  EXPECT_THAT(ReadTextLog("/no/such/dir/edges.log", 2),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST(TextLogTest, FormatConsolidatesAndSorts) {
  std::string text = FormatTextLog(
      {{2, 1, {5}}, {0, 1, {9}}, {2, -1, {5}}, {0, 2, {1}}, {0, 1, {1}}});
  EXPECT_EQ(text, "0 3 1\n0 1 9\n");
}

// Diffs whose sum does not fit 64 bits: printed as lines that add up to it,
// and printing what those lines read back as gives the same lines.
TEST(TextLogTest, FormatSplitsASumBeyondSixtyFourBits) {
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  std::string low =
      FormatTextLog({{4, kMin, {1}}, {4, kMin, {1}}, {4, 5, {1}}});
  EXPECT_EQ(low, absl::StrCat("4 ", kMin, " 1\n4 ", kMin + 5, " 1\n"));
  auto back = ParseTextLog(low, "low.log", 1);
  ASSERT_THAT(back, IsOk());
  EXPECT_EQ(FormatTextLog(*back), low);
  // A total that fits is one line, whatever the order of its parts.
  EXPECT_EQ(FormatTextLog({{0, kMax, {2}}, {0, 1, {2}}, {0, -2, {2}}}),
            absl::StrCat("0 ", kMax - 1, " 2\n"));
  EXPECT_EQ(FormatTextLog({{0, kMax, {2}}, {0, kMax, {2}}, {0, 2, {2}}}),
            absl::StrCat("0 ", kMax, " 2\n0 ", kMax, " 2\n0 2 2\n"));
}

}  // namespace
}  // namespace diffmesh
