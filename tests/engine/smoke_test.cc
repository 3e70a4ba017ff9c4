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

// Diffs that overflow 64 bits are not undefined behaviour passed on
// silently: the worker that stepped the operator reports them.
TEST(Smoke, DiffOverflowIsReportedByTheWorker) {
  constexpr int64_t kHalf = int64_t{1} << 62;
  Worker worker;
  Graph& graph = worker.NewDataflow("overflow");
  auto [in, words] = NewInput<std::string>(graph);
  auto [left_in, left] = NewInput<std::pair<int, int>>(graph);
  auto [right_in, right] = NewInput<std::pair<int, int>>(graph);
  std::map<std::string, int64_t> acc;
  auto counted = Inspect(Count(words), [&](const auto& d, uint64_t, int64_t r) {
    acc[d.first] += r;
  });
  auto joined = Join(left, right);
  auto probe = ProbeStream(counted.stream);
  auto joined_probe = ProbeStream(joined.stream);
  auto run = [&](uint64_t t) {
    in.AdvanceTo(t);
    left_in.AdvanceTo(t);
    right_in.AdvanceTo(t);
    return worker.StepWhile(
        [&] { return probe.LessThan(t) || joined_probe.LessThan(t); });
  };
  // Large but fine: 2^62 + 2^62 - 1 < 2^63.
  in.Update("a", kHalf);
  in.Update("a", kHalf - 1);
  ASSERT_TRUE(run(1));
  EXPECT_FALSE(worker.TakeDiffOverflow());
  // 2^62 * 3 in a sum of diffs.
  in.Update("b", kHalf);
  in.Update("b", kHalf);
  in.Update("b", kHalf);
  ASSERT_TRUE(run(2));
  EXPECT_TRUE(worker.TakeDiffOverflow());
  EXPECT_FALSE(worker.TakeDiffOverflow());  // taken
  // 2^32 * 2^32 in a join's product of diffs.
  left_in.Update({1, 10}, int64_t{1} << 32);
  right_in.Update({1, 20}, int64_t{1} << 32);
  ASSERT_TRUE(run(3));
  EXPECT_TRUE(worker.TakeDiffOverflow());
}

// Held bytes by part: messages wait at the first operator's input until the
// worker steps; then the arrangement holds the updates in sealed batches,
// split by column, and the parts sum to HeldBytes.
TEST(Smoke, HeldBytesSplitIntoParts) {
  Worker worker;
  Graph& graph = worker.NewDataflow("parts");
  auto [input, pairs] = NewInput<std::pair<int64_t, int64_t>>(graph);
  auto probe = ProbeStream(Count(pairs).stream);
  constexpr int64_t kUpdates = 20000;
  for (int64_t i = 0; i < kUpdates; ++i) input.Insert({i % 100, i});
  input.AdvanceTo(1);
  HeldByteParts before;
  worker.AddHeldBytes(&before);
  EXPECT_GE(before.queued,
            kUpdates *
                sizeof(Update<std::pair<int64_t, int64_t>, uint64_t, int64_t>));
  EXPECT_EQ(before.InBatches(), 0u);
  ASSERT_TRUE(worker.StepWhile([&] { return probe.LessThan(1); }));
  HeldByteParts after;
  worker.AddHeldBytes(&after);
  EXPECT_EQ(after.queued, 0u);
  EXPECT_EQ(after.Total() - after.queued, worker.HeldBytes());
  // Count arranges its input (20,000 updates) and its output (100 counts).
  EXPECT_GE(after.updates, static_cast<size_t>(kUpdates));
  EXPECT_GE(after.keys, 100 * sizeof(std::pair<int64_t, int64_t>));
  // Every key has one value (the pair; a count) and every value one update
  // (distinct pairs at one time), so no batch needs offsets.
  EXPECT_EQ(after.key_offsets, 0u);
  EXPECT_EQ(after.val_offsets, 0u);
  EXPECT_GT(after.codes + after.times, 0u);
}

}  // namespace
// A dataflow is freed only once complete; then its state is gone, and its
// probes and streams still read as finished.
TEST(Smoke, ACompleteDataflowIsDroppedAndItsStateFreed) {
  Worker worker;
  Graph& kept = worker.NewDataflow("kept");
  auto [kept_in, kept_words] = NewInput<std::string>(kept);
  auto kept_probe = ProbeStream(Count(kept_words).stream);
  Graph& graph = worker.NewDataflow("dropped");
  auto [input, pairs] = NewInput<std::pair<int64_t, int64_t>>(graph);
  auto probe = ProbeStream(Count(pairs).stream);
  for (int64_t i = 0; i < 50000; ++i) input.Insert({i % 100, i});
  kept_in.Insert("a");
  input.AdvanceTo(1);
  kept_in.AdvanceTo(1);
  worker.StepWhile([&] { return probe.LessThan(1) || kept_probe.LessThan(1); });
  const size_t held = worker.HeldBytes();
  EXPECT_GT(held, 500000u);
  EXPECT_FALSE(worker.DropDataflow(&graph));  // its input is open
  input.Close();
  worker.StepWhile([&] { return !probe.Done(); });
  EXPECT_TRUE(worker.DropDataflow(&graph));
  EXPECT_TRUE(graph.released());
  EXPECT_LT(worker.HeldBytes(), held / 10);
  EXPECT_TRUE(probe.Done());
  // The other dataflow goes on.
  kept_in.Insert("b");
  kept_in.AdvanceTo(2);
  EXPECT_TRUE(worker.StepWhile([&] { return kept_probe.LessThan(2); }));
  EXPECT_FALSE(worker.AllComplete());
}

}  // namespace diffmesh
