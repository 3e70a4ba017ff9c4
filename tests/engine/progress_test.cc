// Progress tracking: frontiers follow pointstamps along edges and path
// summaries, loops included; operators never emit before they may.
#include "engine/progress.h"

#include <cstdint>
#include <map>
#include <random>
#include <tuple>
#include <vector>

#include "engine/graph.h"
#include "engine/input.h"
#include "engine/probe.h"
#include "gtest/gtest.h"
#include "operators/inspect.h"
#include "operators/map.h"

namespace diffmesh {
namespace {

Timestamp T1(uint64_t t) { return TimeCodec<uint64_t>::Encode(t); }
Timestamp T2(uint64_t a, uint64_t b) {
  return TimeCodec<Product<uint64_t, uint64_t>>::Encode({a, b});
}

TEST(ProgressTrackerTest, ChainPropagatesCapabilitiesAndMessages) {
  ProgressTracker tracker;
  int src0 = tracker.AddSource(0, 1);
  int tgt1 = tracker.AddTarget(1, 1);
  int src1 = tracker.AddSource(1, 1);
  int tgt2 = tracker.AddTarget(2, 1);
  tracker.AddEdge(src0, tgt1);
  tracker.AddEdge(src1, tgt2);
  tracker.AddInternal(tgt1, src1, PathSummary::Identity(1));
  tracker.Build();
  std::vector<int> changed;
  tracker.UpdateSource(src0, T1(3), +1);
  tracker.Propagate(&changed);
  EXPECT_EQ(changed.size(), 2u);
  EXPECT_EQ(tracker.frontier(tgt2), Antichain<Timestamp>(T1(3)));
  // A message in flight at target 1 holds both frontiers when the
  // capability moves on.
  tracker.UpdateTarget(tgt1, T1(3), +1);
  tracker.UpdateSource(src0, T1(3), -1);
  tracker.UpdateSource(src0, T1(5), +1);
  changed.clear();
  tracker.Propagate(&changed);
  EXPECT_TRUE(changed.empty());
  EXPECT_EQ(tracker.frontier(tgt2), Antichain<Timestamp>(T1(3)));
  tracker.UpdateTarget(tgt1, T1(3), -1);
  tracker.Propagate(&changed);
  EXPECT_EQ(tracker.frontier(tgt2), Antichain<Timestamp>(T1(5)));
  // Releasing everything empties every frontier.
  tracker.UpdateSource(src0, T1(5), -1);
  tracker.Propagate(&changed);
  EXPECT_TRUE(tracker.frontier(tgt1).empty());
  EXPECT_TRUE(tracker.frontier(tgt2).empty());
}

// A loop, built into `tracker`: op 0: outer input (depth 1) -> op 1:
// enter -> op 2: body (two inputs) -> op 3: feedback (+1) -> op 6: a
// stateless stage -> body; op 2 -> op 4: leave -> op 5 (outer sink).
// `observed` says which of the 7 targets are observed, in the order made.
struct Loop {
  int input_out, body_in, body_loop_in, feedback_in, sink_in;
  std::vector<int> sources, targets;
};
Loop BuildLoop(ProgressTracker& tracker, const std::vector<bool>& observed) {
  Loop l;
  auto source = [&](int op, int depth) {
    l.sources.push_back(tracker.AddSource(op, depth));
    return l.sources.back();
  };
  auto target = [&](int op, int depth) {
    l.targets.push_back(tracker.AddTarget(op, depth));
    return l.targets.back();
  };
  int input_out = source(0, 1);
  int enter_in = target(1, 1), enter_out = source(1, 2);
  int body_in = target(2, 2), body_loop_in = target(2, 2);
  int body_out = source(2, 2);
  int feedback_in = target(3, 2), feedback_out = source(3, 2);
  int stage_in = target(6, 2), stage_out = source(6, 2);
  int leave_in = target(4, 2), leave_out = source(4, 1);
  int sink_in = target(5, 1);
  tracker.AddEdge(input_out, enter_in);
  tracker.AddEdge(enter_out, body_in);
  tracker.AddEdge(body_out, feedback_in);
  tracker.AddEdge(feedback_out, stage_in);
  tracker.AddEdge(stage_out, body_loop_in);
  tracker.AddEdge(body_out, leave_in);
  tracker.AddEdge(leave_out, sink_in);
  tracker.AddInternal(enter_in, enter_out, PathSummary::Enter(1));
  tracker.AddInternal(body_in, body_out, PathSummary::Identity(2));
  tracker.AddInternal(body_loop_in, body_out, PathSummary::Identity(2));
  tracker.AddInternal(feedback_in, feedback_out, PathSummary::Increment(2));
  tracker.AddInternal(stage_in, stage_out, PathSummary::Identity(2));
  tracker.AddInternal(leave_in, leave_out, PathSummary::Leave(2));
  for (size_t i = 0; i < l.targets.size(); ++i) {
    tracker.SetObserved(l.targets[i], observed[i]);
  }
  tracker.Build();
  l.input_out = input_out;
  l.body_in = body_in;
  l.body_loop_in = body_loop_in;
  l.feedback_in = feedback_in;
  l.sink_in = sink_in;
  return l;
}

// enter -> body -> feedback(+1) -> body ... -> leave: the loop summary
// terminates the reachability walk and the frontier inside the loop is the
// entering time at iteration 0.
TEST(ProgressTrackerTest, LoopWithFeedbackSummary) {
  ProgressTracker tracker;
  Loop loop = BuildLoop(tracker, std::vector<bool>(7, true));
  const int input_out = loop.input_out, body_in = loop.body_in,
            body_loop_in = loop.body_loop_in, feedback_in = loop.feedback_in,
            sink_in = loop.sink_in;
  std::vector<int> changed;
  tracker.UpdateSource(input_out, T1(4), +1);
  tracker.Propagate(&changed);
  EXPECT_EQ(tracker.frontier(body_in), Antichain<Timestamp>(T2(4, 0)));
  EXPECT_EQ(tracker.frontier(body_loop_in), Antichain<Timestamp>(T2(4, 1)));
  EXPECT_EQ(tracker.frontier(sink_in), Antichain<Timestamp>(T1(4)));
  // Work circulating at iteration 7 of outer time 2 holds the sink at 2.
  tracker.UpdateTarget(feedback_in, T2(2, 7), +1);
  tracker.Propagate(&changed);
  // Incomparable with (4, 1): both remain in the frontier.
  EXPECT_EQ(tracker.frontier(body_loop_in),
            Antichain<Timestamp>({T2(2, 8), T2(4, 1)}));
  EXPECT_EQ(tracker.frontier(sink_in), Antichain<Timestamp>(T1(2)));
  EXPECT_EQ(tracker.frontier(body_in), Antichain<Timestamp>(T2(4, 0)));
}

// Leaving targets unobserved (as the graph does for operators that do not
// read frontiers) changes no observed frontier: the same random changes,
// holds and releases at every location, applied to a tracker that observes
// everything and to ones that observe random subsets.
TEST(ProgressTrackerTest, UnobservedTargetsLeaveObservedFrontiersAlone) {
  for (uint64_t seed = 0; seed < 50; ++seed) {
    std::mt19937_64 rng(seed);
    std::vector<bool> all(7, true), some(7);
    for (size_t i = 0; i < some.size(); ++i) some[i] = rng() % 2 == 0;
    ProgressTracker full, partial;
    Loop lf = BuildLoop(full, all);
    Loop lp = BuildLoop(partial, some);
    // Counts held, so that every release matches an earlier hold.
    std::map<std::tuple<bool, int, Timestamp>, int64_t> held;
    std::vector<int> changed;
    for (int step = 0; step < 200; ++step) {
      bool is_source = rng() % 2 == 0;
      const std::vector<int>& where = is_source ? lf.sources : lf.targets;
      int index = where[rng() % where.size()];
      int depth =
          is_source ? full.source_depth(index) : full.target_depth(index);
      Timestamp t = depth == 1 ? T1(rng() % 4) : T2(rng() % 4, rng() % 4);
      int64_t& count = held[{is_source, index, t}];
      int64_t delta = (count > 0 && rng() % 2 == 0) ? -1 : +1;
      count += delta;
      for (ProgressTracker* tracker : {&full, &partial}) {
        if (is_source) {
          tracker->UpdateSource(index, t, delta);
        } else {
          tracker->UpdateTarget(index, t, delta);
        }
        tracker->Propagate(&changed);
      }
      for (size_t i = 0; i < lf.targets.size(); ++i) {
        if (some[i]) {
          ASSERT_EQ(partial.frontier(lp.targets[i]),
                    full.frontier(lf.targets[i]))
              << "seed " << seed << " step " << step << " target " << i;
        } else {
          ASSERT_TRUE(partial.frontier(lp.targets[i]).empty());
        }
      }
      bool quiet = true;
      for (const auto& [key, n] : held) quiet &= n == 0;
      ASSERT_EQ(partial.Quiet(), quiet) << "seed " << seed;
    }
  }
}

// The graph maintains only the frontiers of operators that read them: a
// map's input is left alone, the probe's is kept, and the probe still sees
// every advance through a chain of maps.
TEST(ProgressTest, OnlyFrontierReadersAreObserved) {
  Worker worker;
  Graph& graph = worker.NewDataflow("chain");
  auto [input, numbers] = NewInput<int>(graph);
  auto mapped = Map(Map(numbers, [](int x) { return x + 1; }),
                    [](int x) { return x * 2; });
  auto probe = ProbeStream(mapped.stream);
  input.AdvanceTo(1);
  ASSERT_TRUE(worker.StepWhile([&] { return probe.LessThan(1); }));
  int observed = 0;
  for (size_t t = 0; t < graph.tracker().num_targets(); ++t) {
    observed += graph.tracker().observed(static_cast<int>(t));
  }
  EXPECT_EQ(graph.tracker().num_targets(), 3u);  // two maps and the probe
  EXPECT_EQ(observed, 1);
  for (uint64_t round = 1; round < 50; ++round) {
    input.Insert(static_cast<int>(round));
    input.AdvanceTo(round + 1);
    ASSERT_TRUE(worker.StepWhile([&] { return probe.LessThan(round + 1); }));
    EXPECT_EQ(probe.frontier(), Antichain<uint64_t>(round + 1));
  }
  input.Close();
  ASSERT_TRUE(worker.StepWhile([&] { return !probe.Done(); }));
  EXPECT_TRUE(graph.Complete());
}

TEST(ProgressTest, ProbesSeeInputAdvance) {
  Worker worker;
  Graph& graph = worker.NewDataflow("probe");
  auto [input, numbers] = NewInput<int>(graph);
  auto probe = ProbeStream(Map(numbers, [](int x) { return x + 1; }).stream);
  EXPECT_TRUE(probe.LessEqual(0));
  EXPECT_FALSE(probe.LessThan(0));
  input.AdvanceTo(3);
  ASSERT_TRUE(worker.StepWhile([&] { return probe.LessThan(3); }));
  EXPECT_EQ(probe.frontier(), Antichain<uint64_t>(3));
  EXPECT_FALSE(probe.Done());
  input.Close();
  ASSERT_TRUE(worker.StepWhile([&] { return !probe.Done(); }));
}

TEST(ProgressTest, StepWhileReportsStall) {
  Worker worker;
  Graph& graph = worker.NewDataflow("stall");
  auto [input, numbers] = NewInput<int>(graph);
  auto probe = ProbeStream(numbers.stream);
  input.Insert(1);
  // The input never advances past 0, so time 0 can never complete.
  EXPECT_FALSE(worker.StepWhile([&] { return probe.LessThan(1); }));
}

// A frontier probe waits like a reading one, yet is not a reader: the
// stream's one reader gets each message itself (the same buffer), not a
// copy made for the probe.
TEST(ProgressTest, FrontierProbeWaitsWithoutTakingData) {
  Worker worker;
  Graph& graph = worker.NewDataflow("frontier probe");
  auto [input, numbers] = NewInput<int>(graph);
  int64_t seen = 0;
  std::vector<const void*> sent, received;
  using Batch = std::vector<Update<int, uint64_t, int64_t>>;
  auto watched = InspectBatch(numbers, [&](const Batch& batch) {
    seen += static_cast<int64_t>(batch.size());
    sent.push_back(batch.data());
  });
  InspectBatch(watched,
               [&](const Batch& batch) { received.push_back(batch.data()); });
  auto probe = ProbeFrontier(watched.stream);
  int64_t inserted = 0;
  for (uint64_t round = 0; round < 20; ++round) {
    for (uint64_t i = 0; i <= round; ++i, ++inserted) {
      input.Insert(static_cast<int>(i));
    }
    input.AdvanceTo(round + 1);
    EXPECT_TRUE(probe.LessThan(round + 1));
    ASSERT_TRUE(worker.StepWhile([&] { return probe.LessThan(round + 1); }));
    EXPECT_EQ(seen, inserted) << "round " << round;
  }
  input.Close();
  ASSERT_TRUE(worker.StepWhile([&] { return !probe.Done(); }));
  EXPECT_EQ(sent.size(), 20u);
  EXPECT_EQ(received, sent);
}

// Many tiny rounds leave no residue in the progress bookkeeping.
TEST(ProgressTest, BookkeepingStaysBoundedOverManyRounds) {
  Worker worker;
  Graph& graph = worker.NewDataflow("rounds");
  auto [input, numbers] = NewInput<int>(graph);
  auto probe = ProbeStream(Map(numbers, [](int x) { return x; }).stream);
  size_t max_size = 0;
  for (uint64_t round = 0; round < 10000; ++round) {
    input.Insert(static_cast<int>(round));
    input.AdvanceTo(round + 1);
    ASSERT_TRUE(worker.StepWhile([&] { return probe.LessThan(round + 1); }));
    max_size = std::max(max_size, graph.tracker().bookkeeping_size());
  }
  EXPECT_LE(max_size, 2 * graph.tracker().num_targets());
}

}  // namespace
}  // namespace diffmesh
