// Workers: the same dataflow on N worker threads. Results must not depend on
// N (a large random graph under changes, compared update for update), a
// single hot key must still complete on 4 workers, many tiny rounds must not
// grow the progress bookkeeping, and closing the inputs must drain every
// worker.
#include "engine/runtime.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <random>
#include <tuple>
#include <utility>
#include <vector>

#include "engine/input.h"
#include "engine/probe.h"
#include "examples/graph_algorithms.h"
#include "gtest/gtest.h"
#include "operators/count.h"
#include "operators/exchange.h"
#include "operators/inspect.h"
#include "operators/join.h"
#include "operators/reduce.h"
#include "tests/status_matchers.h"
#include "tests/thread_cpus.h"
#include "tests/worker_layout.h"

namespace diffmesh {
namespace {

using graphs::Edge;
using graphs::Node;
using testing::RunOnLayout;
using testing::StatusIs;
using testing::WorkerLayout;
using testing::WorkerLayouts;

// Consolidated (data, time) -> diff of everything a dataflow emitted.
template <class D>
using Changes = std::map<std::pair<D, uint64_t>, int64_t>;

template <class D>
class Gather {
 public:
  void Add(const D& d, uint64_t t, int64_t r) {
    std::lock_guard<std::mutex> lock(mutex_);
    int64_t& slot = changes_[{d, t}];
    slot += r;
    if (slot == 0) changes_.erase({d, t});
  }
  Changes<D> Take() {
    std::lock_guard<std::mutex> lock(mutex_);
    return changes_;
  }

