// Workers across processes, stood up in one (LoopbackLinks): frames reach
// the right worker in order, frames for a channel not made yet wait for
// it, malformed batches are refused with the offset, and a run's failures
// reach every process.
#include "engine/process_link.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "engine/fabric.h"
#include "engine/runtime.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/status_matchers.h"
#include "tests/worker_layout.h"

namespace diffmesh {
namespace {

using Box = Mailbox<std::pair<int, std::string>>;
using ::testing::HasSubstr;
using testing::IsOk;

// A DataLoss status whose message contains `part`.
void ExpectDataLoss(const absl::Status& status, const std::string& part) {
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr(part));
}

// Pumps both fabrics until `done` holds (a few rounds suffice in memory).
template <class Done>
void PumpUntil(Fabric& a, Fabric& b, Done done) {
  for (int i = 0; i < 1000 && !done(); ++i) {
    a.Pump();
    b.Pump();
  }
}

TEST(ProcessLinkTest, MessagesCrossInOrderPerSender) {
  auto links = LoopbackLinks(2);
  Fabric here(2, links[0].get()), there(2, links[1].get());
  EXPECT_EQ(here.peers(), 4);
  EXPECT_EQ(here.first(), 0);
  EXPECT_EQ(there.first(), 2);
  EXPECT_TRUE(there.IsLocal(3));
  EXPECT_FALSE(there.IsLocal(1));
  auto out = here.Channel<Box>(ChannelKey{0, 1, 0});
  auto in = there.Channel<Box>(ChannelKey{0, 1, 0});
  const uint64_t seen = there.doorbell(2).Seen();
  for (int i = 0; i < 300; ++i) {
    out->Push(0, 2, {0, std::to_string(i)});
    out->Push(1, 2, {1, std::to_string(i)});
    out->Push(1, 3, {1, "to three " + std::to_string(i)});
  }
  out->Push(0, 1, {0, "local"});     // within a process: no frame
  EXPECT_FALSE(in->HasMessages(2));  // nothing moves before a pump
  PumpUntil(here, there, [&] { return in->HasMessages(2); });
  EXPECT_NE(there.doorbell(2).Seen(), seen);  // delivery rang
  std::vector<std::pair<int, std::string>> got;
  in->DrainInto(2, &got);
  ASSERT_EQ(got.size(), 600u);
  int next[2] = {0, 0};
  for (const auto& [from, text] : got) {
    EXPECT_EQ(text, std::to_string(next[from]++));
  }
  got.clear();
  in->DrainInto(3, &got);
  ASSERT_EQ(got.size(), 300u);
  EXPECT_EQ(got.back().second, "to three 299");
  got.clear();
  out->DrainInto(1, &got);
  EXPECT_EQ(got, (std::vector<std::pair<int, std::string>>{{0, "local"}}));
  EXPECT_FALSE(in->HasMessages(2));
}

// A broadcast is one frame per other process, handed to each of its
// workers; it keeps its order with the same sender's other messages.
TEST(ProcessLinkTest, ABroadcastIsOneFramePerProcess) {
  auto links = LoopbackLinks(3);
  Fabric a(2, links[0].get()), b(2, links[1].get()), c(2, links[2].get());
  auto out = a.Channel<Box>(ChannelKey{0, 4, 0});
  auto in_b = b.Channel<Box>(ChannelKey{0, 4, 0});
  auto in_c = c.Channel<Box>(ChannelKey{0, 4, 0});
  const uint64_t before = a.frames_sent();
  out->Push(0, 2, {0, "first"});
  out->Broadcast(0, {0, "all"});
  out->Push(0, 2, {0, "last"});
  EXPECT_EQ(a.frames_sent() - before, 4u) << "two pushes, one per process";
  for (int i = 0; i < 1000 && !(in_b->HasMessages(3) && in_c->HasMessages(5));
       ++i) {
    a.Pump();
    b.Pump();
    c.Pump();
  }
  using Got = std::vector<std::pair<int, std::string>>;
  Got got;
  in_b->DrainInto(2, &got);
  EXPECT_EQ(got, (Got{{0, "first"}, {0, "all"}, {0, "last"}}));
  for (auto [box, worker] : {std::pair{in_b, 3}, {in_c, 4}, {in_c, 5}}) {
    got.clear();
    box->DrainInto(worker, &got);
    EXPECT_EQ(got, (Got{{0, "all"}})) << "worker " << worker;
  }
  got.clear();
  out->DrainInto(1, &got);
  EXPECT_EQ(got, (Got{{0, "all"}})) << "a worker of the sender's process";
  EXPECT_FALSE(out->HasMessages(0)) << "not to the sender itself";
}

TEST(ProcessLinkTest, FramesForAChannelNotMadeYetWaitForIt) {
  auto links = LoopbackLinks(2);
  Fabric here(1, links[0].get()), there(1, links[1].get());
  auto out = here.Channel<Box>(ChannelKey{5, 2, 1});
  out->Push(0, 1, {0, "early"});
  here.Pump();
  there.Pump();  // arrives before `there` has built dataflow 5
  auto in = there.Channel<Box>(ChannelKey{5, 2, 1});
  ASSERT_TRUE(in->HasMessages(1));
  std::vector<std::pair<int, std::string>> got;
  in->DrainInto(1, &got);
  EXPECT_EQ(got, (std::vector<std::pair<int, std::string>>{{0, "early"}}));
}

std::string Frame(FrameHeader header, const std::string& body) {
  header.size = static_cast<uint32_t>(body.size());
  std::string bytes(reinterpret_cast<const char*>(&header), sizeof header);
  return bytes + body;
}

TEST(ProcessLinkTest, MalformedBatchesAreRefusedWithTheOffset) {
  int frames = 0;
  auto count = [&](const FrameHeader&, absl::string_view) { ++frames; };
  const std::string good = Frame({0, 1, 0, 0, 1, 0}, "abc");
  EXPECT_THAT(ParseFrames(good + good, 2, count), IsOk());
  EXPECT_EQ(frames, 2);
  ExpectDataLoss(ParseFrames(good + good.substr(0, 10), 2, count), "byte 27");
  std::string cut = good;
  cut.pop_back();
  ExpectDataLoss(ParseFrames(cut, 2, count), "says 3 bytes follow, but 2 do");
  ExpectDataLoss(ParseFrames(Frame({0, 1, 0, 0, 7, 0}, ""), 2, count),
                 "to worker 7, outside the run's 2");
  ExpectDataLoss(ParseFrames(Frame({0, 1, 0, 0, -2, 0}, ""), 2, count),
                 "to worker -2, outside the run's 2");
  ExpectDataLoss(ParseFrames(Frame({-4, 1, 0, 0, 1, 0}, ""), 2, count),
                 "names dataflow -4");
  // The whole frame before the cut one was handed over, nothing after.
  EXPECT_EQ(frames, 3);
  // A channel outside every dataflow (the mesh's relay) is no malformation.
  EXPECT_THAT(
      ParseFrames(Frame({kOutsideDataflows, 0, 0, 0, 1, 0}, "x"), 2, count),
      IsOk());
  EXPECT_EQ(frames, 4);
}

TEST(ProcessLinkTest, EveryProcessReturnsTheFirstFailureOfAnyProcess) {
  testing::WorkerLayout layout{3, 2};
  absl::Status status = testing::RunOnLayout(layout, [](Worker& worker) {
    if (worker.index() == 5) return absl::InvalidArgumentError("late");
    if (worker.index() == 3) return absl::NotFoundError("no such thing");
    return absl::OkStatus();
  });
  // RunOnLayout checks that all three processes returned this.
  EXPECT_EQ(status, absl::NotFoundError("worker 3 (process 1): no such thing"));
  EXPECT_THAT(testing::RunOnLayout(layout, [](Worker&) {}), IsOk());
}

TEST(ProcessLinkTest, GlobalWorkerIdsSpanTheProcesses) {
  std::mutex mu;
  std::vector<int> seen;
  ASSERT_THAT(testing::RunOnLayout({2, 3},
                                   [&](Worker& worker) {
                                     EXPECT_EQ(worker.peers(), 6);
                                     std::lock_guard<std::mutex> lock(mu);
                                     seen.push_back(worker.index());
                                   }),
              IsOk());
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, (std::vector<int>{0, 1, 2, 3, 4, 5}));
}

