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

}  // namespace
}  // namespace diffmesh