 private:
  std::mutex mutex_;
  Changes<D> changes_;
};

TEST(RuntimeTest, RejectsBadWorkerCounts) {
  EXPECT_THAT(Runtime::Execute(0, [](Worker&) {}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Runtime::Execute(Runtime::kMaxWorkers + 1, [](Worker&) {}),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

// A body returning a status reports a worker's failure; a worker that
// fails early (closing its inputs) does not hold up the others, which
// still compute the whole result.
TEST(RuntimeTest, AWorkersFailureIsReported) {
  std::atomic<int> finished{0};
  // Outlives the dataflows (workers step on after their bodies return).
  std::vector<int64_t> counted(3, 0);
  absl::Status status = Runtime::Execute(3, [&](Worker& worker) {
    const size_t w = static_cast<size_t>(worker.index());
    auto [input, numbers] = NewInput<uint32_t>(worker.NewDataflow("numbers"));
    auto probe = ProbeStream(
        Inspect(numbers, [&counted, w](uint32_t, uint64_t, int64_t r) {
          counted[w] += r;
        }).stream);
    if (w == 1) return absl::InvalidArgumentError("cannot read its share");
    for (uint32_t i = 0; i < 100; ++i) input.Insert(i);
    input.AdvanceTo(1);
    worker.StepWhile([&] { return probe.LessThan(1); });
    ++finished;
    return absl::OkStatus();
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "worker 1: cannot read its share");
  EXPECT_EQ(finished.load(), 2);
  EXPECT_EQ(counted, (std::vector<int64_t>{100, 0, 100}));
  EXPECT_TRUE(
      Runtime::Execute(2, [](Worker&) { return absl::OkStatus(); }).ok());
}

TEST(RuntimeTest, EveryWorkerRunsWithItsIndex) {
  std::mutex mutex;
  std::vector<std::pair<int, int>> seen;
  ASSERT_TRUE(Runtime::Execute(3, [&](Worker& worker) {
                std::lock_guard<std::mutex> lock(mutex);
                seen.emplace_back(worker.index(), worker.peers());
              }).ok());
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, (std::vector<std::pair<int, int>>{{0, 3}, {1, 3}, {2, 3}}));
}

using ::diffmesh::testing::ThreadCpus;

// Asked to pin, with at least as many CPUs as workers, each worker runs on
// a CPU of its own and the caller gets its mask back; DIFFMESH_PIN_WORKERS=0
// leaves the workers where the kernel puts them, and so does the default.
TEST(RuntimeTest, WorkersArePinnedToDistinctCpusWhenAsked) {
  const std::vector<int> caller = ThreadCpus();
  ASSERT_FALSE(caller.empty());
  const int workers = std::min<int>(2, static_cast<int>(caller.size()));
  std::mutex mutex;
  std::map<int, std::vector<int>> placed;
  auto record = [&](Worker& worker) {
    std::lock_guard<std::mutex> lock(mutex);
    placed[worker.index()] = ThreadCpus();
  };
  ASSERT_TRUE(Runtime::Execute(workers, {.pin_workers = true}, record).ok());
  ASSERT_EQ(placed.size(), static_cast<size_t>(workers));
  for (int i = 0; i < workers; ++i) {
    EXPECT_EQ(placed[i], std::vector<int>{caller[i]}) << "worker " << i;
  }
  EXPECT_EQ(ThreadCpus(), caller);

  ASSERT_EQ(setenv("DIFFMESH_PIN_WORKERS", "0", 1), 0);
  placed.clear();
  ASSERT_TRUE(Runtime::Execute(workers, {.pin_workers = true}, record).ok());
  unsetenv("DIFFMESH_PIN_WORKERS");
  for (int i = 0; i < workers; ++i) {
    EXPECT_EQ(placed[i], caller) << "worker " << i;
  }

  placed.clear();
  ASSERT_TRUE(Runtime::Execute(workers, record).ok());
  for (int i = 0; i < workers; ++i) {
    EXPECT_EQ(placed[i], caller) << "worker " << i << ", by default";
  }
}

// Bfs over a random graph whose edges change every round; all edges enter
// through the worker `feeder` (or, with feeder < 0, spread over all).
Changes<std::pair<Node, uint32_t>> RunBfs(int workers, int feeder,
                                          uint64_t seed) {
  constexpr Node kNodes = 400;
  constexpr int kEdges = 1200, kRounds = 15, kChangesPerRound = 25;
  Gather<std::pair<Node, uint32_t>> out;
  auto status = Runtime::Execute(workers, [&](Worker& worker) {
    Graph& graph = worker.NewDataflow("bfs");
    auto [roots, roots_coll] = NewInput<Node>(graph);
    auto [edges, edges_coll] = NewInput<Edge>(graph);
    auto result = Inspect(
        graphs::Bfs(roots_coll, edges_coll),
        [&](const auto& d, uint64_t t, int64_t r) { out.Add(d, t, r); });
    auto probe = ProbeStream(result.stream);
    std::mt19937_64 rng(seed);  // the same stream on every worker
    uint64_t n = 0;
    auto mine = [&] {
      uint64_t i = n++;
      return feeder >= 0
                 ? worker.index() == feeder
                 : static_cast<int>(i % worker.peers()) == worker.index();
    };
    std::vector<Edge> live;
    if (mine()) roots.Insert(0);
    for (int i = 0; i < kEdges; ++i) {
      Edge e{static_cast<Node>(rng() % kNodes),
             static_cast<Node>(rng() % kNodes)};
      live.push_back(e);
      if (mine()) edges.Insert(e);
    }
    for (uint64_t round = 1; round <= kRounds; ++round) {
      roots.AdvanceTo(round);
      edges.AdvanceTo(round);
      worker.StepWhile([&] { return probe.LessThan(round); });
      for (int c = 0; c < kChangesPerRound; ++c) {
        size_t victim = rng() % live.size();
        Edge fresh{static_cast<Node>(rng() % kNodes),
                   static_cast<Node>(rng() % kNodes)};
        if (mine()) edges.Remove(live[victim]);
        if (mine()) edges.Insert(fresh);
        live[victim] = fresh;
      }
      if (round == kRounds / 2 && mine()) roots.Insert(1);
    }
  });
  EXPECT_TRUE(status.ok()) << status;
  return out.Take();
}

// Every update reaches the worker that owns its key, whether its message
// went whole to one owner (all keys owned by one worker) or was split.
#if defined(__GLIBC__)
// The heaps glibc's allocator has made so far (malloc_info lists each).
int Heaps() {
  char* text = nullptr;
  size_t size = 0;
  FILE* out = open_memstream(&text, &size);
  malloc_info(0, out);
  std::fclose(out);
  int heaps = 0;
  for (const char* p = text; (p = std::strstr(p, "<heap nr=")) != nullptr; ++p)
    ++heaps;
  std::free(text);
  return heaps;
}

// Each worker allocates and frees buffers of a few sizes.
void Allocate(Worker& worker) {
  static std::atomic<uint64_t> sink{0};
  for (int i = 0; i < 64; ++i) {
    std::vector<uint8_t> buffer(size_t{1} << (10 + i % 8));
    buffer.back() = static_cast<uint8_t>(worker.index() + i);
    sink += buffer.back();
  }
}

// By default a worker's thread gets a heap of its own from glibc...
TEST(RuntimeTest, WorkersMakeHeapsOfTheirOwnByDefault) {
  if (Heaps() > 1) GTEST_SKIP() << "this process already has several heaps";
  ASSERT_TRUE(Runtime::Execute(2, Allocate).ok());
  EXPECT_GE(Heaps(), 2);
}

// ... and with one_heap every worker allocates from the main one.
TEST(RuntimeTest, WorkersShareOneHeapWhenAsked) {
  if (Heaps() > 1) GTEST_SKIP() << "this process already has several heaps";
  ASSERT_TRUE(Runtime::Execute(2, {.one_heap = true}, Allocate).ok());
  EXPECT_EQ(Heaps(), 1);
}
#endif

TEST(RuntimeTest, ExchangeDeliversEachUpdateToItsOwner) {
  constexpr int kWorkers = 3;
  // Keys owned by worker 2 only, then keys of every owner in one message.
  std::vector<uint32_t> one_owner, mixed;
  for (uint32_t k = 0; one_owner.size() < 20; ++k) {
    if (KeyHash(k) % kWorkers == 2) one_owner.push_back(k);
  }
  for (uint32_t k = 1000; k < 1060; ++k) mixed.push_back(k);
  std::mutex mutex;
  std::map<uint32_t, std::vector<int>> received;  // key -> workers it met
  ASSERT_TRUE(Runtime::Execute(kWorkers, [&](Worker& worker) {
                Graph& graph = worker.NewDataflow("exchange");
                auto [input, keys] = NewInput<uint32_t>(graph);
                auto owned =
                    Exchange(keys, [](uint32_t k) { return KeyHash(k); });
                auto seen =
                    Inspect(owned, [&](uint32_t k, uint64_t, int64_t r) {
                      std::lock_guard<std::mutex> lock(mutex);
                      for (int64_t i = 0; i < r; ++i)
                        received[k].push_back(worker.index());
                    });
                auto probe = ProbeStream(seen.stream);
                if (worker.index() == 0) {
                  for (uint32_t k : one_owner) input.Insert(k);
                  input.AdvanceTo(1);
                  input.Flush();
                  for (uint32_t k : mixed) input.Insert(k);
                }
                input.AdvanceTo(2);
                input.Close();
                worker.StepWhile([&] { return probe.LessThan(2); });
              }).ok());
  std::vector<uint32_t> all = one_owner;
  all.insert(all.end(), mixed.begin(), mixed.end());
  ASSERT_EQ(received.size(), all.size());
  std::vector<int> owners_seen(kWorkers, 0);
  for (uint32_t k : all) {
    int owner = static_cast<int>(KeyHash(k) % kWorkers);
    EXPECT_EQ(received[k], std::vector<int>{owner}) << "key " << k;
    ++owners_seen[owner];
  }
  for (int w = 0; w < kWorkers; ++w) EXPECT_GT(owners_seen[w], 0) << w;
}

// A diff that overflows on one worker is known to every worker once its
// frontier has passed the time, in one process or across three: the
// progress batch that reports the overflowing step says so. Worker 1 sends
// keys that worker 2 owns (and sums); worker 0 neither sends nor owns them.
// Reported once.
TEST(RuntimeTest, ADiffOverflowOnOneWorkerIsKnownToEveryWorker) {
  constexpr int kWorkers = 3;
  constexpr int64_t kHalf = int64_t{1} << 62;
  std::vector<uint32_t> keys;
  for (uint32_t k = 0; keys.size() < 2; ++k) {
    if (KeyHash(k) % kWorkers == 2) keys.push_back(k);
  }
  for (const WorkerLayout& layout : WorkerLayouts("3,3x1")) {
    // Per worker and time: whether TakeDiffOverflow held once it closed.
    std::vector<std::vector<int>> raised(kWorkers, std::vector<int>(3, -1));
    ASSERT_TRUE(
        RunOnLayout(layout,
                    [&](Worker& worker) {
                      const int w = worker.index();
                      Graph& graph = worker.NewDataflow("overflow");
                      auto [input, updates] = NewInput<uint32_t>(graph);
                      auto probe = ProbeStream(Count(updates).stream);
                      for (uint64_t t = 1; t <= 3; ++t) {
                        if (w == 1 && t == 1) {  // 2^62 + 2^62 - 1 < 2^63: fine
                          input.Update(keys[0], kHalf);
                          input.Update(keys[0], kHalf - 1);
                        }
                        if (w == 1 && t == 2) {  // 3 * 2^62 does not fit
                          for (int i = 0; i < 3; ++i)
                            input.Update(keys[1], kHalf);
                        }
                        input.AdvanceTo(t);
                        worker.StepWhile([&] { return probe.LessThan(t); });
                        raised[w][t - 1] = worker.TakeDiffOverflow() ? 1 : 0;
                      }
                      input.Close();
                    })
            .ok())
        << layout.Name();
    for (int w = 0; w < kWorkers; ++w) {
      EXPECT_EQ(raised[w], (std::vector<int>{0, 1, 0}))
          << layout.Name() << ", worker " << w;
    }
  }
}

TEST(RuntimeTest, BfsIsTheSameOnOneToFourWorkers) {
  for (uint64_t seed : {1, 2, 3}) {
    auto one = RunBfs(1, -1, seed);
    ASSERT_GT(one.size(), 100u) << "the workload should produce output";
    for (int workers : {2, 3, 4}) {
      EXPECT_EQ(RunBfs(workers, -1, seed), one)
          << workers << " workers, seed " << seed;
    }
    // Data may enter through any single worker.
    EXPECT_EQ(RunBfs(3, 2, seed), one) << "fed from worker 2, seed " << seed;
  }
}

// Every update on one key: one worker owns all the state, the others only
// route; counts and a self-join on the key must still be exact.
TEST(RuntimeTest, SingleHotKeyOnFourWorkers) {
  using Pair = std::pair<uint32_t, uint32_t>;
  Gather<std::pair<uint32_t, int64_t>> sums;
  Gather<uint32_t> joined;
  std::map<uint64_t, std::map<uint32_t, int64_t>> expected_values;  // by round
  constexpr uint64_t kRounds = 30;
  auto status = Runtime::Execute(4, [&](Worker& worker) {
    Graph& graph = worker.NewDataflow("hot");
    auto [input, pairs] = NewInput<Pair>(graph);
    auto sum =
        Reduce<int64_t>(pairs, [](const uint32_t&, const auto& in, auto* out) {
          int64_t total = 0;
          for (const auto& [v, r] : in) total += static_cast<int64_t>(v) * r;
          out->emplace_back(total, 1);
        });
    auto counted = Inspect(
        sum, [&](const auto& d, uint64_t t, int64_t r) { sums.Add(d, t, r); });
    auto self = JoinMap(pairs, pairs, [](uint32_t, uint32_t a, uint32_t b) {
      return a * 1000 + b;
    });
    auto shown = Inspect(self, [&](const uint32_t& d, uint64_t t, int64_t r) {
      joined.Add(d, t, r);
    });
    auto probe1 = ProbeStream(counted.stream);
    auto probe2 = ProbeStream(shown.stream);
    std::mt19937_64 rng(7);
    std::map<uint32_t, int64_t> values;
    for (uint64_t round = 0; round < kRounds; ++round) {
      for (int i = 0; i < 40; ++i) {
        uint32_t v = static_cast<uint32_t>(rng() % 50);
        int64_t diff = (values[v] > 0 && rng() % 3 == 0) ? -1 : 1;
        values[v] += diff;
        if (i % worker.peers() == worker.index()) input.Update({5, v}, diff);
      }
      if (worker.index() == 0) expected_values[round] = values;
      input.AdvanceTo(round + 1);
      worker.StepWhile([&] {
        return probe1.LessThan(round + 1) || probe2.LessThan(round + 1);
      });
    }
  });
  ASSERT_TRUE(status.ok()) << status;
  auto sum_changes = sums.Take();
  auto join_changes = joined.Take();
  for (uint64_t round = 0; round < kRounds; ++round) {
    std::map<std::pair<uint32_t, int64_t>, int64_t> got_sum;
    for (const auto& [dt, r] : sum_changes) {
      if (dt.second <= round) got_sum[dt.first] += r;
    }
    std::erase_if(got_sum, [](const auto& p) { return p.second == 0; });
    int64_t total = 0;
    std::map<uint32_t, int64_t> want_join;
    for (const auto& [v, m] : expected_values[round]) {
      total += static_cast<int64_t>(v) * m;
      for (const auto& [w, n] : expected_values[round]) {
        if (m * n != 0) want_join[v * 1000 + w] += m * n;
      }
    }
    EXPECT_EQ(
        got_sum,
        (std::map<std::pair<uint32_t, int64_t>, int64_t>{{{5u, total}, 1}}))
        << "round " << round;
    std::map<uint32_t, int64_t> got_join;
    for (const auto& [dt, r] : join_changes) {
      if (dt.second <= round) got_join[dt.first] += r;
    }
    std::erase_if(got_join, [](const auto& p) { return p.second == 0; });
    std::erase_if(want_join, [](const auto& p) { return p.second == 0; });
    EXPECT_EQ(got_join, want_join) << "round " << round;
  }
}

// 10,000 timestamps with a few updates each on 2 workers: the progress
// bookkeeping of every worker stays within a constant, and the counts are
// right at the end.
TEST(RuntimeTest, ManyTinyRoundsKeepBookkeepingBounded) {
  constexpr uint64_t kRounds = 10000;
  std::vector<size_t> max_bookkeeping(2, 0), targets(2, 0);
  Gather<std::pair<uint32_t, int64_t>> counts;
  auto status = Runtime::Execute(2, [&](Worker& worker) {
    Graph& graph = worker.NewDataflow("rounds");
    auto [input, keys] = NewInput<uint32_t>(graph);
    auto counted = Inspect(
        Count(keys),
        [&](const auto& d, uint64_t t, int64_t r) { counts.Add(d, t, r); });
    auto probe = ProbeStream(counted.stream);
    for (uint64_t round = 0; round < kRounds; ++round) {
      // Worker 0 inserts round % 7, worker 1 retracts it 7 rounds later.
      if (worker.index() == 0) input.Insert(round % 7);
      if (worker.index() == 1 && round >= 7) input.Remove(round % 7);
      input.AdvanceTo(round + 1);
      worker.StepWhile([&] { return probe.LessThan(round + 1); });
      max_bookkeeping[worker.index()] = std::max(
          max_bookkeeping[worker.index()], graph.tracker().bookkeeping_size());
    }
    targets[worker.index()] = graph.tracker().num_targets();
  });
  ASSERT_TRUE(status.ok()) << status;
  for (int w = 0; w < 2; ++w) {
    // A few live times per location at most (a peer may be one round
    // behind), whatever the number of rounds.
    EXPECT_LE(max_bookkeeping[w], 6 * targets[w]) << "worker " << w;
  }
  std::map<uint32_t, int64_t> final_counts;
  for (const auto& [dt, r] : counts.Take()) {
    if (r != 0) final_counts[dt.first.first] += dt.first.second * r;
  }
  // Each key was inserted ceil(10000/7) or floor times and retracted all but
  // its last 1 time: exactly one of each key remains.
  std::map<uint32_t, int64_t> want;
  for (uint32_t k = 0; k < 7; ++k) want[k] = 1;
  EXPECT_EQ(final_counts, want);
}

// Data still queued when the workers' bodies return is processed before
// Execute returns (the handles close on destruction and workers drain).
TEST(RuntimeTest, ClosingInputsDrainsEveryWorker) {
  for (int workers : {1, 2, 4}) {
    Gather<std::pair<uint32_t, int64_t>> counts;
    std::atomic<int> exited{0};
    auto status = Runtime::Execute(workers, [&](Worker& worker) {
      Graph& graph = worker.NewDataflow("drain");
      auto [input, keys] = NewInput<uint32_t>(graph);
      Inspect(Count(keys), [&](const auto& d, uint64_t t, int64_t r) {
        counts.Add(d, t, r);
      });
      for (uint32_t i = 0; i < 1000; ++i) input.Insert(i % 10);
      input.AdvanceTo(1);
      for (uint32_t i = 0; i < 500; ++i) input.Remove(i % 10);
      ++exited;
      // No step at all: everything happens in the drain.
    });
    ASSERT_TRUE(status.ok());
    EXPECT_EQ(exited.load(), workers);
    std::map<uint32_t, int64_t> at1;
    for (const auto& [dt, r] : counts.Take())
      at1[dt.first.first] += dt.first.second * r;
    for (uint32_t k = 0; k < 10; ++k) {
      EXPECT_EQ(at1[k], 50 * workers) << workers << " workers, key " << k;
    }
  }
}

}  // namespace
}  // namespace diffmesh
