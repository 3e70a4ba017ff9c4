#include <cstdint>
#include <map>
#include <string>

#include "engine/graph.h"
#include "engine/input.h"
#include "engine/probe.h"
#include "gtest/gtest.h"
#include "operators/count.h"
#include "operators/distinct.h"
#include "operators/inspect.h"
#include "operators/join.h"
#include "operators/map.h"
#include "operators/reduce.h"

namespace diffmesh {
namespace {

TEST(Smoke, CountChangesOverTime) {
  Worker worker;
  Graph& graph = worker.NewDataflow("smoke");
  auto [in, words] = NewInput<std::string>(graph);
  std::map<std::pair<std::string, int64_t>, int64_t> acc;
  auto counts = Inspect(
      Count(words), [&](const auto& d, uint64_t, int64_t r) { acc[d] += r; });
  auto probe = ProbeStream(counts.stream);
  in.Insert("a");
  in.Insert("a");
  in.Insert("b");
  in.AdvanceTo(1);
  ASSERT_TRUE(worker.StepWhile([&] { return probe.LessThan(1); }));
  EXPECT_EQ((acc[{"a", 2}]), 1);
  EXPECT_EQ((acc[{"b", 1}]), 1);
  in.Remove("a");
  in.AdvanceTo(2);
  ASSERT_TRUE(worker.StepWhile([&] { return probe.LessThan(2); }));
  EXPECT_EQ((acc[{"a", 2}]), 0);
  EXPECT_EQ((acc[{"a", 1}]), 1);
}

// Data sent before any reader is connected waits for the first readers,
// which may come until the dataflow runs; nothing is lost.
TEST(Smoke, ReadersConnectedAfterTheFirstSendStillGetIt) {
  Worker worker;
  Graph& graph = worker.NewDataflow("late readers");
  auto [in, words] = NewInput<std::string>(graph);
  in.Insert("early");
  in.Insert("early");
  in.AdvanceTo(1);  // sends, with no reader yet
  std::map<std::string, int64_t> first, second;
  auto a = Inspect(
      words, [&](const std::string& w, uint64_t, int64_t r) { first[w] += r; });
  auto b = Inspect(words, [&](const std::string& w, uint64_t, int64_t r) {
    second[w] += r;
  });
  auto pa = ProbeStream(a.stream);
  auto pb = ProbeStream(b.stream);
  in.Insert("late");
  in.AdvanceTo(2);
  ASSERT_TRUE(
      worker.StepWhile([&] { return pa.LessThan(2) || pb.LessThan(2); }));
  EXPECT_EQ(first, (std::map<std::string, int64_t>{{"early", 2}, {"late", 1}}));
  EXPECT_EQ(second, first);
}

void ConnectAfterDelivery() {
  Worker worker;
  Graph& graph = worker.NewDataflow("too late");
  auto [in, words] = NewInput<int>(graph);
  [[maybe_unused]] auto first = Inspect(words, [](int, uint64_t, int64_t) {});
  in.Insert(1);
  in.AdvanceTo(1);
  [[maybe_unused]] auto second = Inspect(words, [](int, uint64_t, int64_t) {});
}

// A reader that joins after others took data would miss it: a programming
// error, reported loudly instead of losing data.
TEST(SmokeDeathTest, ReaderAfterDeliveredDataAborts) {
  EXPECT_DEATH(ConnectAfterDelivery(), "would miss it");
}

}  // namespace
}  // namespace diffmesh