TEST(ProcessLinkTest, TheLaunchIsReadFromTheLaunchersEnvironment) {
  ASSERT_EQ(std::getenv("OMPI_COMM_WORLD_SIZE"), nullptr)
      << "run this test outside mpirun";
  EXPECT_EQ(LaunchedProcesses(), 1);
  EXPECT_EQ(LaunchedProcessIndex(), 0);
  setenv("PMI_SIZE", "4", 1);
  setenv("PMI_RANK", "2", 1);
  EXPECT_EQ(LaunchedProcesses(), 4);
  EXPECT_EQ(LaunchedProcessIndex(), 2);
  setenv("PMI_SIZE", "four", 1);
  EXPECT_EQ(LaunchedProcesses(), 1);
  unsetenv("PMI_SIZE");
  unsetenv("PMI_RANK");
}

#ifdef DIFFMESH_MPI_LOADED
// A program that never spans processes does not map the MPI library: it is
// loaded by the first run that mpirun launched (engine/mpi_link.cc).
TEST(ProcessLinkTest, ARunInOneProcessDoesNotLoadTheMpiLibrary) {
  ASSERT_EQ(std::getenv("OMPI_COMM_WORLD_SIZE"), nullptr)
      << "run this test outside mpirun";
  int ran = 0;
  std::mutex mu;
  ASSERT_THAT(Runtime::Execute(2,
                               [&](Worker&) {
                                 std::lock_guard<std::mutex> lock(mu);
                                 ++ran;
                               }),
              IsOk());
  EXPECT_EQ(ran, 2);
  std::ifstream maps("/proc/self/maps");
  ASSERT_TRUE(maps.good());
  std::string line;
  int mapped = 0;
  while (std::getline(maps, line)) {
    if (line.find(DIFFMESH_MPI_LOADED) != std::string::npos) ++mapped;
  }
  EXPECT_EQ(mapped, 0) << DIFFMESH_MPI_LOADED << " is mapped";
}
#endif

}  // namespace
}  // namespace diffmesh
