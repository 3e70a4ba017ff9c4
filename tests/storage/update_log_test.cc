// The durable update log: FlatBuffers round trip, restart round trip in a
// real RocksDB store, corrupt and foreign records reported as DataLoss.
#include "storage/update_log.h"

#include <filesystem>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/status_matchers.h"

namespace diffmesh {
namespace {

using ::diffmesh::testing::IsOk;
using ::diffmesh::testing::StatusIs;
using ::testing::HasSubstr;

std::string TempDir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() /
             ("diffmesh_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  return dir.string();
}

TEST(UpdateLogTest, EncodeDecodeRoundTrip) {
  std::vector<LogUpdate> batch = {
      {0, 1, {1, 2}}, {5, -3, {}}, {7, 2, {4294967295u}}};
  auto decoded = DecodeUpdateBatch(EncodeUpdateBatch(batch), "test");
  ASSERT_THAT(decoded, IsOk());
  EXPECT_EQ(*decoded, batch);
}

TEST(UpdateLogTest, GarbageIsDataLossNamingTheRecord) {
  auto decoded = DecodeUpdateBatch("definitely not a flatbuffer", "record b42");
  EXPECT_THAT(decoded, StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(decoded.status().message(), HasSubstr("record b42"));
  // A truncated valid buffer is rejected too.
  std::string bytes = EncodeUpdateBatch({{1, 1, {1, 2, 3}}});
  EXPECT_THAT(DecodeUpdateBatch(bytes.substr(0, bytes.size() / 2), "half"),
              StatusIs(absl::StatusCode::kDataLoss));
}

TEST(UpdateLogTest, SurvivesRestart) {
  std::string dir = TempDir("restart");
  {
    auto log = UpdateLog::Open(dir);
    ASSERT_THAT(log, IsOk());
    ASSERT_THAT((*log)->Append({{0, 1, {1}}}), IsOk());
    auto seq = (*log)->Append({{1, -1, {1}}, {1, 1, {2}}});
    ASSERT_THAT(seq, IsOk());
    EXPECT_EQ(*seq, 2u);
  }
  auto log = UpdateLog::Open(dir);
  ASSERT_THAT(log, IsOk());
  auto all = (*log)->ReadAll();
  ASSERT_THAT(all, IsOk());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[1][1], (LogUpdate{1, 1, {2}}));
  auto seq = (*log)->Append({});
  ASSERT_THAT(seq, IsOk());
  EXPECT_EQ(*seq, 3u);  // numbering resumes after the restart
  std::filesystem::remove_all(dir);
}

TEST(UpdateLogTest, CorruptRecordIsDataLossNamingTheKey) {
  std::string dir = TempDir("corrupt");
  auto log = UpdateLog::Open(dir);
  ASSERT_THAT(log, IsOk());
  ASSERT_THAT((*log)->Append({{0, 1, {1}}}), IsOk());
  ASSERT_THAT((*log)->PutRaw(2, "\x01\x02garbage"), IsOk());
  auto all = (*log)->ReadAll();
  EXPECT_THAT(all, StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(all.status().message(), HasSubstr("b0000000000000002"));
  std::filesystem::remove_all(dir);
}

TEST(UpdateLogTest, UnopenablePathIsAnError) {
  auto log = UpdateLog::Open("/proc/definitely/not/writable");
  EXPECT_FALSE(log.ok());
  EXPECT_THAT(log.status().message(),
              HasSubstr("/proc/definitely/not/writable"));
}

}  // namespace
}  // namespace diffmesh
